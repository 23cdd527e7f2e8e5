"""What the coordinator's pages look up: teachers by staff ID or name, the correction requests they decide.

Each query is bounded (a `limit`) and narrow (the columns a list shows), so a page costs the
same at a million teachers as in the demo: a staff-ID prefix is a range on the unique index,
and a name is one scan that stops at `limit` matches. (The outbox's listing is the outbox
store's, `outbox_store.recent`.)
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from cuiban.models.tables import Teacher, TransitionLog

TEACHER = Teacher.__table__
LOG = TransitionLog.__table__
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


def latest_requests(connection: Connection, staff_ids: list[str]) -> dict[str, int]:
    """Per teacher, the log entry id of their latest correction request (latest as the log orders
    entries: by time, then id), found by the log's record index."""
    latest: dict[str, int] = {}
    for start in range(0, len(staff_ids), 1000):
        query = (
            select(LOG.c.record_key, LOG.c.id)
            .where(
                LOG.c.record_kind == "teacher",
                LOG.c.record_key.in_(staff_ids[start : start + 1000]),
                LOG.c.event == "request_correction",
            )
            .order_by(LOG.c.at, LOG.c.id)
        )
        latest.update({key: int(entry) for key, entry in connection.execute(query)})
    return latest
