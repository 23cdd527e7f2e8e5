"""Evidence files' records (the bytes live in a folder the web server never serves)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select

from cuiban.models.tables import Evidence

EVIDENCE = Evidence.__table__


def add(connection: Connection, **row: Any) -> int:
    return int(connection.execute(insert(EVIDENCE).values(**row).returning(EVIDENCE.c.id)).scalar_one())


def one(connection: Connection, evidence_id: int) -> dict[str, Any] | None:
    row = connection.execute(select(EVIDENCE).where(EVIDENCE.c.id == evidence_id)).first()
    return None if row is None else dict(row._mapping)


def of_unit(connection: Connection, unit: str | None = None) -> list[dict[str, Any]]:
    query = select(EVIDENCE).order_by(EVIDENCE.c.id)
    if unit is not None:
        query = query.where(EVIDENCE.c.unit_id == unit)
    return [dict(r._mapping) for r in connection.execute(query)]


def of_tasks(connection: Connection, task_keys: list[str]) -> list[dict[str, Any]]:
    """The files handed in with these tasks (a unit's page asks for its own: found by the task-key index,
    without scanning every unit's files)."""
    if not task_keys:
        return []
    query = select(EVIDENCE).where(EVIDENCE.c.task_key.in_(task_keys)).order_by(EVIDENCE.c.id)
    return [dict(r._mapping) for r in connection.execute(query)]
