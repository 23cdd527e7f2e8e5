"""What a retention purge reads and clears: teachers' ID-card and phone numbers and emails, and the
values of those fields the transition log holds.

The log is append-only (migration 0006's triggers); migration 0010 lets an UPDATE through only
while a `log_purge_permit` row exists and only when it changes `data` and `note`. `mask_log`
inserts the permit, rewrites the rows, and deletes it, inside the purge's transaction, so no other
connection ever sees a permit and nothing else about a row (who, what, when) can change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.sql.elements import ColumnElement

from cuiban.models.tables import LogPurgePermit, Teacher, TransitionLog
from cuiban.workflow.personal_numbers import HIDDEN, NUMBERS, scrubbed

LOG = TransitionLog.__table__
TEACHER = Teacher.__table__
PERMIT = LogPurgePermit.__table__
"""Made by migration 0010; a row exists only inside a purge's transaction."""

PERSONAL = ("id_card", "phone", "email")
"""The teacher columns a purge empties (set to NULL), and whose [old, new] values it masks in the log."""

ELSEWHERE = "other"
"""log_rows' key for rows with an ID-card or mobile number typed elsewhere (a note, another field)."""

AUDIT_KIND = "purge"

ELEVEN_DIGITS = "[0-9]" * 11
"""A cheap test in the database for rows that may hold one (both kinds start with 11 digits)."""


@dataclass(frozen=True)
class Mask:
    """A log row to rewrite: its id, what it holds (fields of PERSONAL, ELSEWHERE) and its masked text."""

    id: int
    holds: tuple[str, ...]
    data: str | None
    note: str | None


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


def log_masks(connection: Connection) -> list[Mask]:
    """The log rows still holding a PERSONAL field's old or new value in their `data` (a roster
    re-import that changed it, a correction asked on the command line), or an ID-card or mobile
    number in their note or another field, each with its masked `data` and `note`. Rows masked
    by an earlier purge are not listed again."""
    dialect = connection.dialect.name
    named = [LOG.c.data.like(f'%"{name}"%') for name in PERSONAL]
    query = (
        select(LOG.c.id, LOG.c.data, LOG.c.note)
        .where(or_(*named, _digits(LOG.c.data, dialect), _digits(LOG.c.note, dialect)))
        .order_by(LOG.c.id)
    )
    masks = []
    for id_, data, note in connection.execute(query):
        mask = _mask(id_, data, note)
        if mask is not None:
            masks.append(mask)
    return masks


def held(masks: list[Mask]) -> dict[str, int]:
    """How many of these rows hold each PERSONAL field, and a number elsewhere."""
    return {name: sum(name in m.holds for m in masks) for name in (*PERSONAL, ELSEWHERE)}


def mask_log(connection: Connection, masks: list[Mask], at: datetime, actor: str | None) -> int:
    """Rewrite the rows' `data` and `note` under a permit made and removed here; rows rewritten."""
    if not masks:
        return 0
    permit = connection.execute(insert(PERMIT).values(at=at, actor=actor)).inserted_primary_key[0]
    statement = (
        update(LOG)
        .where(LOG.c.id == bindparam("row_id"))
        .values(data=bindparam("masked_data"), note=bindparam("masked_note"))
    )
    rows = [{"row_id": m.id, "masked_data": m.data, "masked_note": m.note} for m in masks]
    connection.execute(statement, rows)  # each by its id: one row each (executemany has no rowcount)
    connection.execute(delete(PERMIT).where(PERMIT.c.id == permit))
    return len(rows)


def last_purge(connection: Connection) -> dict[str, Any] | None:
    """The latest purge's audit entry (its time, actor, note and counts), or None."""
    query = select(LOG).where(LOG.c.record_kind == AUDIT_KIND).order_by(LOG.c.id.desc()).limit(1)
    row = connection.execute(query).first()
    return dict(row._mapping) if row is not None else None


def _digits(text: Any, dialect: str) -> ColumnElement[bool]:
    """Eleven digits in a row: GLOB on SQLite (no regular expressions there), `~` on PostgreSQL."""
    if dialect == "postgresql":
        return text.regexp_match("[0-9]{11}")
    return text.op("GLOB")(f"*{ELEVEN_DIGITS}*")


def _mask(id_: int, data: str | None, note: str | None) -> Mask | None:
    """The row masked, or None when it holds nothing to mask (already masked, or a false match)."""
    holds: list[str] = []
    masked_data = data
    if data:
        changes = json.loads(data)
        clean = scrubbed(changes)
        if isinstance(clean, dict):
            for name in PERSONAL:
                pair = clean.get(name)
                if pair is None:
                    continue
                hidden = [HIDDEN if v else v for v in pair] if isinstance(pair, list) else HIDDEN
                if hidden != changes[name]:
                    holds.append(name)
                clean[name] = hidden
        if clean != changes:
            masked_data = json.dumps(clean, ensure_ascii=False)
            if _elsewhere(changes):
                holds.append(ELSEWHERE)
    masked_note = NUMBERS.sub(HIDDEN, note) if note else note
    if masked_note != note and ELSEWHERE not in holds:
        holds.append(ELSEWHERE)
    if masked_data == data and masked_note == note:
        return None
    return Mask(id_, tuple(holds), masked_data, masked_note)


def _elsewhere(changes: Any) -> bool:
    """A number outside the PERSONAL fields' values (a name or a note field typed with one)."""
    if isinstance(changes, dict):
        changes = {k: v for k, v in changes.items() if k not in PERSONAL}
    return scrubbed(changes) != changes

