"""Unit tasks: listed with their milestone and unit, marked done by hand."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy import Connection, Engine

from cuiban.models import log_store, task_store
from cuiban.models.unit_of_work import transaction
from cuiban.services.cycles import is_current, writable
from cuiban.services.rejection import Refusal
from cuiban.workflow.calendar import WorkingCalendar
from cuiban.workflow.clock import local_iso
from cuiban.workflow.plan.schema import Plan
from cuiban.workflow.task_machine import FINISHED
from cuiban.workflow.tasks import task_key


class TaskNotFound(Refusal, LookupError):
    pass


class DerivedTask(Refusal):
    """A derived task completes by its teachers' states, never by hand."""


class AlreadyDone(Refusal):
    """The task (every occurrence asked for) is finished already."""


@dataclass(frozen=True)
class TaskLine:
    key: str
    milestone_id: str
    title: str
    unit_id: str
    unit: str
    occurrence: str
    state: str
    escalation_level: int
    due: datetime | None
    completed_at: datetime | None
    completed_by: str | None


def list_tasks(
    engine: Engine, plan: Plan, calendar: WorkingCalendar, now: datetime, unit: str | None = None
) -> list[TaskLine]:
    if unit is not None and unit not in plan.units:
        raise TaskNotFound(f"unknown unit {unit!r}; units: {', '.join(plan.units)}")
    with transaction(engine) as connection:
        if is_current(connection, plan, now):  # an older cycle's tasks are only read
            task_store.ensure(connection, plan, calendar, now)
        rows = task_store.rows(connection, unit, cycle=plan.cycle)
    return [
        TaskLine(
            task_key(r["milestone_id"], r["unit_id"], r["occurrence"]),
            r["milestone_id"],
            plan.milestones[r["milestone_id"]].title if r["milestone_id"] in plan.milestones else "",
            r["unit_id"],
            plan.units[r["unit_id"]].name if r["unit_id"] in plan.units else r["unit_id"],
            r["occurrence"],
            r["state"],
            r["escalation_level"],
            r["due_at"],
            r["completed_at"],
            r["completed_by"],
        )
        for r in rows
    ]


def mark_done(
    engine: Engine,
    plan: Plan,
    calendar: WorkingCalendar,
    milestone: str,
    unit: str,
    now: datetime,
    *,
    occurrence: str | None = None,
    actor: str | None = None,
    note: str | None = None,
    source: str = "cli",
    also: Callable[[Connection, str], None] | None = None,
) -> str:
    """Complete a manual task (done, or done_late past its due time); the state it ends in.

    `source` says where the request came from in the log ("cli", "web"); `also(connection, key)`
    runs in the same transaction once the task is saved (the web page records an evidence file
    there), so the completion and what goes with it are written together or not at all.
    Refused (log_store.OutOfOrder) when `now` is before the task's last log entry."""
    spec = plan.milestones.get(milestone)
    if spec is None:
        raise TaskNotFound(f"unknown milestone {milestone!r}; milestones: {', '.join(plan.milestones)}")
    if spec.completion == "derived":
        raise DerivedTask(
            f"{milestone} completes by itself when every teacher has reached {spec.teachers_at_least}"
        )
    with transaction(engine) as connection:
        writable(connection, plan, now)
        task_store.ensure(connection, plan, calendar, now)
        states = task_store.states(connection, [milestone], cycle=plan.cycle)
        candidates = [t for t in states if t.unit_id == unit]
        if occurrence is not None:
            candidates = [t for t in candidates if t.occurrence == occurrence]
        open_ones = [t for t in candidates if t.state not in FINISHED]
        if not candidates:
            raise TaskNotFound(f"{milestone} has no task for unit {unit!r}")
        if not open_ones:
            raise AlreadyDone(f"{task_key(milestone, unit, occurrence or '')} is already done")
        loaded = open_ones[0]
        task = loaded.machine()
        log_store.refuse_before_last(connection, "task", task.key, now, partial(local_iso, tz=plan.timezone))
        task.finish(now, note or None)
        task_store.save(connection, loaded, task, now, source, actor)
        if also is not None:
            also(connection, task.key)
    return task.state
