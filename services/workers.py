"""`cuiban run --all`: several workers on one PostgreSQL database of many institutions.

Each worker ticks every institution of the plans folder on the schedule, and sends for every one of
them. Nothing is assigned to a worker, so any number can run, on any machines, and any may die:
- **ticks**: before ticking an institution a worker takes that institution's tick lock (a session
  advisory lock in the institution's schema, `models.locks.try_hold_session`); an institution another
  worker is ticking is passed over (that worker ticks it at the same moment), and so is one another
  worker has ticked at a later moment than this round's (its tick mark says so), so two workers never
  tick one institution at once, no round ticks one twice, and every institution is ticked at every
  round's moment by one worker or another. A worker that dies lets go of its lock with its connection,
  at once;
- **sending**: beside its ticks (a thread of its own), each worker drains every institution's outbox
  in turn, again and again, resting a second when nothing was due.
  Claims are `FOR UPDATE SKIP LOCKED` (`models.outbox_store.claim`), so workers share the messages
  without waiting for each other; a dead worker's claims go back (its process is gone on this host,
  or its claim lease expired) and are sent by another, with the Message-ID they were queued with;
- **the rate limit** of the sending account is booked in the database (`models.turn_store`): one
  turn every 60/`CUIBAN_SMTP_RATE` seconds whichever worker takes it.
Workers start at different institutions (by their name), so they spread over the institutions
instead of queueing behind one another in the same order.
"""

from __future__ import annotations

import signal
import threading
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pendulum
from sqlalchemy import Engine

from cuiban.models import locks, tick_marks
from cuiban.notifications.render import Renderer
from cuiban.notifications.transports import Transport
from cuiban.schedules.service import MISFIRE_GRACE, Clock, build, triggers
from cuiban.services.cycles import check_writable
from cuiban.services.dispatch import DispatchReport, dispatch
from cuiban.services.holders import holder_name
from cuiban.services.rejection import Refusal
from cuiban.services.tick_and_send import Delivery, TickAndSendReport, tick_and_send
from cuiban.workflow.calendar import WorkingCalendar
from cuiban.workflow.links import NO_LINKS, Links
from cuiban.workflow.plan.schema import Plan

TICK_LOCK = "cuiban.worker.tick"


@dataclass(frozen=True)
class Tenant:
    """One institution as a worker acts for it: its own schema (engine), plan and mail settings."""

    institution: str
    engine: Engine
    plan: Plan
    calendar: WorkingCalendar
    renderer: Renderer
    transport: Transport
    delivery: Delivery = Delivery()
    links: Links = NO_LINKS


@dataclass
class Round:
    """What one worker did at one moment: institutions ticked, passed over, and what it sent."""

    now: datetime
    ticked: dict[str, TickAndSendReport] = field(default_factory=dict)
    passed: list[str] = field(default_factory=list)
    """Being ticked by another worker at that moment."""
    refused: dict[str, str] = field(default_factory=dict)
    sent: dict[str, DispatchReport] = field(default_factory=dict)


def rotated(tenants: Sequence[Tenant], worker: str) -> list[Tenant]:
    """The institutions in the order this worker takes them: all of them, from a start of its own."""
    if not tenants:
        return []
    start = zlib.crc32(worker.encode()) % len(tenants)
    return list(tenants[start:]) + list(tenants[:start])


def work_round(tenants: Sequence[Tenant], clock: Callable[[], datetime], worker: str) -> Round:
    """Tick every institution no other worker is ticking, each at the clock's moment when its turn
    comes (a round of fifty takes seconds: an institution ticked late in it must not be ticked at the
    round's first moment); one another worker has ticked since this round began is passed over."""
    done = Round(clock())
    for tenant in rotated(tenants, worker):
        try:
            report = tick_if_free(tenant, clock(), fresh_after=done.now)
        except Refusal as refused:  # this institution's plan is of another cycle: the others go on
            done.refused[tenant.institution] = str(refused)
            continue
        finally:
            tenant.engine.dispose()  # a worker keeps no idle connection per institution: 50 × 3 workers
        if report is None:
            done.passed.append(tenant.institution)
        else:
            done.ticked[tenant.institution] = report
    return done


def send_pass(
    tenants: Sequence[Tenant], now: Callable[[], datetime], worker: str, budget: timedelta
) -> Round:
    """Send what every institution's outbox holds, each within `budget`; claims are SKIP LOCKED, so
    the other workers' passes take other messages meanwhile."""
    done = Round(now())
    for tenant in rotated(tenants, worker):
        delivery = tenant.delivery
        try:
            done.sent[tenant.institution] = dispatch(
                tenant.engine,
                tenant.transport,
                now(),  # a moment: the run's own clock then moves in real time (its budget is real seconds)
                per_minute=delivery.per_minute,
                budget=budget,
                late_after=delivery.late_after,
                bots=delivery.bots,
            )
        finally:
            tenant.engine.dispose()
    return done


