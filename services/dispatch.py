"""Sending what the outbox holds, the way a mail server runs its queue.

One run drains the queue — digests first, then escalations and reports, then reminders —
until it is empty, the run's time budget is spent, or the sender must pause. Claims are
taken in small batches (so nothing is loaded whole and a crash strands little) and
renewed while they are being sent, so a slow batch is never claimed by another sender.

Who pays for a failure (see `notifications.transports`):
- one recipient's temporary refusal defers that message alone, with its own backoff, and
  the run goes on with the others; it is given up only after `GIVE_UP_AFTER` attempts
  *and* `GIVE_UP_AGE` since it was queued, so a day of trouble fails nothing;
- a permanent refusal fails that message, and the next digest lists it;
- a rate limit, an outage, a refused login or an unwritable folder pauses the whole sender
  for a cool-down, recorded in the database so the next run waits too; no message is charged.

Each outcome is committed as soon as the server answers, so a crash resends at most the
messages in flight, with the Message-ID they were queued with.

Group bots (企业微信, 钉钉; kind `bot`, recipient `wecom:news`) go through the same queue, claims,
retries, backoff and give-up rule, each posted by its own transport (`bots`, by recipient), but
they pause alone: a bot's rate limit or outage pauses that bot (`bot:wecom:news` in the pause
table) and its messages wait, uncharged, while mail and the other bots go on; a mail pause lets
the bots go on. Each bot is paced to `notifications.bots.PER_MINUTE` messages a minute through
the same table: before each post the sender takes the bot's next turn (one every 3.1 s) in a
transaction that holds the bot's lock, so two senders together stay within the limit, and a
burst waits for its turns instead of failing. A bot message is marked sent only when the bot
answered errcode 0; a crash after the post and before the outcome is recorded posts that one
message again (the group then sees it twice; a webhook has no Message-ID to drop a copy by).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine

from cuiban.models import locks, outbox_store, turn_store
from cuiban.models.unit_of_work import transaction
from cuiban.notifications.bots import PER_MINUTE as BOT_PER_MINUTE
from cuiban.notifications.message import Attachment, Outgoing
from cuiban.notifications.transports import PermanentFailure, SenderPaused, TemporaryFailure, Transport
from cuiban.services.holders import holder_is_dead, holder_name, host_now

BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=4),
)
GIVE_UP_AFTER = 8
GIVE_UP_AGE = timedelta(hours=24)
CLAIM_LEASE = timedelta(minutes=2)
"""A claim lasts this long on the host's clock unless renewed (every third of it while sending)."""
LATE_AFTER = timedelta(hours=1)
"""A message sent later than its slot by more than this is late (`cuiban run` uses its tick interval)."""
BATCH = 100
SENDER = "smtp"
"""The name of the sender's pause in the database (one mail sender per deployment today)."""
BOT = "bot"
"""The outbox kind of a group bot's message."""
BOT_TURN = timedelta(seconds=60 / BOT_PER_MINUTE + 0.1)
"""One post per bot every 3.1 s: never more than 20 in any minute, even with the few milliseconds between
taking a turn and the post's arrival varying (at exactly 3 s, 21 posts could arrive within 59.999 s)."""
STALE_TURN = timedelta(minutes=1)
PACING = "pacing: one message every 3.1 seconds per bot"
"""The reason of a bot's turn in the pause table (a turn, not a pause)."""


def bot_pause(recipient: str) -> str:
    """The name of a bot's pause and turns in the database: `bot:wecom:news`."""
    return f"bot:{recipient}"


@dataclass
class DispatchReport:
    sent: int = 0
    retried: int = 0
    """Messages put back for later: a recipient's temporary refusal, or given back by a pause."""
    failed: int = 0
    late: int = 0
    released: int = 0
    """Messages a dead or expired sender had claimed, given back at the start."""
    paused: str | None = None
    """Why the sender stopped before the queue was empty (and until when)."""
    bots_paused: dict[str, str] = field(default_factory=dict)
    """Bots paused during this run (by recipient), and why: their messages wait, the rest went on."""
    errors: list[str] = field(default_factory=list)


Clock = Callable[[], datetime]


