"""The append-only transition log: written in bulk, read per record."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from models.tables import TransitionLog

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


def append(connection: Connection, entries: Sequence[Entry | dict[str, Any]]) -> None:
    if entries:
        rows = [e.row() if isinstance(e, Entry) else e for e in entries]
        connection.execute(insert(LOG), rows)


def history(connection: Connection, kind: str, key: str) -> list[dict[str, Any]]:
    query = select(LOG).where(LOG.c.record_kind == kind, LOG.c.record_key == key).order_by(LOG.c.at, LOG.c.id)
    rows = [dict(r._mapping) for r in connection.execute(query)]
    for row in rows:
        row["data"] = json.loads(row["data"]) if row["data"] else None
    return rows
