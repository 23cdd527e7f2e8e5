"""`cuiban run`: the engine as a long-running service, one per database.

The service holds the database's run lease (renewed at every tick; a holder that died
on this host is taken over at once) and ticks on the plan's schedule until SIGTERM or
SIGINT; a tick in progress finishes before the lease is let go. Each tick sends what
it queued within one interval (`delivery.budget`), so a slow provider never delays
the next tick.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from datetime import timedelta

import pendulum
from sqlalchemy import Engine

from cuiban.models import lease_store
from cuiban.notifications.render import Renderer
from cuiban.notifications.transports import Transport
from cuiban.schedules.service import Clock, build
from cuiban.services.cycles import check_writable
from cuiban.services.holders import holder_is_dead, holder_name
from cuiban.services.rejection import Refusal
from cuiban.services.tick_and_send import Delivery, TickAndSendReport, tick_and_send
from cuiban.workflow.calendar import WorkingCalendar
from cuiban.workflow.links import NO_LINKS, Links
from cuiban.workflow.plan.schema import Plan

LEASE = "cuiban.run"


class AlreadyRunning(Exception):  # noqa: N818 - a state, not a failure of ours
    """Another `cuiban run` holds this database's lease; the message is its holder."""


def run_service(
    engine: Engine,
    plan: Plan,
    calendar: WorkingCalendar,
    renderer: Renderer,
    transport: Transport,
    delivery: Delivery,
    every: float,
    start: pendulum.DateTime | None,
    speed: float,
    on_tick: Callable[[pendulum.DateTime, TickAndSendReport], None],
    say: Callable[[str], None],
    warn: Callable[[str], None],
    links: Links = NO_LINKS,
) -> None:
    """Tick every `every` seconds (and at the plan's times of day) until stopped; with `start`, on a
    campaign's clock from that moment, `speed` campaign seconds a real second; `links` for the mail."""
    clock = Clock(start, speed)
    check_writable(engine, plan, clock.now())  # a plan of another cycle is refused before it starts
    holder = holder_name(token=False)
    ttl = timedelta(seconds=max(2 * every, 120))
    busy = lease_store.acquire(engine, LEASE, holder, pendulum.now("UTC"), ttl, holder_is_dead)
    if busy:
        raise AlreadyRunning(busy)
    lock = threading.Lock()

    def job() -> None:
        with lock:
            if lease_store.acquire(engine, LEASE, holder, pendulum.now("UTC"), ttl, holder_is_dead):
                warn("the lease was taken over by another run; stopping.")
                scheduler.shutdown(wait=False)
                return
            now = clock.now()
            try:
                done = tick_and_send(
                    engine, plan, calendar, renderer, transport, now, delivery=delivery, links=links
                )
            except Refusal as refused:  # a new cycle was started meanwhile: this plan is last year's
                warn(f"{refused}; stopping.")
                scheduler.shutdown(wait=False)
                return
            on_tick(now, done)

    scheduler = build(plan, job, timedelta(seconds=every), clock)

    def stop(signum: int, _frame: object) -> None:
        say(f"stopping ({signal.Signals(signum).name}) after the current tick")
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    say(f"cuiban run: every {every:g} s, times of day in {plan.timezone}; holder {holder}")
    try:
        scheduler.start()
    finally:
        with lock:  # let a tick in progress finish before letting go of the database
            lease_store.release(engine, LEASE, holder)
        say("stopped")
