"""Turns of a sending account, booked in the database so that every sender shares one rate limit.

A sender books the next free turn (`take`) before each message and waits for it; the row then says
when the turn after it is free. Turns are on the host's real clock (a provider counts real minutes,
whatever a replay's `--now`), except where a caller hands its own clock in (the tests' fake clocks).
The table lives in the shared schema when the deployment holds several institutions (their mail goes
through the same account), else in the database's own (`models.tenancy`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Column, Connection, MetaData, String, Table, select, update
from sqlalchemy.dialects import postgresql, sqlite

from cuiban.models.tenancy import SHARED_KEY
from cuiban.models.utc import UTCDateTime

TURN = Table(
    "sender_turn",
    MetaData(),
    Column("name", String(200), primary_key=True),
    Column("next_at", UTCDateTime(), nullable=False),
    schema=SHARED_KEY,
)
STALE = timedelta(minutes=10)
"""A turn booked further ahead than this was booked on another clock (a replay): not waited for."""


def take(connection: Connection, name: str, spacing: timedelta, now: datetime) -> datetime:
    """Book `name`'s next free turn at or after `now` and return it; the next one is `spacing` later.

    The row is locked for the transaction, so two senders never book the same turn."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    connection.execute(dialect.insert(TURN).values(name=name, next_at=now).on_conflict_do_nothing())
    query = select(TURN.c.next_at).where(TURN.c.name == name)
    if connection.dialect.name == "postgresql":
        query = query.with_for_update()
    free = connection.execute(query).scalar_one()
    turn = now if free <= now or free - now > STALE else free
    connection.execute(update(TURN).where(TURN.c.name == name).values(next_at=turn + spacing))
    return turn
