"""The outbox as the staff see it: list messages, show one, queue failed ones again.

Retrying is one transaction: every message named is checked first (a message not in
the outbox, or already sent, refuses the whole request) and then queued afresh, its
attempts reset, so a half-done retry never happens.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from cuiban.models import outbox_store
from cuiban.models.unit_of_work import transaction
from cuiban.services.rejection import Refusal
from cuiban.workflow.clock import local_iso

SHOWN = (
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
)
STAMPS = ("created_at", "sent_at", "next_attempt_at")


class NoSuchMessage(Refusal, LookupError):
    """No message with this id is in the outbox."""

    def __init__(self, message_id: int) -> None:
        self.message_id = message_id
        super().__init__(f"no message {message_id} in the outbox")


def summary(row: dict[str, Any], tz: str) -> dict[str, Any]:
    """A message's state for people and programs, its times in the plan's timezone."""
    doc = {k: row[k] for k in SHOWN}
    for stamp in STAMPS:
        doc[stamp] = local_iso(row[stamp], tz)
    return doc


def listing(
    engine: Engine, tz: str, status: str | None = None, kind: str | None = None
) -> list[dict[str, Any]]:
    """Messages (newest last), optionally of one status and kind."""
    with engine.connect() as connection:
        rows = outbox_store.rows(connection, status, kind)
    return [summary(row, tz) for row in rows]


def message(engine: Engine, tz: str, message_id: int) -> tuple[dict[str, Any], str]:
    """One message's summary and its text; Refusal when there is no such message."""
    with engine.connect() as connection:
        row = outbox_store.one(connection, message_id)
    if row is None:
        raise NoSuchMessage(message_id)
    return summary(row, tz), row["body_text"]


def retry(engine: Engine, message_ids: list[int], all_failed: bool = False) -> int:
    """Queue the messages again (every failed one with `all_failed`); how many were queued.

    A failed message starts afresh (attempts 0); a queued one waiting for its next attempt
    keeps its count and only stops waiting. A message being sent is refused: queueing it
    under its sender's feet would let a second sender send it again.
    """
    with transaction(engine) as connection:
        ids = [r["id"] for r in outbox_store.rows(connection, "failed")] if all_failed else message_ids
        for mid in ids:
            row = outbox_store.one(connection, mid)
            if row is None:
                raise NoSuchMessage(mid)
            if row["status"] in ("sent", "sending"):
                raise Refusal(f"message {mid} {_why_not(row)}")
            fresh = {"attempts": 0} if row["status"] == "failed" else {}
            outbox_store.mark(connection, mid, status="queued", next_attempt_at=None, **fresh)
    return len(ids)


def _why_not(row: dict[str, Any]) -> str:
    if row["status"] == "sent":
        return "is already sent"
    return (
        f"is being sent now (by {row['claimed_by']}); if that sender has stopped, "
        "`cuiban outbox send` gives it back and sends it"
    )
