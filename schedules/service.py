"""`cuiban run`: APScheduler 3 calling the idempotent tick, in the plan's timezone whatever the host's.

The scheduler holds no state of its own that matters: every job is "tick now", and
the tick decides from the database what is due. Jobs: an interval tick every few
minutes (the first one at start: the catch-up after downtime), and a tick at each
time of day the plan names (digest, reminders), so those go out on the minute. Every
trigger is given the plan's timezone explicitly; misfire grace and coalescing are set
on each job. The clock is injectable: `Clock(start, speed)` runs a campaign's time
forward from `--now`, for trying the service without waiting for 08:30.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pendulum
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from cuiban.workflow.plan.schema import Plan

MISFIRE_GRACE = 3600
"""A job late by up to an hour (host asleep, busy) still runs; later than that, the next tick covers it."""


@dataclass
class Clock:
    """Real time, or a campaign's time starting at `start` and running `speed` times as fast."""

    start: pendulum.DateTime | None = None
    speed: float = 1.0
    _began: float = field(default_factory=time.monotonic)

    def now(self) -> pendulum.DateTime:
        if self.start is None:
            return pendulum.now("UTC")
        return self.start.add(seconds=(time.monotonic() - self._began) * self.speed)

    @property
    def real(self) -> bool:
        return self.start is None


def times_of_day(plan: Plan) -> list[tuple[int, int]]:
    """The distinct local times the plan names (digest, reminders): ticks run on those minutes."""
    times = {plan.digest.at, plan.reminders.at}
    times |= {m.reminders.at for m in plan.milestones.values() if m.reminders and m.reminders.at}
    return sorted((t.hour, t.minute) for t in times)


def triggers(plan: Plan, every: timedelta, clock: Clock) -> dict[str, object]:
    """The service's triggers, each in the plan's timezone."""
    found: dict[str, object] = {
        "tick": IntervalTrigger(seconds=every.total_seconds(), timezone=plan.timezone)
    }
    if clock.real:  # a campaign's clock runs apart from the host's: the interval tick serves it alone
        for hour, minute in times_of_day(plan):
            found[f"at-{hour:02d}:{minute:02d}"] = CronTrigger(
                hour=hour, minute=minute, timezone=plan.timezone
            )
    return found


def build(plan: Plan, job: Callable[[], None], every: timedelta, clock: Clock) -> BlockingScheduler:
    scheduler = BlockingScheduler(timezone=plan.timezone)
    for name, trigger in triggers(plan, every, clock).items():
        first = {"next_run_time": datetime.now(pendulum.timezone(plan.timezone))} if name == "tick" else {}
        scheduler.add_job(
            job,
            trigger,
            id=name,
            name=name,
            misfire_grace_time=MISFIRE_GRACE,
            coalesce=True,
            max_instances=1,
            replace_existing=True,
            **first,
        )
    return scheduler
