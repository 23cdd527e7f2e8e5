"""A lease in the database: at most one holder at a time, lost if not renewed in time.

Times here are the host's real clock (UTC), not a campaign's `--now`: a lease is
about processes, not about the plan's calendar.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, insert, select, update

from cuiban.models import locks
from cuiban.models.tables import RunnerLease
from cuiban.models.unit_of_work import transaction

LEASE = RunnerLease.__table__


def acquire(
    engine: Engine,
    name: str,
    holder: str,
    now: datetime,
    ttl: timedelta,
    is_dead: Callable[[str], bool] = lambda _holder: False,
) -> str | None:
    """Take or renew the lease; None on success, else the current holder.

    A lease whose holder `is_dead` (on this host, its process is gone) is taken over at
    once instead of after its expiry.
    """
    with transaction(engine, bookkeeping=True) as connection:
        locks.hold(connection, f"cuiban.lease.{name}")
        row = connection.execute(select(LEASE).where(LEASE.c.name == name)).first()
        if row is None:
            connection.execute(insert(LEASE).values(name=name, holder=holder, expires_at=now + ttl))
            return None
        if row.holder != holder and row.expires_at > now and not is_dead(row.holder):
            return row.holder
        connection.execute(
            update(LEASE).where(LEASE.c.name == name).values(holder=holder, expires_at=now + ttl)
        )
        return None


def release(engine: Engine, name: str, holder: str) -> None:
    with transaction(engine, bookkeeping=True) as connection:
        connection.execute(delete(LEASE).where(LEASE.c.name == name, LEASE.c.holder == holder))
