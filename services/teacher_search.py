"""Finding a teacher (by staff ID or name) and showing one: fields and history, never personal numbers.

Why an allow-list of fields: a teacher's page must never show an ID-card or phone number,
so the profile is built from `SHOWN_FIELDS` only, and a correction's old → new values of
`HIDDEN_FIELDS` are replaced by a mark before they leave this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from cuiban.models import log_store, search_store, teacher_store
from cuiban.workflow.roster import TEACHER_FIELDS

LIMIT = 50
"""At most this many teachers in one answer; more means "refine your search"."""
HIDDEN_FIELDS = frozenset({"id_card", "phone"})
SHOWN_FIELDS = tuple(f for f in TEACHER_FIELDS if f not in HIDDEN_FIELDS)
HIDDEN = "***"
"""What a correction of a hidden field shows instead of its values."""


@dataclass(frozen=True)
class Found:
    teachers: list[dict[str, Any]]
    """staff_id, name, unit_id, state: exact staff ID first, then staff ID prefix, then names."""
    more: bool
    """More matched than `LIMIT`: the person should refine the search."""


def search(engine: Engine, query: str, limit: int = LIMIT) -> Found:
    """Teachers whose staff ID starts with `query` or whose name contains it, up to `limit`."""
    wanted = query.strip()
    if not wanted:
        return Found([], False)
    with engine.connect() as connection:
        by_id = search_store.staff_id_prefix(connection, wanted, limit + 1)
        # A query of digits is a staff ID: no name holds digits, and a name scan that finds
        # nothing reads every teacher (a million rows) before it can say so.
        by_name = [] if wanted.isascii() and wanted.isdigit() else search_store.name_contains(
            connection, wanted, limit + 1
        )
    seen: dict[str, dict[str, Any]] = {}
    for row in (*by_id, *by_name):
        seen.setdefault(row["staff_id"], row)
    found = list(seen.values())
    return Found(found[:limit], len(found) > limit)


@dataclass(frozen=True)
class Profile:
    staff_id: str
    unit_id: str
    state: str
    fields: dict[str, Any]
    """SHOWN_FIELDS only, in roster order (no ID card, no phone)."""
    state_changed_at: Any
    history: list[dict[str, Any]]
    """Log entries, oldest first: at, event, from_state, to_state, source, actor, note, changes
    (a correction's field → [old, new], hidden fields masked)."""


def profile(engine: Engine, staff_id: str) -> Profile | None:
    """The teacher's page: shown fields and the transition log, read together; None when unknown."""
    with engine.connect() as connection:
        row = teacher_store.one(connection, staff_id)
        entries = log_store.history(connection, "teacher", staff_id) if row else []
    if row is None:
        return None
    return Profile(
        staff_id=row["staff_id"],
        unit_id=row["unit_id"],
        state=row["state"],
        fields={f: row[f] for f in SHOWN_FIELDS},
        state_changed_at=row["state_changed_at"],
        history=[_entry(e) for e in entries],
    )


def _entry(entry: dict[str, Any]) -> dict[str, Any]:
    data = entry["data"] if isinstance(entry["data"], dict) else {}
    changes = {
        name: [HIDDEN, HIDDEN] if name in HIDDEN_FIELDS else list(pair)
        for name, pair in data.items()
        if isinstance(pair, list | tuple) and len(pair) == 2
    }
    return {
        "at": entry["at"],
        "event": entry["event"],
        "from_state": entry["from_state"],
        "to_state": entry["to_state"],
        "source": entry["source"],
        "actor": entry["actor"],
        "note": entry["note"],
        "changes": changes,
    }
