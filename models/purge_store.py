"""What a retention purge reads and clears: teachers' ID-card and phone numbers and emails.

The transition log is append-only (migration 0006's triggers refuse UPDATE and DELETE), so the
values it holds in a change's `data` (field → [old, new]) are only counted here, never changed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select, update

from cuiban.models.tables import Teacher, TransitionLog

LOG = TransitionLog.__table__
TEACHER = Teacher.__table__

PERSONAL = ("id_card", "phone", "email")
"""The teacher columns a purge empties (set to NULL)."""

AUDIT_KIND = "purge"


def filled(connection: Connection) -> dict[str, int]:
    """How many teachers still hold each PERSONAL field."""
    row = connection.execute(select(*(func.count(TEACHER.c[name]) for name in PERSONAL))).one()
    return dict(zip(PERSONAL, row, strict=True))


def clear(connection: Connection) -> dict[str, int]:
    """Set every PERSONAL field to NULL; how many teachers each statement changed."""
    changed = {}
    for name in PERSONAL:
        column = TEACHER.c[name]
        changed[name] = connection.execute(
            update(TEACHER).where(column.is_not(None)).values({name: None})
        ).rowcount
    return changed


def log_rows_holding(connection: Connection) -> dict[str, int]:
    """How many log rows hold old or new values of each PERSONAL field in their `data` (a roster
    re-import that changed it, a correction asked on the command line)."""
    found = {}
    for name in PERSONAL:
        query = select(func.count()).where(LOG.c.record_kind == "teacher", LOG.c.data.like(f'%"{name}"%'))
        found[name] = connection.execute(query).scalar_one()
    return found


def last_purge(connection: Connection) -> dict[str, Any] | None:
    """The latest purge's audit entry (its time, actor, note and counts), or None."""
    query = select(LOG).where(LOG.c.record_kind == AUDIT_KIND).order_by(LOG.c.id.desc()).limit(1)
    row = connection.execute(query).first()
    return dict(row._mapping) if row is not None else None
