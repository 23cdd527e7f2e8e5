"""The tick and the sending after it: the one use case behind `tick`, `run`, `simulate` and `demo`.

Ticks never overlap: each takes the database's tick lease first. A second tick started
while one runs says so (through `on_wait`) and waits for it, then finds everything
decided; a lease whose holder died on this host is taken over at once. Sending is
safe to overlap anyway (claims are atomic), so it runs outside the lease.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import Engine

from cuiban.models import lease_store
from cuiban.notifications.render import Renderer
from cuiban.notifications.transports import Transport
from cuiban.schedules.tick import TickReport, run_tick
from cuiban.services.cycles import writable
from cuiban.services.dispatch import LATE_AFTER, DispatchReport, dispatch
from cuiban.services.holders import holder_is_dead, holder_name, host_now
from cuiban.workflow.calendar import WorkingCalendar
from cuiban.workflow.links import NO_LINKS, Links
from cuiban.workflow.plan.schema import Plan

TICK_LEASE = "cuiban.tick"
TICK_TTL = timedelta(minutes=15)
"""Longer than any tick (30 s at a million teachers); a holder that died on this host is not waited for."""
WAIT_LIMIT = timedelta(minutes=15)


class TickBusy(Exception):
    """Another tick held the lease for longer than we were willing to wait."""


@dataclass(frozen=True)
class Delivery:
    """How to send after a tick: the provider's rate and how long one run may spend."""

    per_minute: int | None = None
    budget: timedelta | None = None
    late_after: timedelta = LATE_AFTER
    bots: Mapping[str, Transport] = field(default_factory=dict)
    """The group bots' transports by recipient (`wecom:news`): their messages go there, not by mail."""


@dataclass(frozen=True)
class TickAndSendReport:
    tick: TickReport
    sent: DispatchReport | None


def tick_and_send(
    engine: Engine,
    plan: Plan,
    calendar: WorkingCalendar,
    renderer: Renderer,
    transport: Transport,
    now: datetime,
    *,
    send: bool = True,
    delivery: Delivery = Delivery(),
    on_wait: Callable[[str], None] | None = None,
    wait_limit: timedelta = WAIT_LIMIT,
    links: Links = NO_LINKS,
) -> TickAndSendReport:
    """Tick at `now` under the lease, then send (unless `send` is False); `links`: where the web pages
    are, for the links the messages carry."""
    holder = holder_name()
    _take_tick_lease(engine, holder, on_wait, wait_limit)
    try:
        report = run_tick(
            engine,
            plan,
            calendar,
            renderer,
            now,
            message_domain=transport.domain,
            links=links,
            check=partial(writable, plan=plan, now=now),  # the plan's cycle, or refused
        )
    finally:
        lease_store.release(engine, TICK_LEASE, holder)
    if not send:
        return TickAndSendReport(report, None)
    sent = dispatch(
        engine,
        transport,
        now,
        per_minute=delivery.per_minute,
        budget=delivery.budget,
        late_after=delivery.late_after,
        bots=delivery.bots,
    )
    return TickAndSendReport(report, sent)


def _take_tick_lease(
    engine: Engine, holder: str, on_wait: Callable[[str], None] | None, wait_limit: timedelta
) -> None:
    waited_since = host_now()
    told = False
    while busy := lease_store.acquire(engine, TICK_LEASE, holder, host_now(), TICK_TTL, holder_is_dead):
        if not told and on_wait:
            on_wait(busy)
            told = True
        if host_now() - waited_since > wait_limit:
            raise TickBusy(busy)
        time.sleep(0.5)
