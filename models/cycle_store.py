"""Campaign cycles: which exist, the current one (the newest), adopting rows from before cycles.

A row's `cycle` says which campaign it belongs to; queries for a tick, a reminder or a
status export filter by the plan's cycle, so one database holds year after year."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, or_, select, update

from cuiban.models import tick_marks
from cuiban.models.tables import Cycle, Outbox, SyncExport, Task, Teacher

CYCLE = Cycle.__table__
LABELLED = (Task.__table__, Outbox.__table__, SyncExport.__table__)
"""The tables whose rows carry a cycle."""


def in_cycle(column: Any, cycle: int | None) -> Any:
    """The condition that a row of `column`'s table belongs to `cycle`; None: to the current cycle
    (in a database without cycles yet, every row)."""
    if cycle is not None:
        return column == cycle
    newest = select(func.max(CYCLE.c.cycle)).scalar_subquery()
    return or_(column == newest, newest.is_(None))


def current(connection: Connection) -> int | None:
    """The newest cycle, None in a database that has none yet."""
    return connection.execute(select(func.max(CYCLE.c.cycle))).scalar()


def all_cycles(connection: Connection) -> list[dict[str, Any]]:
    """Every cycle, oldest first."""
    return [dict(r._mapping) for r in connection.execute(select(CYCLE).order_by(CYCLE.c.cycle))]


def unlabelled(connection: Connection) -> bool:
    """Whether any task, outbox message or status export predates cycles (outbox sign-in links aside)."""
    for table in LABELLED:
        query = select(table.c.id).where(table.c.cycle.is_(None))
        if table is Outbox.__table__:
            query = query.where(table.c.kind != "sign_in")
        if connection.execute(query.limit(1)).first() is not None:
            return True
    return False


def adopt(connection: Connection, cycle: int, title: str, now: datetime) -> int:
    """Label every row from before cycles with `cycle` (one UPDATE per table) and record the cycle;
    the number of rows labelled."""
    labelled = 0
    for table in LABELLED:
        statement = update(table).where(table.c.cycle.is_(None)).values(cycle=cycle)
        labelled += connection.execute(statement).rowcount
    tick_marks.adopt(connection, cycle)
    open_cycle(connection, cycle, title, now)
    return labelled


def open_cycle(connection: Connection, cycle: int, title: str, now: datetime) -> None:
    connection.execute(insert(CYCLE).values(cycle=cycle, title=title, started_at=now))


def restart_teachers(connection: Connection, first: str, now: datetime) -> int:
    """Every teacher not `left` back to `first` (a new cycle: progress starts afresh); the count."""
    teacher = Teacher.__table__
    statement = update(teacher).where(teacher.c.state != "left").values(
        state=first, excluded_rule=None, state_changed_at=now, updated_at=now
    )
    return connection.execute(statement).rowcount


def close(connection: Connection, cycle: int, now: datetime) -> None:
    connection.execute(
        update(CYCLE).where(CYCLE.c.cycle == cycle, CYCLE.c.closed_at.is_(None)).values(closed_at=now)
    )
