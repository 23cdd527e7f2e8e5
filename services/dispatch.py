"""Sending what the outbox holds: claim a batch, send it over one connection, record each outcome.

A temporary failure puts the message back with a growing delay and pauses this batch
(the rest is released for the next run); a permanent one marks it failed with the
server's reply, and the next digest tells the coordinator. Each outcome is committed
right after the server answers, so a crash can resend at most the one message in flight.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine

from models import outbox_store
from models.unit_of_work import transaction
from notifications.message import Attachment, Outgoing, build
from notifications.transports import PermanentFailure, TemporaryFailure, Transport

BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=4),
)
GIVE_UP_AFTER = 8


@dataclass
class DispatchReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    paused: str | None = None
    errors: list[str] = field(default_factory=list)


def dispatch(
    engine: Engine,
    transport: Transport,
    now: datetime,
    *,
    batch: int = 200,
    per_minute: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> DispatchReport:
    report = DispatchReport()
    with transaction(engine) as connection:
        claimed = outbox_store.claim(connection, now, batch)
        files = outbox_store.attachments(connection, [row["key"] for row in claimed])
    for row in claimed:
        row["attachments"] = tuple(
            Attachment(a["filename"], a["content_type"], a["content"], a["content_id"])
            for a in files.get(row["key"], ())
        )
    if not claimed:
        return report
    try:
        transport.open()
    except (TemporaryFailure, PermanentFailure) as error:
        _release(engine, claimed, now, str(error), report)
        report.paused = f"could not connect: {error}"
        return report
    try:
        for index, row in enumerate(claimed):
            if index and per_minute:
                sleep(60 / per_minute)
            if not _send_one(engine, transport, row, now, report):
                _release(engine, claimed[index + 1 :], now, None, report)
                break
    finally:
        transport.close()
    return report


def _send_one(engine: Engine, transport: Transport, row: dict, now: datetime, report: DispatchReport) -> bool:
    message = build(
        Outgoing(
            row["id"],
            transport.sender,
            transport.sender_name,
            row["recipient"],
            row["recipient_name"],
            row["subject"],
            row["body_text"],
            row["body_html"],
            row["attachments"],
        ),
        now,
        transport.domain,
    )
    message["X-Cuiban-File"] = f"{row['id']:06d}-{row['kind']}.eml"
    try:
        transport.send(message)
    except TemporaryFailure as error:
        report.retried += 1
        report.paused = str(error)
        _retry_later(engine, row, now, str(error), report)
        return False
    except PermanentFailure as error:
        report.failed += 1
        report.errors.append(f"{row['recipient']}: {error}")
        with transaction(engine) as connection:
            outbox_store.mark(
                connection, row["id"], status="failed", last_error=str(error), next_attempt_at=None
            )
        return True
    with transaction(engine) as connection:
        outbox_store.mark(
            connection,
            row["id"],
            status="sent",
            sent_at=now,
            next_attempt_at=None,
            last_error=None,
            message_id=message["Message-ID"],
        )
    report.sent += 1
    return True


def _retry_later(engine: Engine, row: dict, now: datetime, error: str, report: DispatchReport) -> None:
    attempts = row["attempts"] + 1
    with transaction(engine) as connection:
        if attempts >= GIVE_UP_AFTER:
            outbox_store.mark(
                connection, row["id"], status="failed", last_error=f"gave up: {error}", next_attempt_at=None
            )
            report.failed += 1
            return
        delay = BACKOFF[min(attempts - 1, len(BACKOFF) - 1)]
        outbox_store.mark(
            connection, row["id"], status="queued", last_error=error, next_attempt_at=now + delay
        )


def _release(
    engine: Engine, rows: list[dict], now: datetime, error: str | None, report: DispatchReport
) -> None:
    """Give back claimed messages not sent: untried ones as they were, after an error as one more attempt."""
    if error is None:
        with transaction(engine) as connection:
            for row in rows:
                outbox_store.mark(
                    connection, row["id"], status="queued", attempts=row["attempts"], next_attempt_at=None
                )
        return
    for row in rows:
        report.retried += 1
        _retry_later(engine, row, now, error, report)
