"""Unit tasks: created from the plan, loaded as `TaskState`s, their machines' changes saved in bulk.

The store decides nothing: which tasks complete by their teachers' states is
`workflow.completion`, what a tick does to a task `workflow.tick_decisions`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import pendulum
from sqlalchemy import Connection, and_, bindparam, insert, or_, select, update

from cuiban.models import log_store
from cuiban.models.cycle_store import in_cycle
from cuiban.models.tables import Task
from cuiban.workflow.calendar import WorkingCalendar
from cuiban.workflow.plan.schema import Plan
from cuiban.workflow.task_machine import FINISHED, UnitTask
from cuiban.workflow.tasks import TaskState, task_specs

TASK = Task.__table__


def rows(
    connection: Connection,
    unit: str | None = None,
    milestones: Iterable[str] | None = None,
    cycle: int | None = None,
) -> list[dict[str, Any]]:
    """Every task of `cycle` (None: the current one) (of `unit`, of `milestones` when given), in
    creation order."""
    query = select(TASK).where(in_cycle(TASK.c.cycle, cycle)).order_by(TASK.c.id)
    if unit is not None:
        query = query.where(TASK.c.unit_id == unit)
    if milestones is not None:
        query = query.where(TASK.c.milestone_id.in_(list(milestones)))
    return [dict(r._mapping) for r in connection.execute(query)]


def completion_dates(
    connection: Connection, plan: Plan, loaded: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The local date each milestone was completed, for milestones whose every task is finished
    (from the plan's cycle's task rows `loaded` already, when given)."""
    by_milestone: dict[str, list[dict[str, Any]]] = {}
    for row in rows(connection, cycle=plan.cycle) if loaded is None else loaded:
        by_milestone.setdefault(row["milestone_id"], []).append(row)
    done = {}
    for mid, tasks in by_milestone.items():
        if tasks and all(t["state"] in FINISHED and t["completed_at"] for t in tasks):
            last = max(t["completed_at"] for t in tasks)
            done[mid] = pendulum.instance(last).in_timezone(plan.timezone).date()
    return done


def ensure(connection: Connection, plan: Plan, calendar: WorkingCalendar, now: datetime) -> None:
    """Create the plan's missing tasks (in the plan's cycle) and keep due times in step with the plan;
    idempotent."""
    new, moved = _out_of_step(connection, plan, calendar)
    if new:
        connection.execute(insert(TASK), [{**row, "updated_at": now} for row in new])
    for task_id, due in moved:
        connection.execute(update(TASK).where(TASK.c.id == task_id).values(due_at=due))


def in_step(connection: Connection, plan: Plan, calendar: WorkingCalendar) -> bool:
    """Whether `ensure` would change nothing: the tick reads this first, so that its transaction
    holds the write lock for that work only when there is some (a first tick, an edited plan)."""
    new, moved = _out_of_step(connection, plan, calendar)
    return not new and not moved


def _out_of_step(
    connection: Connection, plan: Plan, calendar: WorkingCalendar
) -> tuple[list[dict[str, Any]], list[tuple[int, datetime | None]]]:
    """The plan's tasks not in the database yet (rows to insert), and the ids of those whose due time
    the plan has moved, with the new one."""
    loaded = rows(connection, cycle=plan.cycle)
    existing = {(r["milestone_id"], r["unit_id"], r["occurrence"]): r for r in loaded}
    specs = task_specs(plan, calendar, completion_dates(connection, plan, loaded))
    new = [
        {
            "cycle": plan.cycle,
            "milestone_id": s.milestone_id,
            "unit_id": s.unit_id,
            "occurrence": s.occurrence,
            "state": "upcoming",
            "escalation_level": 0,
            "due_at": s.due,
        }
        for s in specs
        if (s.milestone_id, s.unit_id, s.occurrence) not in existing
    ]
    moved = []
    for spec in specs:
        row = existing.get((spec.milestone_id, spec.unit_id, spec.occurrence))
        if row is not None and row["due_at"] != spec.due:
            moved.append((row["id"], spec.due))
    return new, moved


def find(
    connection: Connection, milestone: str, unit: str, occurrence: str = "", cycle: int | None = None
) -> dict[str, Any] | None:
    """One task of `cycle` (None: the current one)."""
    query = select(TASK).where(
        TASK.c.milestone_id == milestone,
        TASK.c.unit_id == unit,
        TASK.c.occurrence == occurrence,
        in_cycle(TASK.c.cycle, cycle),
    )
    row = connection.execute(query).first()
    return dict(row._mapping) if row else None


