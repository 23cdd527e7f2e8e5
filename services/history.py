"""A record's history: the transition log of a teacher (STAFF_ID) or a task (MILESTONE/UNIT[/DATE])."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from cuiban.models import log_store
from cuiban.services.rejection import Refusal


def kind_of(record: str) -> str:
    """A task's key has slashes (MILESTONE/UNIT[/DATE]); a staff ID has none."""
    return "task" if "/" in record else "teacher"


def history(engine: Engine, record: str) -> list[dict[str, Any]]:
    """The log entries of `record`, oldest first; Refusal when it has none."""
    kind = kind_of(record)
    with engine.connect() as connection:
        entries = log_store.history(connection, kind, record)
    if not entries:
        raise Refusal(f"no history for {kind} {record!r}")
    return entries
