"""The coordinator's live view: the digest's figures at a moment, its progress chart, and the timeline.

Why a wrapper and not a second computation: the dashboard must say exactly what the
morning digest says (`schedules.digest.digest_data`, its change since yesterday
included, which compares with the previous digest's stored figures), so it calls the
digest's own function and only reshapes its document for a page. Nothing here writes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from cuiban.models import report_store, task_store
from cuiban.schedules.digest import digest_data
from cuiban.workflow.calendar import WorkingCalendar
from cuiban.workflow.clock import local_date
from cuiban.workflow.forms import Progress
from cuiban.workflow.plan.schema import Plan
from cuiban.workflow.plan.timeline import MilestoneView, monthly_occurrences, timeline
from cuiban.workflow.tasks import parse_task_key, task_key

SHOWN_TASKS = 200
"""At most this many tasks in each of the dashboard's task lists (2,000 departments overdue would be
a page nobody reads); the rest are counted, and each department's page lists its own."""


@dataclass(frozen=True)
class Totals:
    teachers: int
    filled: int
    not_filled: int
    reviewed: int
    not_reviewed: int
    filled_percent: int
    reviewed_percent: int
    filled_change: int
    reviewed_change: int


@dataclass(frozen=True)
class TaskList:
    """Tasks of one kind (overdue, due today, due this week): the first `SHOWN_TASKS` and how many."""

    shown: list[dict[str, Any]]
    count: int

    @property
    def more(self) -> int:
        return self.count - len(self.shown)


@dataclass(frozen=True)
class Dashboard:
    date: str
    generated_at: str
    totals: Totals
    units: list[dict[str, Any]]
    """Per department, the digest's line: unit_id, name, teachers, filled, not_filled, reviewed,
    not_reviewed, filled_percent, filled_change, reviewed_change."""
    overdue: TaskList
    due_today: TaskList
    due_this_week: TaskList
    failed_messages: list[dict[str, Any]]
    late_messages: int
    data: dict[str, Any] = field(repr=False)
    """The digest's document itself, as `digest_data` returned it."""


def dashboard(engine: Engine, plan: Plan, calendar: WorkingCalendar, now: datetime) -> Dashboard:
    """The digest at `now`, read in one connection: the same queries, so the same figures."""
    with engine.connect() as connection:
        data = digest_data(connection, plan, calendar, now)
    return shaped(data)


def shaped(data: dict[str, Any]) -> Dashboard:
    """The digest's document as a page wants it: totals with their change, task lists capped."""
    units = data["units"]
    totals = data["totals"]
    return Dashboard(
        date=data["date"],
        generated_at=data["generated_at"],
        totals=Totals(
            teachers=totals["teachers"],
            filled=totals["filled"],
            not_filled=totals["teachers"] - totals["filled"],
            reviewed=totals["reviewed"],
            not_reviewed=totals["teachers"] - totals["reviewed"],
            filled_percent=totals["filled_percent"],
            reviewed_percent=totals["reviewed_percent"],
            filled_change=sum(u["filled_change"] for u in units),
            reviewed_change=sum(u["reviewed_change"] for u in units),
        ),
        units=units,
        overdue=_capped(data["overdue"]),
        due_today=_capped(data["due_today"]),
        due_this_week=_capped(data["due_this_week"]),
        failed_messages=data["failed_messages"],
        late_messages=data["late_messages"],
        data=data,
    )


def _capped(tasks: list[dict[str, Any]]) -> TaskList:
    """The first tasks, each with its unit's id (for a link to the department's page)."""
    shown = [{**t, "unit_id": parse_task_key(t["task"])[1]} for t in tasks[:SHOWN_TASKS]]
    return TaskList(shown, len(tasks))


def progress(engine: Engine, plan: Plan, now: datetime) -> Progress:
    """The digest chart's figures: entered teachers per department at the end of each day."""
    with engine.connect() as connection:
        return report_store.progress(connection, plan, now)


@dataclass(frozen=True)
class TimelineEntry:
    """A milestone as `cuiban plan timeline` sees it, with its tasks and how many are in each state."""

    view: MilestoneView
    due_rule: dict[str, Any]
    """How the plan states the due date: {"kind": …} plus the rule's figures (relative, monthly)."""
    tasks: list[dict[str, Any]]
    """Its tasks (key, unit_id, occurrence, state, escalation_level, due_date), at most SHOWN_TASKS."""
    task_states: dict[str, int]
    task_count: int

    @property
    def more(self) -> int:
        return self.task_count - len(self.tasks)


def plan_timeline(
    engine: Engine, plan: Plan, calendar: WorkingCalendar, now: datetime
) -> list[TimelineEntry]:
    """Every milestone at `now` with the completion dates the tasks record (so relative milestones
    get their dates, as the scheduler sees them), and each task's state."""
    with engine.connect() as connection:
        completed = task_store.completion_dates(connection, plan)
        rows = task_store.rows(connection, cycle=plan.cycle)
    by_milestone: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_milestone.setdefault(row["milestone_id"], []).append(row)
    entries = []
    for view in timeline(plan, calendar, now, completed):
        tasks = by_milestone.get(view.id, [])
        entries.append(
            TimelineEntry(
                view=view,
                due_rule=_due_rule(plan, view.id),
                tasks=[_task(t, plan.timezone) for t in tasks[:SHOWN_TASKS]],
                task_states=dict(Counter(t["state"] for t in tasks)),
                task_count=len(tasks),
            )
        )
    return entries


def _task(row: dict[str, Any], tz: str) -> dict[str, Any]:
    return {
        "key": task_key(row["milestone_id"], row["unit_id"], row["occurrence"]),
        "unit_id": row["unit_id"],
        "occurrence": row["occurrence"],
        "state": row["state"],
        "escalation_level": row["escalation_level"],
        "due_date": local_date(row["due_at"], tz) if row["due_at"] else None,
    }


def _due_rule(plan: Plan, milestone_id: str) -> dict[str, Any]:
    milestone = plan.milestones[milestone_id]
    if milestone.after is not None:
        anchor = plan.milestones.get(milestone.after.milestone)
        return {
            "kind": "relative",
            "anchor": anchor.title if anchor else milestone.after.milestone,
            "days": milestone.after.days,
            "working_days": milestone.after.working_days,
        }
    if milestone.monthly is not None:
        spec = milestone.monthly
        return {
            "kind": "monthly",
            "day": spec.day,
            "from": spec.from_,
            "until": spec.until,
            "occurrences": monthly_occurrences(milestone),
        }
    return {"kind": "undated" if milestone.undated else ("window" if milestone.start else "due")}
