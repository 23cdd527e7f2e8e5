"""Unit tasks: created from the plan, read and written one at a time, derived ones refreshed in bulk."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import pendulum
from sqlalchemy import Connection, bindparam, insert, select, update

from cuiban.models import log_store, teacher_store
from cuiban.models.tables import Task
from cuiban.workflow.calendar import WorkingCalendar
from cuiban.workflow.plan.schema import Plan
from cuiban.workflow.task_machine import FINISHED, UnitTask
from cuiban.workflow.tasks import responsible_units, task_specs
from cuiban.workflow.teacher_states import states_at_least

TASK = Task.__table__


def rows(connection: Connection, unit: str | None = None) -> list[dict[str, Any]]:
    query = select(TASK).order_by(TASK.c.id)
    if unit is not None:
        query = query.where(TASK.c.unit_id == unit)
    return [dict(r._mapping) for r in connection.execute(query)]


def completion_dates(connection: Connection, plan: Plan) -> dict[str, Any]:
    """The local date each milestone was completed, for milestones whose every task is finished."""
    by_milestone: dict[str, list[dict[str, Any]]] = {}
    for row in rows(connection):
        by_milestone.setdefault(row["milestone_id"], []).append(row)
    done = {}
    for mid, tasks in by_milestone.items():
        if tasks and all(t["state"] in FINISHED and t["completed_at"] for t in tasks):
            last = max(t["completed_at"] for t in tasks)
            done[mid] = pendulum.instance(last).in_timezone(plan.timezone).date()
    return done


def ensure(connection: Connection, plan: Plan, calendar: WorkingCalendar, now: datetime) -> None:
    """Create the plan's missing tasks and keep due times in step with the plan; idempotent."""
    existing = {(r["milestone_id"], r["unit_id"], r["occurrence"]): r for r in rows(connection)}
    specs = task_specs(plan, calendar, completion_dates(connection, plan))
    new = [
        {
            "milestone_id": s.milestone_id,
            "unit_id": s.unit_id,
            "occurrence": s.occurrence,
            "state": "upcoming",
            "escalation_level": 0,
            "due_at": s.due,
            "updated_at": now,
        }
        for s in specs
        if (s.milestone_id, s.unit_id, s.occurrence) not in existing
    ]
    if new:
        connection.execute(insert(TASK), new)
    for spec in specs:
        row = existing.get((spec.milestone_id, spec.unit_id, spec.occurrence))
        if row is not None and row["due_at"] != spec.due:
            connection.execute(update(TASK).where(TASK.c.id == row["id"]).values(due_at=spec.due))


def find(connection: Connection, milestone: str, unit: str, occurrence: str = "") -> dict[str, Any] | None:
    query = select(TASK).where(
        TASK.c.milestone_id == milestone, TASK.c.unit_id == unit, TASK.c.occurrence == occurrence
    )
    row = connection.execute(query).first()
    return dict(row._mapping) if row else None


def domain(row: dict[str, Any]) -> UnitTask:
    key = "/".join(p for p in (row["milestone_id"], row["unit_id"], row["occurrence"]) if p)
    return UnitTask(key, row["state"], row["escalation_level"], row["due_at"])


def save(
    connection: Connection, row: dict[str, Any], task: UnitTask, now: datetime, source: str, actor: str | None
) -> None:
    """Write the task's new state and log what happened to it."""
    save_many(connection, [(row, task)], now, source, actor)


def save_many(
    connection: Connection,
    changed: list[tuple[dict[str, Any], UnitTask]],
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
    for row, task in changed:
        finished_now = task.state in FINISHED and row["state"] not in FINISHED
        completed_at = now if finished_now else (row["completed_at"] if task.state in FINISHED else None)
        completed_by = actor if finished_now else (row["completed_by"] if task.state in FINISHED else None)
        rows.append(
            {
                "b_id": row["id"],
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


def refresh_derived(connection: Connection, plan: Plan, now: datetime, source: str) -> int:
    """Complete derived tasks whose rule holds, reopen finished ones whose rule no longer does."""
    changed = 0
    derived = {
        mid: m for mid, m in plan.milestones.items() if m.completion == "derived" and m.teachers_at_least
    }
    counts = teacher_store.unit_state_counts(connection) if derived else {}
    for mid, milestone in derived.items():
        reached_states = set(states_at_least(milestone.teachers_at_least))
        progress = {
            unit: (sum(by_state.values()), sum(n for s, n in by_state.items() if s in reached_states))
            for unit, by_state in counts.items()
        }
        for row in _rows_of(connection, mid):
            total, reached = _progress_for(plan, mid, row["unit_id"], progress)
            holds = total > 0 and reached == total
            task = domain(row)
            if holds and task.state not in FINISHED:
                task.finish(now, note=f"every teacher has reached {milestone.teachers_at_least}")
            elif not holds and task.state in FINISHED:
                task.fire(
                    "reopen", now, note=f"{total - reached} teacher(s) below {milestone.teachers_at_least}"
                )
            else:
                continue
            save(connection, row, task, now, source, "derived")
            changed += 1
    return changed


def _rows_of(connection: Connection, milestone: str) -> Iterable[dict[str, Any]]:
    query = select(TASK).where(TASK.c.milestone_id == milestone).order_by(TASK.c.id)
    return [dict(r._mapping) for r in connection.execute(query)]


def _progress_for(
    plan: Plan, mid: str, unit_id: str, progress: dict[str, tuple[int, int]]
) -> tuple[int, int]:
    """A department's own teachers; for an office's task, the whole school's."""
    if plan.units[unit_id].kind == "department" or unit_id not in responsible_units(plan, mid):
        return progress.get(unit_id, (0, 0))
    return sum(t for t, _ in progress.values()), sum(r for _, r in progress.values())