def dispatch(
    engine: Engine,
    transport: Transport,
    now: datetime | Clock,
    *,
    per_minute: int | None = None,
    budget: timedelta | None = None,
    late_after: timedelta = LATE_AFTER,
    batch: int = BATCH,
    lease: timedelta = CLAIM_LEASE,
    sleep: Callable[[float], None] = time.sleep,
    kinds: tuple[str, ...] | None = None,
    bots: Mapping[str, Transport] | None = None,
    pace_clock: Clock = host_now,
) -> DispatchReport:
    """Send what is due at `now` (a moment that then moves with real time, or a clock); of `kinds`
    only, when given (a sign-in link goes out at once, the campaign's mail waits for `cuiban run`);
    group bots' messages through `bots` (their transports by recipient, `wecom:news`). `per_minute`
    is the sending account's limit, shared with every other sender of that account through the
    database (turns on `pace_clock`: the host's real clock, unless a test brings its own)."""
    run = _Run(
        engine, transport, _clock(now), per_minute, budget, late_after, lease, sleep, kinds=kinds,
        bots=dict(bots or {}), pace_clock=pace_clock,
    )
    return run.drain(batch)


def _clock(now: datetime | Clock) -> Clock:
    if callable(now):
        return now
    began = time.monotonic()
    start = datetime.fromtimestamp(now.timestamp(), now.tzinfo)  # plain datetime sums: cheaper per message
    return lambda: start + timedelta(seconds=time.monotonic() - began)


