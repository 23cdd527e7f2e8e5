"""The outbox: messages inserted once by key, claimed for sending, marked sent, retried or failed.

Claiming uses `FOR UPDATE SKIP LOCKED` on PostgreSQL, so two dispatchers never take
the same message; on SQLite the write transaction is exclusive anyway. A claimed
message carries a lease (`next_attempt_at`): if the process dies after the server
accepted it but before the commit, the message is sent once more when the lease ends,
never more.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, or_, select, text, update

from models.bulk import bound, placeholder
from models.tables import Outbox, OutboxAttachment

OUTBOX = Outbox.__table__
ATTACHMENT = OutboxAttachment.__table__
COLUMNS = (
    "key",
    "kind",
    "task_key",
    "unit_id",
    "recipient",
    "recipient_name",
    "slot",
    "subject",
    "body_text",
    "body_html",
    "data",
    "status",
    "attempts",
    "created_at",
)
LEASE = timedelta(minutes=10)


def existing_keys(connection: Connection, keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), 1000):
        chunk = list(keys[start : start + 1000])
        found.update(connection.execute(select(OUTBOX.c.key).where(OUTBOX.c.key.in_(chunk))).scalars())
    return found


def keys_since(connection: Connection, since: datetime) -> set[str]:
    """Keys of messages decided since `since`: what a tick need not decide again."""
    return set(connection.execute(select(OUTBOX.c.key).where(OUTBOX.c.created_at >= since)).scalars())


def queue(connection: Connection, messages: Sequence[dict[str, Any]], now: datetime) -> int:
    """Insert messages whose key is new; the number inserted."""
    if not messages:
        return 0
    stamp = bound(connection, OUTBOX.c.created_at, now)
    mark = placeholder(connection)
    rows = [
        (
            m["key"],
            m["kind"],
            m.get("task_key"),
            m.get("unit_id"),
            m["recipient"],
            m["recipient_name"],
            m["slot"],
            m["subject"],
            m["body_text"],
            m["body_html"],
            json.dumps(m["data"], ensure_ascii=False) if m.get("data") is not None else None,
            "queued",
            0,
            stamp,
        )
        for m in messages
    ]
    before = count(connection)
    known = existing_keys(connection, [m["key"] for m in messages if m.get("attachments")])
    connection.exec_driver_sql(
        f"INSERT INTO outbox ({', '.join(COLUMNS)}) VALUES ({', '.join([mark] * len(COLUMNS))}) "
        "ON CONFLICT (key) DO NOTHING",
        rows,
    )
    files = [
        {"outbox_key": m["key"], **a}
        for m in messages
        if m["key"] not in known
        for a in m.get("attachments", ())
    ]
    if files:
        connection.execute(ATTACHMENT.insert(), files)
    return count(connection) - before


def attachments(connection: Connection, keys: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """The files of these messages by message key, each in the order it was queued."""
    found: dict[str, list[dict[str, Any]]] = {}
    for start in range(0, len(keys), 1000):
        chunk = list(keys[start : start + 1000])
        query = select(ATTACHMENT).where(ATTACHMENT.c.outbox_key.in_(chunk)).order_by(ATTACHMENT.c.id)
        for row in connection.execute(query):
            found.setdefault(row.outbox_key, []).append(dict(row._mapping))
    return found


def count(connection: Connection, status: str | None = None) -> int:
    query = text("SELECT count(*) FROM outbox" + (" WHERE status = :s" if status else ""))
    return int(connection.execute(query, {"s": status} if status else {}).scalar_one())


def claim(connection: Connection, now: datetime, limit: int) -> list[dict[str, Any]]:
    """Take up to `limit` messages due for sending and lease them to this dispatcher."""
    due = or_(
        and_(
            OUTBOX.c.status == "queued",
            or_(OUTBOX.c.next_attempt_at.is_(None), OUTBOX.c.next_attempt_at <= now),
        ),
        and_(OUTBOX.c.status == "sending", OUTBOX.c.next_attempt_at <= now),
    )
    query = select(OUTBOX).where(due).order_by(OUTBOX.c.id).limit(limit)
    if connection.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = [dict(r._mapping) for r in connection.execute(query)]
    if rows:
        connection.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id.in_([r["id"] for r in rows]))
            .values(status="sending", attempts=OUTBOX.c.attempts + 1, next_attempt_at=now + LEASE)
        )
    return rows


def mark(connection: Connection, outbox_id: int, **values: Any) -> None:
    connection.execute(update(OUTBOX).where(OUTBOX.c.id == outbox_id).values(**values))


def rows(connection: Connection, status: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
    query = select(OUTBOX).order_by(OUTBOX.c.id)
    if status:
        query = query.where(OUTBOX.c.status == status)
    if kind:
        query = query.where(OUTBOX.c.kind == kind)
    return [dict(r._mapping) for r in connection.execute(query)]


def one(connection: Connection, message_id: int) -> dict[str, Any] | None:
    row = connection.execute(select(OUTBOX).where(OUTBOX.c.id == message_id)).first()
    return dict(row._mapping) if row else None


def latest_digest_before(connection: Connection, slot: str) -> dict[str, Any] | None:
    query = (
        select(OUTBOX.c.data)
        .where(OUTBOX.c.kind == "digest", OUTBOX.c.slot < slot)
        .order_by(OUTBOX.c.slot.desc(), OUTBOX.c.id.desc())
        .limit(1)
    )
    data = connection.execute(query).scalar()
    return json.loads(data) if data else None


def failed_since(connection: Connection, since: datetime) -> list[dict[str, Any]]:
    query = (
        select(OUTBOX).where(OUTBOX.c.status == "failed", OUTBOX.c.created_at >= since).order_by(OUTBOX.c.id)
    )
    return [dict(r._mapping) for r in connection.execute(query)]
