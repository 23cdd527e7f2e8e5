"""The append-only transition log: written in bulk, read per record."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, text

from cuiban.models.bulk import bound, insert_tuples
from cuiban.models.tables import TransitionLog

LOG = TransitionLog.__table__


@dataclass(frozen=True)
class Entry:
    record_kind: str
    record_key: str
    from_state: str | None
    to_state: str
    event: str
    source: str
    at: datetime
    actor: str | None = None
    note: str | None = None
    data: dict[str, Any] | None = None

    def values(self) -> tuple:
        data = json.dumps(self.data, ensure_ascii=False) if self.data else None
        return (
            self.record_kind,
            self.record_key,
            self.from_state,
            self.to_state,
            self.event,
            self.source,
            self.at,
            self.actor,
            self.note,
            data,
        )

    def row(self) -> dict[str, Any]:
        return {
            "record_kind": self.record_kind,
            "record_key": self.record_key,
            "from_state": self.from_state,
            "to_state": self.to_state,
            "event": self.event,
            "source": self.source,
            "at": self.at,
            "actor": self.actor,
            "note": self.note,
            "data": json.dumps(self.data, ensure_ascii=False) if self.data else None,
        }


COLUMNS = (
    "record_kind",
    "record_key",
    "from_state",
    "to_state",
    "event",
    "source",
    "at",
    "actor",
    "note",
    "data",
)


def append(connection: Connection, entries: Sequence[Entry]) -> None:
    """Write entries in bulk; their timestamps are converted by the column's own type."""
    if not entries:
        return
    stamps: dict[Any, Any] = {}
    rows = []
    for entry in entries:
        values = entry.values()
        if entry.at not in stamps:
            stamps[entry.at] = bound(connection, LOG.c.at, entry.at)
        rows.append((*values[:6], stamps[entry.at], *values[7:]))
    insert_tuples(connection, LOG, COLUMNS, rows)


def append_selected(connection: Connection, select_sql: str, params: dict[str, Any]) -> int:
    """INSERT INTO transition_log (COLUMNS) SELECT …: log rows made set-wise from rows already in SQL.

    `select_sql` must yield the COLUMNS in order; `:at` in params is bound as a timestamp.
    """
    if "at" in params:
        params = {**params, "at": bound(connection, LOG.c.at, params["at"])}
    statement = text(f"INSERT INTO transition_log ({', '.join(COLUMNS)}) {select_sql}")
    return connection.execute(statement, params).rowcount


def history(connection: Connection, kind: str, key: str) -> list[dict[str, Any]]:
    query = select(LOG).where(LOG.c.record_kind == kind, LOG.c.record_key == key).order_by(LOG.c.at, LOG.c.id)
    rows = [dict(r._mapping) for r in connection.execute(query)]
    for row in rows:
        row["data"] = json.loads(row["data"]) if row["data"] else None
    return rows


def last_at(connection: Connection, kind: str, key: str) -> datetime | None:
    """The time of a record's latest log entry, or None for a record with no history."""
    query = select(func.max(LOG.c.at)).where(LOG.c.record_kind == kind, LOG.c.record_key == key)
    return connection.execute(query).scalar_one()


class OutOfOrder(ValueError):
    """An event dated before its record's last log entry: history is written in order, or not at all."""


def refuse_before_last(
    connection: Connection, kind: str, key: str, at: datetime, shown: Callable[[datetime], str]
) -> None:
    """Raise OutOfOrder when `at` is before the record's last log entry; `shown(moment)` formats a time
    for the sentence (the plan's timezone)."""
    last = last_at(connection, kind, key)
    if last is not None and at < last:
        raise OutOfOrder(
            f"{kind} {key}: its last log entry is at {shown(last)}, and an event may not be dated "
            f"before it, but this one is at {shown(at)}; nothing was changed (give a later --now)"
        )


def pending_corrections(connection: Connection, units: Sequence[str]) -> list[dict[str, Any]]:
    """Teachers (of `units`) waiting for a decision on a correction, each with its latest request's
    log entry (requester, time, note, field → [old, new]), oldest request first.

    The teachers are found through the (unit, state) index, one seek per unit, not by scanning
    the log or the teacher table."""
    from cuiban.models.tables import Teacher

    teacher = Teacher.__table__
    query = (
        select(
            teacher.c.staff_id, teacher.c.name, teacher.c.unit_id,
            LOG.c.actor, LOG.c.at, LOG.c.note, LOG.c.data,
        )
        .select_from(
            teacher.join(LOG, (LOG.c.record_kind == "teacher") & (LOG.c.record_key == teacher.c.staff_id))
        )
        .where(
            teacher.c.unit_id.in_(list(units)),
            teacher.c.state == "correction_requested",
            LOG.c.event == "request_correction",
        )
        .order_by(LOG.c.at, LOG.c.id)
    )
    latest: dict[str, dict[str, Any]] = {}
    for row in connection.execute(query):
        entry = dict(row._mapping)
        entry["data"] = json.loads(entry["data"]) if entry["data"] else None
        latest.pop(entry["staff_id"], None)  # a newer request replaces the older, and moves to its time
        latest[entry["staff_id"]] = entry
    return list(latest.values())