def state_of(row: Mapping[str, Any]) -> TaskState:
    """A loaded row as the domain reads it."""
    return TaskState(
        row["id"],
        row["milestone_id"],
        row["unit_id"],
        row["occurrence"],
        row["state"],
        row["escalation_level"],
        row["due_at"],
        row["completed_at"],
        row["completed_by"],
    )


def states(
    connection: Connection, milestones: Iterable[str] | None = None, cycle: int | None = None
) -> list[TaskState]:
    """Every task of `cycle` (None: the current one; of `milestones` when given), in creation order,
    as the domain reads it."""
    return [state_of(row) for row in rows(connection, milestones=milestones, cycle=cycle)]


def save(
    connection: Connection, loaded: TaskState, task: UnitTask, now: datetime, source: str, actor: str | None
) -> None:
    """Write the task's new state and log what happened to it."""
    save_many(connection, [(loaded, task)], now, source, actor)


def unmoved(connection: Connection, loaded: Sequence[TaskState]) -> set[int]:
    """The ids of `loaded` tasks still in the state and escalation level they were loaded in: a tick
    writes a task's transitions only then (under the tick lock), so two ticks deciding the same task
    from the same row never both record its escalation."""
    found: set[int] = set()
    wanted = {task.id: (task.state, task.escalation_level) for task in loaded}
    ids = list(wanted)
    for start in range(0, len(ids), 1000):
        query = select(TASK.c.id, TASK.c.state, TASK.c.escalation_level).where(
            TASK.c.id.in_(ids[start : start + 1000])
        )
        found.update(i for i, state, level in connection.execute(query) if wanted[i] == (state, level))
    return found


def save_many(
    connection: Connection,
    changed: list[tuple[TaskState, UnitTask]],
    now: datetime,
    source: str,
    actor: str | None = None,
) -> None:
    """Write tasks' new states (one executemany) and log what happened (one append).

    A task finished now records `now` and `actor`; one still finished keeps its record.
    """
    if not changed:
        return
    statement = (
        update(TASK)
        .where(TASK.c.id == bindparam("b_id"))
        .values(
            state=bindparam("b_state"),
            escalation_level=bindparam("b_level"),
            updated_at=bindparam("b_at"),
            completed_at=bindparam("b_completed_at"),
            completed_by=bindparam("b_completed_by"),
        )
    )
    rows, log = [], []
    for loaded, task in changed:
        finished_now = task.state in FINISHED and loaded.state not in FINISHED
        completed_at = now if finished_now else (loaded.completed_at if task.state in FINISHED else None)
        completed_by = actor if finished_now else (loaded.completed_by if task.state in FINISHED else None)
        rows.append(
            {
                "b_id": loaded.id,
                "b_state": task.state,
                "b_level": task.escalation_level,
                "b_at": now,
                "b_completed_at": completed_at,
                "b_completed_by": completed_by,
            }
        )
        log += [
            log_store.Entry("task", task.key, h.source, h.dest, h.event, source, h.at, actor, h.note)
            for h in task.happened
        ]
    connection.execute(statement, rows)
    log_store.append(connection, log)


def open_with_due(
    connection: Connection,
    cycle: int | None = None,
    due_window: tuple[datetime, datetime] | None = None,
) -> list[dict[str, Any]]:
    """The tasks of `cycle` (None: the current one) not finished that have a due time (what a digest
    lists): only the columns it shows, the finished ones left in the database. With `due_window`
    (from, before): only the overdue ones and those due in it (a digest's today and this week; the
    thousands due later stay in the database too)."""
    columns = [
        TASK.c[name]
        for name in ("milestone_id", "unit_id", "occurrence", "state", "due_at", "escalation_level")
    ]
    query = select(*columns).where(
        TASK.c.state.not_in(sorted(FINISHED)), TASK.c.due_at.is_not(None), in_cycle(TASK.c.cycle, cycle)
    )
    if due_window is not None:
        start, before = due_window
        query = query.where(
            or_(TASK.c.state == "overdue", and_(TASK.c.due_at >= start, TASK.c.due_at < before))
        )
    return [dict(r._mapping) for r in connection.execute(query.order_by(TASK.c.id))]