def tick_if_free(
    tenant: Tenant, now: datetime, fresh_after: datetime | None = None
) -> TickAndSendReport | None:
    """Tick `tenant` at `now` holding its tick lock; None when another worker holds it, or has ticked
    it at a moment later than `fresh_after`."""
    with tenant.engine.connect() as connection:
        taken = locks.try_hold_session(connection, TICK_LOCK)
        seen = tick_marks.seen_until(connection, tenant.plan.cycle) if taken and fresh_after else None
        fresh = seen is not None and fresh_after is not None and seen > fresh_after
        connection.commit()  # the lock is the session's: no transaction stays open meanwhile
        if fresh:  # another worker ticked it after this round's moment: nothing more to decide
            locks.release_session(connection, TICK_LOCK)
            connection.commit()
        if not taken or fresh:
            return None
        try:
            return tick_and_send(
                tenant.engine,
                tenant.plan,
                tenant.calendar,
                tenant.renderer,
                tenant.transport,
                now,
                send=False,
                links=tenant.links,
            )
        finally:
            try:
                locks.release_session(connection, TICK_LOCK)
                connection.commit()
            except Exception:
                connection.invalidate()  # never back to the pool holding the lock
                raise


@dataclass
class SharedClock(Clock):
    """A campaign's clock that leaves `start` at a given real moment (`leaves_at`, UTC) rather than
    when this process started: workers given the same one share one campaign clock to the
    millisecond, however long each took to start (a rehearsal of a week at 3,600× would otherwise
    see workers hours apart)."""

    leaves_at: datetime | None = None

    def now(self) -> pendulum.DateTime:
        if self.start is None or self.leaves_at is None:
            return super().now()
        elapsed = max(0.0, (pendulum.now("UTC") - self.leaves_at).total_seconds())
        return self.start.add(seconds=elapsed * self.speed)


def run_workers(
    tenants: Sequence[Tenant],
    every: float,
    start: pendulum.DateTime | None,
    speed: float,
    on_round: Callable[[Round], None],
    say: Callable[[str], None],
    warn: Callable[[str], None],
    leaves_at: datetime | None = None,
) -> None:
    """Work a round every `every` seconds (and at each plan's times of day) until SIGTERM or SIGINT;
    with `start`, on a campaign's clock from that moment, `speed` campaign seconds a real second (from
    the real moment `leaves_at` when given, else from now)."""
    clock = SharedClock(start, speed, leaves_at=leaves_at)
    for tenant in tenants:
        check_writable(tenant.engine, tenant.plan, clock.now())  # refused before starting, not later
        tenant.engine.dispose()
    worker = holder_name(token=True)
    lock = threading.Lock()
    stopping = threading.Event()

    def job() -> None:
        with lock:
            on_round(work_round(tenants, clock.now, worker))

    def sender() -> None:
        """Sending runs beside the ticks, not after them: fifty institutions' ticks take seconds, and
        the mail must not wait for them (nor they for a slow provider)."""
        while not stopping.is_set():
            try:
                done = send_pass(tenants, clock.now, worker, timedelta(seconds=every))
            except Exception as error:  # the database or the provider is down: say so, try again
                warn(f"sending stopped: {error}; trying again in {every:g} s")
                stopping.wait(every)
                continue
            if any(r.sent or r.failed or r.retried for r in done.sent.values()):
                on_round(done)
            else:
                stopping.wait(min(every, 1.0))

    sending = threading.Thread(target=sender, name="cuiban-sender", daemon=True)

    interval = timedelta(seconds=every)
    scheduler = build(tenants[0].plan, job, interval, clock)
    for tenant in tenants[1:]:  # every institution's times of day (digest, reminders), in its timezone
        for name, trigger in triggers(tenant.plan, interval, clock).items():
            same = tenant.plan.timezone == tenants[0].plan.timezone and scheduler.get_job(name) is not None
            if name != "tick" and not same and scheduler.get_job(f"{name}-{tenant.plan.timezone}") is None:
                scheduler.add_job(
                    job, trigger, id=f"{name}-{tenant.plan.timezone}", misfire_grace_time=MISFIRE_GRACE,
                    coalesce=True, max_instances=1,
                )

    def stop(signum: int, _frame: object) -> None:
        say(f"stopping ({signal.Signals(signum).name}) after the current round")
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    say(f"cuiban run --all: {len(tenants)} institutions, every {every:g} s; worker {worker}")
    sending.start()
    try:
        scheduler.start()
    finally:
        stopping.set()
        sending.join()  # the message in flight is recorded before the worker lets go
        with lock:  # a round in progress finishes first
            say("stopped")

