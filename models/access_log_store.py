"""The access log: every refused request, kept for whoever audits the deployment."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select

from cuiban.models.tables import AccessLog

ACCESS = AccessLog.__table__


def append(connection: Connection, **row: Any) -> None:
    connection.execute(insert(ACCESS).values(**row))


def recent(connection: Connection, limit: int = 100, person: str | None = None) -> list[dict[str, Any]]:
    query = select(ACCESS).order_by(ACCESS.c.id.desc()).limit(limit)
    if person is not None:
        query = query.where(ACCESS.c.person_id == person)
    return [dict(r._mapping) for r in connection.execute(query)]


def count(connection: Connection, since: datetime | None = None) -> int:
    query = select(func.count()).select_from(ACCESS)
    if since is not None:
        query = query.where(ACCESS.c.at >= since)
    return int(connection.execute(query).scalar_one())
