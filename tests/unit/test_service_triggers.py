"""The service's triggers fire at the plan's local times whatever the host's timezone: (now, next)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cuiban.planfile.loader import load_plan
from cuiban.schedules.service import Clock, times_of_day, triggers
from tests.conftest import SHIPPED_PLAN

PLAN, _ = load_plan(SHIPPED_PLAN)


@pytest.mark.parametrize(
    ("now_utc", "expected_utc"),
    [
        (
            datetime(2016, 12, 12, 0, 0, tzinfo=UTC),
            datetime(2016, 12, 12, 0, 30, tzinfo=UTC),
        ),  # 08:00 → 08:30 +08
        (datetime(2016, 12, 12, 0, 31, tzinfo=UTC), datetime(2016, 12, 13, 0, 30, tzinfo=UTC)),
        (
            datetime(2016, 12, 11, 16, 0, tzinfo=UTC),
            datetime(2016, 12, 12, 0, 30, tzinfo=UTC),
        ),  # midnight local
    ],
)
def test_digest_trigger_fires_at_0830_shanghai(now_utc: datetime, expected_utc: datetime) -> None:
    trigger = triggers(PLAN, timedelta(minutes=5), Clock())["at-08:30"]
    assert trigger.get_next_fire_time(None, now_utc) == expected_utc


def test_every_named_time_of_day_has_a_trigger_and_a_campaign_clock_ticks_on_the_interval_only() -> None:
    assert times_of_day(PLAN) == [(8, 30), (9, 0)]
    assert set(triggers(PLAN, timedelta(minutes=5), Clock())) == {"tick", "at-08:30", "at-09:00"}
    import pendulum

    assert set(triggers(PLAN, timedelta(seconds=1), Clock(pendulum.now("UTC")))) == {"tick"}


def test_a_campaign_clock_runs_from_its_start() -> None:
    import pendulum

    start = pendulum.datetime(2016, 12, 12, 8, 29, 59, tz="Asia/Shanghai")
    clock = Clock(start, speed=60)
    assert start <= clock.now() < start.add(minutes=5)
