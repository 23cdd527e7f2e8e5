"""Three `cuiban run --all` workers, one PostgreSQL database, 50 institutions, a replayed week
(issue 15, acceptance 4).

Every institution is the same synthetic school (one plan template, its own name and mail domain), so
every institution must end the week with the same messages as the others, and the same as one
institution ticked alone, hour by hour, by a single process. Meanwhile one worker is killed (SIGKILL)
while it sends; a local SMTP server records each arrival with its time, so the test can say that every
message arrived exactly once (by Message-ID) and that the account's rate held across the three workers.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pendulum
import pytest
from sqlalchemy import create_engine, text

from cuiban.models.database import open_engine
from cuiban.notifications.render import Renderer
from cuiban.notifications.transports import FileTransport
from cuiban.planfile.loader import load_plan
from cuiban.services.roster_import import import_roster
from cuiban.services.tasks import mark_done
from cuiban.services.tick_and_send import tick_and_send
from tests.conftest import MINIMAL_PLAN, PG_REQUIRED, PG_URL
from tests.delivery_support import Cuiban, Provider, serving, smtp_environment
from tests.factories import ROSTER_HEADER, roster, write_csv

pytestmark = pytest.mark.postgres
INSTITUTIONS = 50
TZ = "Asia/Shanghai"
START = pendulum.datetime(2016, 12, 12, 7, tz=TZ)  # a Monday
END = pendulum.datetime(2016, 12, 16, 18, tz=TZ)  # the Friday evening: the working week
SPEED = 1_200.0  # campaign seconds a real second: the week in about five minutes. A replay has no
# ticks at the plan's times of day (those follow the host's clock), only rounds one after the other,
# and a morning's round of 50 institutions (50 digests with their charts) takes 10-15 s on a loaded
# 2-core machine: at 1,200× that is 3-5 campaign hours, so every institution is still ticked every
# day between 08:30 and midnight, as cron ticks at 08:30 do in a real deployment.
RATE = 3_000  # messages a minute for the account, all workers together
KILL_AFTER = 40
"""One worker is killed once this many messages have arrived (Monday's digests are going out)."""
STARTUP = 45.0
"""Real seconds the workers are given to start (50 plans and schemas each) before the week begins."""


class TimedProvider(Provider):
    """The test server, also noting when each message arrived (host clock)."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        answer = await super().handle_DATA(server, session, envelope)
        self.times.append(time.monotonic())
        return answer


def _plan_text(n: int) -> str:
    return (
        MINIMAL_PLAN.read_text(encoding="utf-8")
        .replace("测试学院", f"测试学院{n:02d}")
        .replace("school.example", f"i{n:02d}.example")
    )


_reader = None


def _outbox(institution: str) -> list[dict]:
    """An institution's outbox, read through one connection for the whole test (the SMTP server runs in
    this process: fifty engines a poll would starve it of the interpreter)."""
    global _reader
    if _reader is None:
        _reader = create_engine(PG_URL, pool_size=1)
    with _reader.connect() as connection:
        query = text(f'SELECT key, kind, status, message_id, recipient FROM "inst_{institution}".outbox')
        return [dict(r) for r in connection.execute(query).mappings()]


def _normal(key: str, n: int) -> str:
    return key.replace(f"i{n:02d}.example", "school.example")


@pytest.fixture
def institutions(tmp_path: Path):  # type: ignore[no-untyped-def]
    if not PG_URL:
        if PG_REQUIRED:
            pytest.fail("CUIBAN_REQUIRE_PG=1 but CUIBAN_TEST_PG_URL is not set")
        pytest.skip("no PostgreSQL server")
    tag = uuid.uuid4().hex[:6]
    plans = tmp_path / "plans"
    plans.mkdir()
    ids = [f"w{tag}_{n:02d}" for n in range(INSTITUTIONS)]
    rows = roster(["甲学院", "乙学院"], 3)
    path = write_csv(tmp_path / "roster.csv", ROSTER_HEADER, rows)

    def build(n: int, institution: str, folder: Path = plans) -> None:
        plan_file = folder / f"{institution}.yaml"
        plan_file.write_text(_plan_text(n), encoding="utf-8")
        plan, calendar = load_plan(plan_file)
        engine = open_engine(PG_URL, institution=institution)
        import_roster(engine, plan, calendar, path, START.subtract(days=14))
        mark_done(engine, plan, calendar, "roster", "tdc", START.subtract(days=14), actor="程协调")
        engine.dispose()

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(build, range(INSTITUTIONS), ids))
    reference = f"w{tag}_ref"
    (tmp_path / "ref").mkdir()
    build(99, reference, tmp_path / "ref")
    yield plans, ids, reference, tmp_path / "ref" / f"{reference}.yaml"
    admin = create_engine(PG_URL)
    with admin.begin() as connection:
        for institution in [*ids, reference]:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "inst_{institution}" CASCADE')
    admin.dispose()


def _reference_keys(institution: str, plan_file: Path) -> set[str]:
    """One institution ticked alone, every campaign hour of the week, by this process."""
    plan, calendar = load_plan(plan_file)
    engine = open_engine(PG_URL, institution=institution)
    moment = START
    while moment <= END:
        tick_and_send(engine, plan, calendar, Renderer(plan.language), FileTransport(Path("/nonexistent")),
                      moment, send=False)
        moment = moment.add(hours=1)
    engine.dispose()
    return {_normal(r["key"], 99) for r in _outbox(institution)}


def test_three_workers_fifty_institutions_a_week(institutions, tmp_path: Path) -> None:
    plans, ids, reference, reference_plan = institutions
    provider = TimedProvider()
    with serving(provider) as port:
        environment = {
            **smtp_environment(port),
            "CUIBAN_DB": PG_URL,
            "CUIBAN_PLANS": str(plans),
            "CUIBAN_SMTP_RATE": str(RATE),
        }
        cuiban = Cuiban(tmp_path, environment)
        leaves_at = pendulum.now("UTC").add(seconds=STARTUP)  # all three started and ready by then
        argv = ("run", "--all", "--now", START.isoformat(), "--speed", str(SPEED), "--every", "2",
                "--clock-from", leaves_at.isoformat())
        workers = [cuiban.start(*argv) for _ in range(3)]
        try:
            rows, killed_at, outputs = _the_week(provider, workers, ids)
        finally:
            for worker in workers:
                if worker.process.exitcode is None:
                    worker.process.kill()
    _check(provider, ids, rows, killed_at, outputs, reference, reference_plan)


def _the_week(provider: TimedProvider, workers: list, ids: list[str]) -> tuple[dict, int, list[str]]:
    """Kill one worker once messages go out, let the others run the week out and send everything."""
    began = time.monotonic() + STARTUP  # when the campaign clock leaves START
    # kill the first worker while messages are going out
    deadline = began + 60
    while len(provider.arrived) < KILL_AFTER and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(provider.arrived) >= KILL_AFTER, workers[0].output.read_text()
    os.kill(workers[0].pid, signal.SIGKILL)
    killed_at = len(provider.arrived)
    # let the others run the week out, then until every message is sent
    time.sleep(max(0.0, (END - START).total_seconds() / SPEED - (time.monotonic() - began)))
    for worker in workers[1:]:  # the campaign clocks stop moving forward: no Monday ticks
        os.kill(worker.pid, signal.SIGSTOP)
    rows = {i: _outbox(i) for i in ids}
    for worker in workers[1:]:
        os.kill(worker.pid, signal.SIGCONT)
    week = {(i, r["key"]) for i in ids for r in rows[i]}
    wait_for = time.monotonic() + 120
    while time.monotonic() < wait_for:
        pending = [1 for i in ids for r in _outbox(i) if (i, r["key"]) in week and r["status"] != "sent"]
        if not pending:
            break
        time.sleep(2)
    for worker in workers[1:]:
        os.kill(worker.pid, signal.SIGTERM)
    outputs = [w.wait(60)[1] for w in workers[1:]]
    return rows, killed_at, outputs


def _check(provider, ids, rows, killed_at, outputs, reference, reference_plan) -> None:  # type: ignore[no-untyped-def]
    week = {(i, r["key"]) for i in ids for r in rows[i]}  # queued by the end of the week
    everything = [r for i in ids for r in _outbox(i) if (i, r["key"]) in week]
    assert len(everything) == len(week)
    assert all(r["status"] == "sent" for r in everything), (Counter(r["status"] for r in everything), outputs)
    # every message arrived, once: one arrival per Message-ID (a kill between the server's 250 and
    # the outcome's commit would send one message twice with the same Message-ID: see docs/scale.md)
    arrivals = Counter(provider.message_ids())
    assert {r["message_id"] for r in everything} <= set(arrivals)
    assert [m for m, n in arrivals.items() if n > 1] == [], (killed_at, outputs)
    # every institution got exactly the messages of one institution ticked alone, hour by hour
    expected = _reference_keys(reference, reference_plan)
    assert len(expected) > 10
    for n, institution in enumerate(ids):
        keys = {_normal(r["key"], n) for r in rows[institution]}
        assert keys == expected, (institution, sorted(keys ^ expected)[:6])
    # the account's rate held across the workers: no window of w seconds saw more than w × rate/60
    # (+2: arrival jitter)
    times = sorted(provider.times)
    for width in (1.0, 5.0, 20.0):
        most = max(sum(1 for t in times[i:] if t < start + width) for i, start in enumerate(times))
        assert most <= width * RATE / 60 + 2, (width, most)
    assert "round:" in outputs[0]
