"""The pieces of `cuiban run --all` that need no database: the shared campaign clock and the order in
which a worker takes the institutions."""

from __future__ import annotations

import pendulum

from cuiban.services.workers import SharedClock, Tenant, rotated

START = pendulum.datetime(2016, 12, 12, 7, tz="Asia/Shanghai")


def test_the_clock_waits_at_start_until_it_leaves_then_runs_at_its_speed() -> None:
    soon = pendulum.now("UTC").add(seconds=30)
    assert SharedClock(START, 3600, leaves_at=soon).now() == START
    left = pendulum.now("UTC").subtract(seconds=2)
    moved = SharedClock(START, 3600, leaves_at=left).now() - START
    assert 7200 <= moved.total_seconds() < 7200 + 3600  # two real seconds (and a bit) at 3600×


def test_two_workers_given_one_departure_share_one_clock() -> None:
    left = pendulum.now("UTC").subtract(seconds=5)
    a, b = SharedClock(START, 1800, leaves_at=left), SharedClock(START, 1800, leaves_at=left)
    assert abs((a.now() - b.now()).total_seconds()) < 1800 * 0.05  # within 50 ms of real time


def test_every_worker_takes_every_institution_from_a_start_of_its_own() -> None:
    tenants = [Tenant(f"i{n}", None, None, None, None, None) for n in range(7)]  # type: ignore[arg-type]
    orders = {tuple(t.institution for t in rotated(tenants, f"host:{pid}")) for pid in range(40)}
    assert all(sorted(order) == sorted(t.institution for t in tenants) for order in orders)
    assert len({order[0] for order in orders}) > 1
