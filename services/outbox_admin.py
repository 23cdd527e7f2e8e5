"""The outbox as the staff see it: list messages, show one, queue failed ones again.

The same use cases serve `cuiban outbox list|show|retry` and the outbox page:
- a listing is bounded (the newest `limit`, no bodies) with how many there are in each
  status, so it costs the same at a month of mail as in the demo;
- a sign-in link's text is never shown (`SECRET_KINDS`): anyone who may read the outbox
  could otherwise sign in as the person it was sent to;
- retrying is one transaction: every message named is checked first (a message not in
  the outbox, or already sent, refuses the whole request) and then queued afresh, its
  attempts reset, so a half-done retry never happens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from cuiban.models import outbox_store
from cuiban.models.unit_of_work import transaction
from cuiban.services.rejection import Refusal
from cuiban.workflow.clock import local_iso

STAMPS = ("created_at", "sent_at", "next_attempt_at")
SHOWN = tuple(c for c in outbox_store.LISTED if c not in STAMPS)
"""A message's columns as they are; its times are shown in the plan's timezone."""
LIMIT = 200
"""A listing shows the newest messages up to this many unless asked for more."""
SECRET_KINDS = frozenset({"sign_in"})
"""Messages whose text is a key (a sign-in link): their bodies are never shown."""


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


@dataclass(frozen=True)
class Listing:
    messages: list[dict[str, Any]]
    """The newest messages asked for, newest first, each as `summary` shows it (no bodies)."""
    counts: dict[str, int]
    """How many messages are in each status (of the kind asked for), all of them, not only those listed."""
    total: int
    """How many messages have the status and kind asked for."""

    @property
    def more(self) -> int:
        """How many of them are not listed."""
        return max(0, self.total - len(self.messages))


def listing(
    engine: Engine, tz: str, status: str | None = None, kind: str | None = None, limit: int = LIMIT
) -> Listing:
    """The newest `limit` messages, optionally of one status and kind, and how many there are."""
    with engine.connect() as connection:
        rows = outbox_store.recent(connection, status, kind, limit)
        counts = outbox_store.status_counts(connection, kind)
    total = counts.get(status, 0) if status else sum(counts.values())
    return Listing([summary(row, tz) for row in rows], counts, total)


def message(engine: Engine, tz: str, message_id: int) -> tuple[dict[str, Any], str | None]:
    """One message's summary and its text (None for a sign-in link's: never shown); NoSuchMessage
    when there is no such message."""
    with engine.connect() as connection:
        row = outbox_store.one(connection, message_id)
    if row is None:
        raise NoSuchMessage(message_id)
    return summary(row, tz), None if row["kind"] in SECRET_KINDS else row["body_text"]


def retry(engine: Engine, message_ids: list[int], all_failed: bool = False) -> int:
    """Queue the messages again (every failed one with `all_failed`); how many were queued.

    A failed message starts afresh (attempts 0); a queued one waiting for its next attempt
    keeps its count and only stops waiting. A message being sent is refused: queueing it
    under its sender's feet would let a second sender send it again.
    """
    with transaction(engine) as connection:
        ids = outbox_store.ids(connection, "failed") if all_failed else message_ids
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
