"""The latest moment a cycle's ticks have decided at: what the catch-up rule needs to know of past ticks.

A reminder slot that came before that moment was seen by a tick; if none was sent for it
then (the task had its reminder that day already), no later tick sends it either.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, insert, select, update

from cuiban.models.tables import TickMark

MARK = TickMark.__table__
NAME = "tick"


def name_of(cycle: int | None) -> str:
    """A cycle's mark (`tick:2017`); `tick` before cycles, renamed to the first cycle's on adoption."""
    return NAME if cycle is None else f"{NAME}:{cycle}"


def seen_until(connection: Connection, cycle: int | None = None) -> datetime | None:
    """How far the ticks of `cycle` have decided (None: the mark from before cycles)."""
    return connection.execute(select(MARK.c.at).where(MARK.c.name == name_of(cycle))).scalar()


def adopt(connection: Connection, cycle: int) -> None:
    """The mark from before cycles becomes `cycle`'s (a database upgraded mid-campaign ticks on)."""
    connection.execute(update(MARK).where(MARK.c.name == NAME).values(name=name_of(cycle)))


def saw(connection: Connection, now: datetime, cycle: int | None = None) -> None:
    """Record that a tick of `cycle` decided at `now` (kept at the latest: a clock stepped back does
    not undo it)."""
    seen = seen_until(connection, cycle)
    if seen is not None and seen >= now:
        return
    name = name_of(cycle)
    connection.execute(delete(MARK).where(MARK.c.name == name))
    connection.execute(insert(MARK).values(name=name, at=now))
