"""What the SLA figures read from the transition log: each task's state at a moment, and when each
teacher first reached the stages of a span, counted per department in SQL.

A cycle's entries are those logged from its start (the first cycle: from the beginning) until the
next cycle starts: task keys and staff IDs recur from year to year, and a new cycle logs every
teacher back to the first state at its start.

The teacher part is one grouped scan of the log: each teacher's first moment at or past each
stage (MIN over a CASE per stage, GROUP BY record_key), joined to the teacher for the department
and grouped again by (department, moments), so what reaches Python is one row per distinct
combination of moments (status exports apply at a few moments), not one per teacher.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, case, func, select

from cuiban.models import cycle_store, task_store
from cuiban.models.tables import Teacher, TransitionLog
from cuiban.models.utc import UTCDateTime
from cuiban.workflow.calendar import WorkingCalendar
from cuiban.workflow.plan.schema import Plan
from cuiban.workflow.sla import SPANS, SlaFigures, SpanCount, TaskAt, figures
from cuiban.workflow.teacher_states import states_at_least

LOG = TransitionLog.__table__
TEACHER = Teacher.__table__
STAGES = tuple(dict.fromkeys(state for pair in SPANS for state in pair))


@dataclass(frozen=True)
class Window:
    """The log entries of one cycle up to a moment: start <= at < end, at <= now (None: no bound)."""

    start: datetime | None
    end: datetime | None
    now: datetime

    def where(self) -> Any:
        conditions = [LOG.c.at <= self.now]
        if self.start is not None:
            conditions.append(LOG.c.at >= self.start)
        if self.end is not None:
            conditions.append(LOG.c.at < self.end)
        return and_(*conditions)


def window(connection: Connection, cycle: int, now: datetime) -> Window:
    """The log window of `cycle` up to `now` (a database without cycles: the whole log)."""
    cycles = cycle_store.all_cycles(connection)
    numbers = [c["cycle"] for c in cycles]
    if cycle not in numbers:
        return Window(None, None, now)
    n = numbers.index(cycle)
    start = cycles[n]["started_at"] if n > 0 else None
    end = cycles[n + 1]["started_at"] if n + 1 < len(cycles) else None
    return Window(start, end, now)


def _key(row: Mapping[str, Any]) -> str:
    parts = [row["milestone_id"], row["unit_id"]] + ([row["occurrence"]] if row["occurrence"] else [])
    return "/".join(parts)


def tasks_at(connection: Connection, cycle: int, within: Window) -> list[TaskAt]:
    """The cycle's tasks with the state and time of each one's newest log entry in the window."""
    newest = (
        select(func.max(LOG.c.id))
        .where(LOG.c.record_kind == "task", within.where())
        .group_by(LOG.c.record_key)
    )
    query = select(LOG.c.record_key, LOG.c.to_state, LOG.c.at).where(LOG.c.id.in_(newest))
    last = {key: (state, at) for key, state, at in connection.execute(query)}
    found = []
    for row in task_store.rows(connection, cycle=cycle):
        state, at = last.get(_key(row), (None, None))
        found.append(TaskAt(row["milestone_id"], row["unit_id"], row["due_at"], state, at))
    return found


def span_counts(connection: Connection, within: Window) -> list[list[SpanCount]]:
    """Per span of `SPANS`: teachers per (department, start moment, end moment) who reached both."""
    firsts = [
        func.min(case((LOG.c.to_state.in_(states_at_least(stage)), LOG.c.at)), type_=UTCDateTime()).label(
            stage
        )
        for stage in STAGES
    ]
    first = (
        select(LOG.c.record_key.label("staff_id"), *firsts)
        .where(
            LOG.c.record_kind == "teacher",
            LOG.c.to_state.in_(states_at_least(STAGES[0])),  # 1/3 fewer rows to group (no imports)
            within.where(),
        )
        .group_by(LOG.c.record_key)
        .subquery("first")
    )
    moments = [first.c[stage] for stage in STAGES]
    query = (
        select(TEACHER.c.unit_id, *moments, func.count())
        .select_from(first.join(TEACHER, TEACHER.c.staff_id == first.c.staff_id))
        .group_by(TEACHER.c.unit_id, *moments)
    )
    spans: list[list[SpanCount]] = [[] for _ in SPANS]
    for unit_id, *reached, teachers in connection.execute(query):
        at = dict(zip(STAGES, reached, strict=True))
        for n, (start, end) in enumerate(SPANS):
            if at[start] is not None and at[end] is not None:
                spans[n].append(SpanCount(unit_id, at[start], at[end], int(teachers)))
    return spans


def figures_at(connection: Connection, plan: Plan, calendar: WorkingCalendar, now: datetime) -> SlaFigures:
    """The plan's cycle's SLA figures as of `now`: what `report sla`, the web page and the final
    digest show, read here once so that all three say the same."""
    within = window(connection, plan.cycle, now)
    tasks = tasks_at(connection, plan.cycle, within)
    spans = span_counts(connection, within)
    return figures(tasks, spans, plan.departments(), now, calendar, plan.timezone)