@dataclass
class _Run:
    engine: Engine
    transport: Transport
    clock: Clock
    per_minute: int | None
    budget: timedelta | None
    late_after: timedelta
    lease: timedelta
    sleep: Callable[[float], None]
    kinds: tuple[str, ...] | None = None
    bots: dict[str, Transport] = field(default_factory=dict)
    booked: dict[str, datetime] = field(default_factory=dict)
    """Per bot (pause name), the first of its turns this run has not given to a message yet."""
    waiting: set[int] = field(default_factory=set)
    """The messages this run put back for their bot's turn: when due again, they take it."""
    turns: list[datetime] = field(default_factory=list)
    """The turns messages were put back for in this run: the run waits for each once nothing else is due."""
    holder: str = field(default_factory=holder_name)
    report: DispatchReport = field(default_factory=DispatchReport)
    connected: bool = False
    renewed: datetime = field(default_factory=host_now)
    sent_any: bool = False
    outcomes: outbox_store.Outcomes | None = None
    pace_clock: Clock = host_now

    def drain(self, batch: int) -> DispatchReport:
        started = self.clock()
        if self._paused_or_release() and not self._bots_only():
            return self.report
        try:
            while not self._out_of_time(started):
                rows = self._claim(batch)
                if not rows:
                    if self._wait_for_turn(started):
                        continue
                    break
                if not self._send_batch(rows, started):
                    break
        finally:
            if self.outcomes is not None:
                self.outcomes.close()
            if self.connected:
                self.transport.close()
            with transaction(self.engine) as connection:  # whatever stopped us: nothing stays claimed
                outbox_store.release(connection, holder=self.holder)
        return self.report

    def _paused_or_release(self) -> bool:
        """Give back the claims of dead or expired senders; True when the sender is still paused."""
        with transaction(self.engine) as connection:
            dead = [h for h in outbox_store.holders(connection) if holder_is_dead(h)]
            self.report.released = outbox_store.release(
                connection,
                dead=dead,
                expired_before=host_now(),
                error="given back: the sender holding it stopped before recording the outcome",
            )
            pause = outbox_store.pause_until(connection, SENDER)
        if pause and pause[0] > self.clock():
            with self.engine.connect() as connection:
                waiting = outbox_store.count(connection, "queued")
            self.report.paused = _paused(pause[1], pause[0].astimezone(self.clock().tzinfo), waiting)
            return True
        return False

    def _bots_only(self) -> bool:
        """Mail is paused: go on with the group bots (each has its own pauses), if there are any to
        send; False when there are none."""
        if not self.bots or (self.kinds is not None and BOT not in self.kinds):
            return False
        self.kinds = (BOT,)
        return True

    def _out_of_time(self, started: datetime) -> bool:
        return self.budget is not None and self.clock() - started >= self.budget

    def _claim(self, batch: int) -> list[dict]:
        with transaction(self.engine) as connection:
            rows = outbox_store.claim(
                connection, self.clock(), batch, self.holder, host_now() + self.lease, self.kinds
            )
            files = outbox_store.attachments(connection, [row["key"] for row in rows])
            for row in rows:
                if row["message_id"] is None:  # queued before Message-IDs were fixed at queueing
                    row["message_id"] = outbox_store.new_message_id(self.transport.domain)
                    outbox_store.mark(connection, row["id"], message_id=row["message_id"])
        self.renewed = host_now()
        for row in rows:
            row["attachments"] = tuple(
                Attachment(a["filename"], a["content_type"], a["content"], a["content_id"])
                for a in files.get(row["key"], ())
            )
        return rows

    def _send_batch(self, rows: list[dict], started: datetime) -> bool:
        """Send a claimed batch; False when the run must stop (a pause, or the budget is spent)."""
        for row in rows:
            if self._out_of_time(started):
                return False
            if row["kind"] == BOT:
                self._renew_if_due()
                self._send_to_bot(row)
                continue
            if self.per_minute:
                self._wait_for_mail_turn()
            self._renew_if_due()
            try:
                self._connect()
                self._send_one(row)
            except SenderPaused as error:
                self._pause(error)
                return self._bots_only()
        return True

    def _wait_for_mail_turn(self) -> None:
        """Book the sending account's next turn (shared with every sender of the account, on any
        machine) and wait for it."""
        assert self.per_minute
        with transaction(self.engine, bookkeeping=True) as connection:
            spacing = timedelta(minutes=1) / self.per_minute
            turn = turn_store.take(connection, account_of(self.transport), spacing, self.pace_clock())
        wait = (turn - self.pace_clock()).total_seconds()
        if wait > 0:
            self.sleep(wait)

    def _connect(self) -> None:
        if not self.connected:
            self.transport.open()
            self.connected = True

    def _renew_if_due(self) -> None:
        if host_now() - self.renewed >= self.lease / 3:
            with transaction(self.engine) as connection:
                outbox_store.renew(connection, self.holder, host_now() + self.lease)
            self.renewed = host_now()

    def _send_one(self, row: dict) -> None:
        try:
            self._attempt(row)
        except SenderPaused as error:
            if not error.reconnect:
                raise
            self.transport.close()  # the server hung up: one new connection, then the same message
            self.connected = False
            self._connect()
            self._attempt(row)

    def _attempt(self, row: dict, transport: Transport | None = None) -> None:
        """Send one row through `transport` (the mail's when None) and record the outcome; a
        `SenderPaused` is the caller's to handle."""
        now = self.clock()
        transport = transport or self.transport
        message = Outgoing(
            row["id"],
            transport.sender,
            transport.sender_name,
            row["recipient"],
            row["recipient_name"],
            row["subject"],
            row["body_text"],
            row["body_html"],
            row["attachments"],
            row["message_id"],
            cc=_copies(row),
        )
        self.sent_any = self.sent_any or transport is self.transport
        try:
            transport.send(message, now, f"{row['id']:06d}-{row['kind']}.eml")
        except TemporaryFailure as error:
            self._defer(row, now, str(error))
            return
        except PermanentFailure as error:
            self.report.failed += 1
            self.report.errors.append(f"{row['recipient']}: {error}")
            self._finish(row, status="failed", last_error=str(error), failed_at=now, next_attempt_at=None)
            return
        late = row["due_at"] is not None and now - row["due_at"] > self.late_after
        self._finish(row, status="sent", sent_at=now, next_attempt_at=None, last_error=None, late=late)
        self.report.sent += 1
        self.report.late += late

    # ── group bots ──

    def _send_to_bot(self, row: dict) -> None:
        """Post one bot message in the bot's turn; a paused bot's message waits, uncharged."""
        bot = self.bots.get(row["recipient"])
        if bot is None:
            self._no_bot(row)
            return
        name = bot_pause(getattr(bot, "paced_as", None) or row["recipient"])  # one webhook, one limit
        booked = self.booked.get(name)
        if row["id"] not in self.waiting and booked is not None and booked > self.clock():
            # this run gave the bot's next turns to the messages before this one: it waits for its own
            self._wait_turn(row, name, booked)
            return
        busy = self._bot_turn(name)
        if busy is not None:
            if busy[1] == PACING:
                self._wait_turn(row, name, busy[0])
            else:
                self._hold(row, busy[0], busy[1])
            return
        self.booked[name] = self.clock() + BOT_TURN
        try:
            bot.open()
            self._attempt(row, bot)
        except SenderPaused as error:
            until = self.clock() + error.cool_down
            with transaction(self.engine, bookkeeping=True) as connection:
                outbox_store.set_pause(connection, name, until, str(error))
            self.booked.pop(name, None)  # its next messages read the pause: none is waited for in this run
            when = until.isoformat(timespec="minutes")
            self.report.bots_paused[row["recipient"]] = f"{error} (paused until {when})"
            self._hold(row, until, str(error))
        finally:
            bot.close()

    def _no_bot(self, row: dict) -> None:
        """A bot message this run has no transport for: a sender started without the bots (the
        wiring's job), or the plan no longer lists the bot. It waits a minute, uncharged — a run
        with the bots will post it — and fails once a day old, so a dropped bot's messages end."""
        now, error = self.clock(), f"no webhook for {row['recipient']} in this sender's settings"
        if now - row["created_at"] >= GIVE_UP_AGE:
            self.report.failed += 1
            self.report.errors.append(f"{row['recipient']}: {error}")
            self._finish(row, status="failed", last_error=error, failed_at=now, next_attempt_at=None)
            return
        self._hold(row, now + BACKOFF[0], error)

    def _bot_turn(self, name: str) -> tuple[datetime, str] | None:
        """Take the bot's next turn now (None), or say until when it is not free and why.

        Under the bot's lock, so two senders never take the same turn. A turn taken on a clock more
        than a minute ahead (a replay at another `--now`) is not waited for; senders' clocks a few
        milliseconds apart are the same clock here."""
        now = self.clock()
        with transaction(self.engine, bookkeeping=True) as connection:
            locks.hold(connection, f"cuiban.{name}")
            pause = outbox_store.pause_until(connection, name)
            if pause and pause[0] > now and not (pause[1] == PACING and pause[0] - now > STALE_TURN):
                return pause[0], pause[1]
            outbox_store.set_pause(connection, name, now + BOT_TURN, PACING)
        return None

    def _wait_turn(self, row: dict, name: str, turn: datetime) -> None:
        """Put a bot's message back until its turn (the next free one of its bot), so the run goes on
        with the others meanwhile; the run waits for the earliest such turn once nothing else is due."""
        self.booked[name] = turn + BOT_TURN
        self.waiting.add(row["id"])
        self.turns.append(turn)
        self._finish(row, status="queued", next_attempt_at=turn)

    def _wait_for_turn(self, started: datetime) -> bool:
        """Nothing else is due: sleep until the earliest bot turn this run put a message back for,
        if the run's budget reaches it; False when there is none to wait for."""
        now = self.clock()
        self.turns = [t for t in self.turns if t > now]  # those due now were claimed already, or by others
        if not self.turns:
            return False
        turn = min(self.turns)
        if self.budget is not None and turn - started >= self.budget:
            return False
        self.sleep(max((turn - self.clock()).total_seconds(), 0.0))
        return True

    def _hold(self, row: dict, until: datetime, reason: str) -> None:
        """Put a bot's message back until the bot is free again, uncharged: it is not to blame."""
        self.report.retried += 1
        self._finish(row, status="queued", last_error=reason, next_attempt_at=until)

    def _defer(self, row: dict, now: datetime, error: str) -> None:
        attempts = row["attempts"] + 1
        if attempts >= GIVE_UP_AFTER and now - row["created_at"] >= GIVE_UP_AGE:
            self.report.failed += 1
            self.report.errors.append(f"{row['recipient']}: gave up after {attempts} attempts: {error}")
            self._finish(
                row,
                status="failed",
                attempts=attempts,
                last_error=f"gave up after {attempts} attempts: {error}",
                failed_at=now,
                next_attempt_at=None,
            )
            return
        self.report.retried += 1
        delay = BACKOFF[min(attempts - 1, len(BACKOFF) - 1)]
        self._finish(row, status="queued", attempts=attempts, last_error=error, next_attempt_at=now + delay)

    def _finish(self, row: dict, **values: object) -> None:
        if self.outcomes is None:
            self.outcomes = outbox_store.Outcomes(self.engine)
        self.outcomes.finish(row["id"], self.holder, **values)  # lost in a crash: one resend, same ID

    def _pause(self, error: SenderPaused) -> None:
        """Stop the sender for its cool-down; what this run still held goes back, uncharged."""
        until = self.clock() + error.cool_down
        with transaction(self.engine) as connection:
            outbox_store.set_pause(connection, SENDER, until, str(error))
            self.report.retried += outbox_store.release(connection, holder=self.holder, error=str(error))
            waiting = outbox_store.count(connection, "queued")
        self.report.paused = _paused(str(error), until, waiting)


def account_of(transport: Transport) -> str:
    """The name a sending account's turns are booked under: its server and login, or its folder."""
    settings = getattr(transport, "settings", None)
    if settings is not None and hasattr(settings, "host"):
        return f"smtp:{settings.user or settings.sender}@{settings.host}:{settings.port}"[:200]
    folder = getattr(transport, "folder", None)
    return f"files:{folder}"[:200] if folder is not None else f"mail:{transport.sender}"[:200]


def _paused(reason: str, until: datetime, waiting: int) -> str:
    return f"{reason} (paused until {until.isoformat(timespec='minutes')}; {waiting} messages wait for it)"


def _copies(row: dict) -> tuple[str, ...]:
    """The addresses a queued message is copied to (a teacher's reminder: their collector, when the
    plan's `teachers.remind.cc_collector` says so), kept in the row's `data`."""
    data = row.get("data")
    if isinstance(data, str):
        data = json.loads(data)
    return tuple(data.get("cc", ())) if isinstance(data, dict) else ()
