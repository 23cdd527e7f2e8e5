"""SLA figures per department, as a service desk reports them: tasks on time or late, working days late,
and how long teachers took between two stages.

Pure: the rows come in (tasks with their state at `now` from the log, counts of teachers per pair of
first-reached moments), the figures come out; `now` and the calendar are parameters.

The rules (docs/sla.md says them for office staff):
- A task's outcome at `now` is read from its newest log entry by `now`: `done` is on time, `done_late`
  late; not finished and past its due time is overdue (also before the tick has marked it); the rest
  (not yet due, or no due time) is pending.
- Working days late: from the due date to the completion date (a late task) or to `now`'s date (an
  overdue one), `WorkingCalendar.working_days_between` in the plan's timezone.
- A stage span (account issued → submitted, submitted → reviewed) is measured for each teacher who
  reached both ends by `now`. A stage is reached the first time the record entered that state or any
  later one of the progress order (`PROGRESS_RANK`): a status export that moves a record straight
  past a state counts as reaching it at the same moment.
- Medians are of the per-task or per-teacher values (the mean of the two middle ones for an even
  count), rounded to one decimal (Python's `round`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pendulum

from cuiban.workflow.calendar import WorkingCalendar
from cuiban.workflow.clock import local_date

ON_TIME, LATE, OVERDUE, PENDING = "on_time", "late", "overdue", "pending"
OUTCOMES = (ON_TIME, LATE, OVERDUE, PENDING)
SPANS = (("account_issued", "submitted"), ("submitted", "reviewed"))
"""The stage spans measured, as (from, to) states of the progress order."""


@dataclass(frozen=True)
class TaskAt:
    """A task as of `now`: its state then (None: no log entry by then) and when it got there."""

    milestone_id: str
    unit_id: str
    due: datetime | None
    state: str | None
    state_at: datetime | None


@dataclass(frozen=True)
class Outcome:
    outcome: str
    working_days_late: int | None
    """Set for late and overdue tasks only."""


@dataclass(frozen=True)
class SpanCount:
    """`teachers` of `unit_id` who reached the span's start at `start` and its end at `end`."""

    unit_id: str
    start: datetime
    end: datetime
    teachers: int


@dataclass(frozen=True)
class Span:
    teachers: int
    median_days: float | None
    """Calendar days, one decimal."""
    median_working_days: float | None


@dataclass
class Tally:
    """Task outcomes of one department (or one department's milestone)."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    days_late: list[int] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        self.counts[outcome.outcome] += 1
        if outcome.working_days_late is not None:
            self.days_late.append(outcome.working_days_late)

    @property
    def late_sum(self) -> int:
        return sum(self.days_late)

    @property
    def late_median(self) -> float | None:
        return median([(d, 1) for d in self.days_late])

    @property
    def late_max(self) -> int | None:
        return max(self.days_late, default=None)


@dataclass(frozen=True)
class DepartmentSla:
    unit_id: str
    tasks: Tally
    spans: tuple[Span, ...]
    """One per `SPANS`, in that order."""


@dataclass(frozen=True)
class SlaFigures:
    now: datetime
    departments: list[DepartmentSla]
    milestones: dict[tuple[str, str], Tally]
    """(milestone, unit) → its tasks' outcomes, for every unit with tasks (offices too)."""


def outcome(task: TaskAt, now: datetime, calendar: WorkingCalendar, tz: str) -> Outcome:
    """What the task's state at `now` says about its deadline."""
    if task.state == "done":
        return Outcome(ON_TIME, None)
    if task.state == "done_late":
        late = _late(task.due, task.state_at, calendar, tz) if task.due and task.state_at else None
        return Outcome(LATE, late)
    if task.due is not None and now > task.due:
        return Outcome(OVERDUE, _late(task.due, now, calendar, tz))
    return Outcome(PENDING, None)


def _late(due: datetime, then: datetime, calendar: WorkingCalendar, tz: str) -> int:
    return calendar.working_days_between(local_date(due, tz), local_date(then, tz))


def median(weighted: Iterable[tuple[float, int]]) -> float | None:
    """The median of values given with how many times each occurs, one decimal; None when empty."""
    ordered = sorted((v, n) for v, n in weighted if n > 0)
    total = sum(n for _, n in ordered)
    if total == 0:
        return None
    middle = ((total - 1) // 2, total // 2)
    picked: list[float] = []
    seen = 0
    for value, n in ordered:
        picked += [value for position in middle if seen <= position < seen + n]
        seen += n
    return round(sum(picked) / 2, 1)


def span(counts: Sequence[SpanCount], calendar: WorkingCalendar, tz: str) -> Span:
    """Teachers measured and the median calendar and working days of one span."""
    days = [((c.end - c.start).total_seconds() / 86400, c.teachers) for c in counts]
    working = [(float(_late(c.start, c.end, calendar, tz)), c.teachers) for c in counts]
    return Span(sum(c.teachers for c in counts), median(days), median(working))


def figures(
    tasks: Iterable[TaskAt],
    span_counts: Sequence[Sequence[SpanCount]],
    departments: Sequence[str],
    now: datetime,
    calendar: WorkingCalendar,
    tz: str,
) -> SlaFigures:
    """Every department's figures (in `departments` order) and every (milestone, unit)'s outcomes.

    `span_counts` holds one sequence per `SPANS`."""
    now = pendulum.instance(now)
    by_unit: dict[str, Tally] = defaultdict(Tally)
    by_milestone: dict[tuple[str, str], Tally] = defaultdict(Tally)
    for task in tasks:
        result = outcome(task, now, calendar, tz)
        by_unit[task.unit_id].add(result)
        by_milestone[(task.milestone_id, task.unit_id)].add(result)
    spans_by_unit: list[dict[str, list[SpanCount]]] = []
    for counts in span_counts:
        grouped: dict[str, list[SpanCount]] = defaultdict(list)
        for c in counts:
            grouped[c.unit_id].append(c)
        spans_by_unit.append(grouped)
    rows = [
        DepartmentSla(uid, by_unit[uid], tuple(span(g.get(uid, []), calendar, tz) for g in spans_by_unit))
        for uid in departments
    ]
    return SlaFigures(now, rows, dict(by_milestone))


def digest_lines(found: SlaFigures, names: Mapping[str, str]) -> list[dict[str, Any]]:
    """One plain line per department for the final digest (its template takes dicts): tasks on time,
    late (and their working days late in all), still overdue; the median days of each stage span."""
    lines = []
    for department in found.departments:
        counts = department.tasks.counts
        lines.append(
            {
                "name": names.get(department.unit_id, department.unit_id),
                "on_time": counts[ON_TIME],
                "late": counts[LATE],
                "overdue": counts[OVERDUE],
                "days_late": department.tasks.late_sum,
                "to_submitted": department.spans[0].median_days,
                "to_reviewed": department.spans[1].median_days,
            }
        )
    return lines
