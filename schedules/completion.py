"""Derived tasks refreshed after teachers' states moved: load, let the domain decide, save.

Called by every use case that moves teachers (an import, a sync, one teacher's event)
and by each tick, in the same transaction as the moves, so a department's task is done
the moment its last teacher submits — and reopens when a record is sent back.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from cuiban.models import task_store, teacher_store
from cuiban.workflow.completion import CompletionChange, Counts, derived_changes, is_derived
from cuiban.workflow.plan.schema import Plan

ACTOR = "derived"
"""Who the log says completed or reopened a derived task."""


def refresh_derived(
    connection: Connection, plan: Plan, now: datetime, source: str, counts: Counts | None = None
) -> int:
    """Complete derived tasks whose rule holds, reopen finished ones whose rule no longer does;
    the number changed. `counts`: the teachers per unit and state, when the caller has just read
    them in the same transaction (else read here)."""
    changes = pending_changes(connection, plan, counts)
    task_store.save_many(connection, [(c.task, c.apply(now)) for c in changes], now, source, ACTOR)
    return len(changes)


def pending_changes(
    connection: Connection, plan: Plan, counts: Counts | None = None
) -> list[CompletionChange]:
    """What `refresh_derived` would change now (nothing is written): the tick reads it first, and
    takes the write lock for it only when there is something to change."""
    derived = [mid for mid, milestone in plan.milestones.items() if is_derived(milestone)]
    if not derived:
        return []
    tasks = task_store.states(connection, derived)
    return derived_changes(
        plan, tasks, teacher_store.unit_state_counts(connection) if counts is None else counts
    )
