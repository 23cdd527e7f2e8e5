"""What the coordinator's pages look up: teachers by staff ID or name, the outbox a page at a time.

Each query is bounded (a `limit`) and narrow (the columns a list shows), so a page costs the
same at a million teachers and a month of mail as in the demo: a staff-ID prefix is a range
on the unique index, a name is one scan that stops at `limit` matches, and the outbox is read
newest first by its primary key without the bodies.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from cuiban.models.tables import Outbox, Teacher

TEACHER = Teacher.__table__
OUTBOX = Outbox.__table__
LISTED = (TEACHER.c.staff_id, TEACHER.c.name, TEACHER.c.unit_id, TEACHER.c.state)
AFTER_ALL = "\U0010ffff"
"""The greatest code point: `q <= id < q + AFTER_ALL` holds exactly for the ids that start with q."""


def _listed(rows: Any) -> list[dict[str, Any]]:
    return [{"staff_id": s, "name": n, "unit_id": u, "state": st} for s, n, u, st in rows]


def staff_id_prefix(connection: Connection, prefix: str, limit: int) -> list[dict[str, Any]]:
    """Teachers whose staff ID starts with `prefix` (the exact one first), by staff ID."""
    query = (
        select(*LISTED)
        .where(TEACHER.c.staff_id >= prefix, TEACHER.c.staff_id < prefix + AFTER_ALL)
        .order_by(TEACHER.c.staff_id)
        .limit(limit)
    )
    return _listed(connection.execute(query))


def name_contains(connection: Connection, part: str, limit: int) -> list[dict[str, Any]]:
    """Teachers whose name contains `part` (`%` and `_` taken literally), by staff ID."""
    query = (
        select(*LISTED)
        .where(TEACHER.c.name.contains(part, autoescape=True))
        .order_by(TEACHER.c.staff_id)
        .limit(limit)
    )
    return _listed(connection.execute(query))


def unit_of(connection: Connection, staff_id: str) -> str | None:
    """A teacher's unit, or None when no teacher has that staff ID."""
    return connection.execute(select(TEACHER.c.unit_id).where(TEACHER.c.staff_id == staff_id)).scalar()


MESSAGE_COLUMNS = (
    "id",
    "key",
    "kind",
    "status",
    "recipient",
    "recipient_name",
    "subject",
    "slot",
    "task_key",
    "attempts",
    "last_error",
    "message_id",
    "created_at",
    "sent_at",
    "next_attempt_at",
)


def recent_messages(connection: Connection, status: str | None, limit: int) -> list[dict[str, Any]]:
    """The newest messages (of one status when given), without their bodies."""
    query = select(*(OUTBOX.c[c] for c in MESSAGE_COLUMNS)).order_by(OUTBOX.c.id.desc()).limit(limit)
    if status:
        query = query.where(OUTBOX.c.status == status)
    return [dict(r._mapping) for r in connection.execute(query)]


def message_counts(connection: Connection) -> dict[str, int]:
    """How many messages are in each status."""
    query = select(OUTBOX.c.status, func.count()).group_by(OUTBOX.c.status)
    return {status: int(n) for status, n in connection.execute(query)}
