"""Campaign cycles: next year's campaign on the same database, and the rule that a command acts on
its plan's cycle.

A plan's `cycle` names its campaign. Tasks, outbox messages and status exports carry the
cycle they belong to; teachers persist (a staff ID is one person) and their progress starts
afresh when a new cycle starts. An older cycle stays in the database, read-only and
reportable: a plan of an older cycle is refused for writing, and a plan of a newer cycle
must be started first (`cuiban cycle start`), so an admin cannot run next year's plan on
this year's records by mistake."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine

from cuiban.models import cycle_store, log_store, outbox_store
from cuiban.models.unit_of_work import transaction
from cuiban.services.rejection import Refusal
from cuiban.workflow.plan.schema import Plan
from cuiban.workflow.teacher_states import PROGRESS_ORDER

NEW_CYCLE_EVENT = "new_cycle"


@dataclass(frozen=True)
class Started:
    cycle: int
    closed: int | None
    """The cycle closed by this start (None: the database had none, or it was already started)."""
    teachers: int
    """Teachers whose progress started afresh."""
    already: bool = False
    """The plan's cycle was already the current one: nothing changed."""


def writable(connection: Connection, plan: Plan, now: datetime) -> int:
    """Refuse to write with a plan that is not the database's current cycle; the cycle to write in.

    Called first by every writing use case, inside its transaction. A database without any
    cycle takes the plan's as its first, adopting the rows written before cycles existed."""
    current = cycle_store.current(connection)
    if current is None:
        cycle_store.adopt(connection, plan.cycle, plan.title, now)
        return plan.cycle
    if plan.cycle < current:
        raise Refusal(
            f"this database has moved on to cycle {current}; the plan is cycle {plan.cycle}: use the "
            f"{current} plan, or read the {plan.cycle} cycle with `cuiban report` or `cuiban digest --now …`"
        )
    if plan.cycle > current:
        raise Refusal(
            f"the plan is cycle {plan.cycle} and this database is still on cycle {current}: "
            f"start it first: cuiban cycle start --plan <the {plan.cycle} plan>"
        )
    return current


def is_current(connection: Connection, plan: Plan, now: datetime) -> bool:
    """Whether the plan's cycle is the database's current one (a database without cycles takes it):
    a use case that reads, and keeps up to date as it reads, does the latter only then."""
    current = cycle_store.current(connection)
    if current is None:
        cycle_store.adopt(connection, plan.cycle, plan.title, now)
        return True
    return current == plan.cycle


def check_writable(engine: Engine, plan: Plan, now: datetime) -> int:
    """`writable` in a transaction of its own (for use cases whose writing is spread over several)."""
    with transaction(engine) as connection:
        return writable(connection, plan, now)


def start_cycle(engine: Engine, plan: Plan, now: datetime, actor: str | None = None) -> Started:
    """Open the plan's cycle: the current one is closed, every teacher not `left` goes back to the
    start of the progress order with a log entry each. Refusal: the plan's cycle is older."""
    with transaction(engine) as connection:
        current = cycle_store.current(connection)
        if current is not None and plan.cycle < current:
            raise Refusal(
                f"the plan is cycle {plan.cycle}, older than this database's current cycle {current}: "
                "a cycle once left is not started again"
            )
        if current == plan.cycle:
            return Started(plan.cycle, None, 0, already=True)
        if current is None and cycle_store.unlabelled(connection):
            raise Refusal(
                "this database has records from before cycles and no cycle yet: run any command with "
                "last year's plan first (e.g. `cuiban tick --dry-run`), so they are kept as its cycle"
            )
        if current is not None:
            cycle_store.close(connection, current, now)
        cycle_store.open_cycle(connection, plan.cycle, plan.title, now)
        teachers = _afresh(connection, plan.cycle, now, actor)
    return Started(plan.cycle, current, teachers)


def _afresh(connection: Connection, cycle: int, now: datetime, actor: str | None) -> int:
    """Every teacher not `left` back to the first progress state: the log rows first (they read the
    old state), then one UPDATE."""
    first = PROGRESS_ORDER[0]
    select_sql = (
        f"SELECT 'teacher', staff_id, state, :first, '{NEW_CYCLE_EVENT}', 'cycle', :at, :actor, :note, NULL "
        "FROM teacher WHERE state <> 'left' ORDER BY id"
    )
    params = {"first": first, "at": now, "actor": actor, "note": f"cycle {cycle}"}
    logged = log_store.append_selected(connection, select_sql, params)
    cycle_store.restart_teachers(connection, first, now)
    return logged


def start_on_copy(engine: Engine, plan: Plan, now: datetime) -> str | None:
    """A simulation's copy brought to the plan's cycle: a newer plan's cycle is started on the copy
    (so next year's plan is tried on next year's progress, not on this year's finished work); an
    older plan is refused. A sentence saying what was done, or None."""
    with transaction(engine) as connection:
        current = cycle_store.current(connection)
    if current is not None and plan.cycle > current:
        started = start_cycle(engine, plan, now)
        return (
            f"(on the copy only: cycle {plan.cycle} started after {current}, "
            f"{started.teachers} teachers' progress afresh)"
        )
    check_writable(engine, plan, now)
    return None


def sent_so_far(engine: Engine) -> int:
    """The newest outbox id: a simulation counts only what it queues after it."""
    with transaction(engine) as connection:
        return outbox_store.last_id(connection)


def cycles(engine: Engine) -> list[dict]:
    """Every cycle, oldest first: number, title, started, closed."""
    with transaction(engine) as connection:
        return cycle_store.all_cycles(connection)
