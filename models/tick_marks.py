"""The latest moment any tick has decided at: what the catch-up rule needs to know about past ticks.

A reminder slot that came before that moment was seen by a tick; if none was sent for it
then (the task had its reminder that day already), no later tick sends it either.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, insert, select

from cuiban.models.tables import TickMark

MARK = TickMark.__table__
NAME = "tick"


def seen_until(connection: Connection) -> datetime | None:
    return connection.execute(select(MARK.c.at).where(MARK.c.name == NAME)).scalar()


def saw(connection: Connection, now: datetime) -> None:
    """Record that a tick decided at `now` (kept at the latest: a clock stepped back does not undo it)."""
    seen = seen_until(connection)
    if seen is not None and seen >= now:
        return
    connection.execute(delete(MARK).where(MARK.c.name == NAME))
    connection.execute(insert(MARK).values(name=NAME, at=now))
