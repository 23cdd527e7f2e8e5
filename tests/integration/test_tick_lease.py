"""Overlapping ticks: the second says one is running and waits; a holder that died is not waited for."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from cuiban.models import lease_store
from cuiban.notifications.render import Renderer
from cuiban.notifications.transports import FileTransport
from cuiban.services.holders import holder_is_dead, holder_name, host_now
from cuiban.services.tick_and_send import TICK_LEASE, TickBusy, tick_and_send
from tests.integration.test_catch_up_tick import _setup
from tests.integration.test_tick_campaign import at


def _dead_holder() -> str:
    process = subprocess.Popen(["true"])
    process.wait()
    return f"{socket.gethostname()}:{process.pid}:deadbeef"


def _tick(engine, plan, calendar, tmp_path: Path, **options):
    return tick_and_send(
        engine,
        plan,
        calendar,
        Renderer("zh"),
        FileTransport(tmp_path / "outbox"),
        at("12-16", "09:30"),
        **options,
    )


def test_a_second_tick_says_one_is_running_and_waits_for_it(engine, tmp_path: Path) -> None:
    plan, calendar = _setup(engine, tmp_path)
    other = holder_name()
    assert lease_store.acquire(engine, TICK_LEASE, other, host_now(), timedelta(minutes=15)) is None
    told: list[str] = []
    with pytest.raises(TickBusy):
        _tick(engine, plan, calendar, tmp_path, on_wait=told.append, wait_limit=timedelta(seconds=1))
    assert told == [other]
    threading.Timer(1.0, lease_store.release, (engine, TICK_LEASE, other)).start()
    started = time.monotonic()
    done = _tick(engine, plan, calendar, tmp_path, on_wait=told.append)
    assert 0.9 < time.monotonic() - started < 30 and done.tick.queued["digest"] == 1


def test_a_tick_lease_whose_holder_died_is_taken_over_at_once(engine, tmp_path: Path) -> None:
    plan, calendar = _setup(engine, tmp_path)
    dead = _dead_holder()
    assert holder_is_dead(dead) and not holder_is_dead(holder_name())
    assert not holder_is_dead(f"elsewhere.example:{1}:x")  # another host: only its lease's expiry counts
    lease_store.acquire(engine, TICK_LEASE, dead, host_now(), timedelta(minutes=15))
    told: list[str] = []
    done = _tick(engine, plan, calendar, tmp_path, on_wait=told.append, wait_limit=timedelta(seconds=1))
    assert told == [] and done.sent.sent > 0


def test_a_dead_run_does_not_block_its_restart(engine) -> None:
    dead = _dead_holder().rsplit(":", 1)[0]  # `cuiban run` names itself host:pid
    ttl = timedelta(minutes=15)
    assert lease_store.acquire(engine, "cuiban.run", dead, host_now(), ttl) is None
    me = holder_name(token=False)
    assert lease_store.acquire(engine, "cuiban.run", me, host_now(), ttl) == dead  # without the check
    assert lease_store.acquire(engine, "cuiban.run", me, host_now(), ttl, holder_is_dead) is None
