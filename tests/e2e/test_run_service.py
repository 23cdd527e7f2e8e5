"""`cuiban run` as a process: host in UTC, digest at 08:30 Shanghai, one run per database, clean stops."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest
from click.testing import CliRunner

from cuiban.cli.main import cuiban
from cuiban.cli.replay_commands import SAMPLE
from tests.conftest import SHIPPED_PLAN

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "TZ": "UTC",
        "CUIBAN_PLAN": str(SHIPPED_PLAN),
        "CUIBAN_DB": f"sqlite:///{tmp_path / 'run.sqlite3'}",
        "CUIBAN_OUTBOX_DIR": str(tmp_path / "outbox"),
        "CUIBAN_SMTP_HOST": "",
    }
    result = CliRunner().invoke(
        cuiban, ["roster", "import", str(SAMPLE / "roster.csv"), "--now", "2016-11-28T08:00+08:00"], env=env
    )
    assert result.exit_code == 0
    return env


DEADLINE = 60.0
"""Seconds to wait for what a test awaits: generous, since each wait ends as soon as it holds."""


def wait_until(condition: Callable[[], object], what: str, deadline: float = DEADLINE) -> None:
    """Poll `condition` every 0.05 s until it holds; fail naming `what` was awaited."""
    give_up = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > give_up:
            pytest.fail(f"waited {deadline:g} s for {what}")
        time.sleep(0.05)


class Service:
    """A `cuiban run` process whose output lines are collected as they come, to wait on."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cuiban.cli.main", "run", "--every", "1", *args],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.out: list[str] = []
        self.err: list[str] = []
        self.readers = [
            threading.Thread(target=self._read, args=(self.process.stdout, self.out), daemon=True),
            threading.Thread(target=self._read, args=(self.process.stderr, self.err), daemon=True),
        ]
        for reader in self.readers:
            reader.start()

    @staticmethod
    def _read(stream: IO[str], lines: list[str]) -> None:
        for line in stream:
            lines.append(line.rstrip("\n"))

    def ticks(self) -> list[str]:
        """The campaign time of each tick reported so far (ISO, to the second, in the plan's zone)."""
        return [line.split(" ", 1)[0] for line in list(self.out) if " tick: " in line]

    def wait_for_line(self, marker: str) -> None:
        wait_until(
            lambda: any(marker in line for line in list(self.out)) or self.process.poll() is not None,
            f"`cuiban run` to print {marker!r}",
        )
        assert self.process.poll() is None, "\n".join(self.err)

    def wait_for_tick(self, at_or_after: str = "") -> str:
        """The first tick at or after `at_or_after`, once it is reported (its sending done)."""
        wait_until(
            lambda: any(t >= at_or_after for t in self.ticks()) or self.process.poll() is not None,
            f"a tick at or after {at_or_after or 'the start'}",
        )
        assert self.process.poll() is None, "\n".join(self.err)
        return next(t for t in self.ticks() if t >= at_or_after)

    def finish(self) -> tuple[str, str, int]:
        """Wait for the process to end on its own; its output and exit code."""
        code = self.process.wait(timeout=DEADLINE)
        for reader in self.readers:
            reader.join(timeout=DEADLINE)
        return "\n".join(self.out), "\n".join(self.err), code

    def stop(self) -> tuple[str, str]:
        """SIGTERM, then the clean stop: exit 0 after the tick in progress."""
        self.process.send_signal(signal.SIGTERM)
        out, err, code = self.finish()
        assert code == 0, err
        return out, err


def _outbox(env: dict[str, str]) -> list[dict]:
    import json

    result = CliRunner().invoke(cuiban, ["outbox", "list", "--format", "json"], env=env)
    return json.loads(result.stdout)


def test_run_in_utc_sends_the_0830_digest_at_0830_shanghai_and_only_once_across_restarts(env) -> None:
    first = Service(env, "--now", "2016-12-12T08:29:57+08:00")
    decided = first.wait_for_tick(at_or_after="2016-12-12T08:30:00+08:00")
    out, _ = first.stop()
    assert "stopping (SIGTERM)" in out and out.rstrip().endswith("stopped")
    assert decided < "2016-12-12T08:30:05+08:00"
    digests = [m for m in _outbox(env) if m["kind"] == "digest"]
    assert digests and {m["slot"] for m in digests} == {"2016-12-12"}
    for message in digests:  # decided by the first tick at or after 08:30 local, with the host in UTC
        assert message["created_at"] == decided

    again = Service(env, "--now", "2016-12-12T08:31:00+08:00")  # started again after a stop: nothing twice
    again.wait_for_tick()
    again.stop()
    messages = _outbox(env)
    assert len({m["key"] for m in messages}) == len(messages)
    assert all(m["status"] == "sent" for m in messages)
    assert len(list(Path(env["CUIBAN_OUTBOX_DIR"]).glob("*.eml"))) == len(messages)


def test_a_second_run_on_the_same_database_does_not_start(env) -> None:
    first = Service(env, "--now", "2016-12-12T08:00:00+08:00")
    first.wait_for_line("cuiban run: every")  # printed once the database's lease is held
    second = Service(env)
    _, err, code = second.finish()
    first.stop()
    assert code == 3
    assert "another `cuiban run`" in err and "not starting" in err


def test_sigterm_mid_batch_then_restart_loses_nothing_and_sends_nothing_twice(env) -> None:
    import asyncio

    from aiosmtpd.controller import Controller

    from tests.integration.test_smtp_delivery import Recorder, _free_port

    class Slow(Recorder):
        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            await asyncio.sleep(0.05)  # a slow server: the batch takes several seconds
            return await super().handle_DATA(server, session, envelope)

    recorder = Slow()
    port = _free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    smtp = {
        **env,
        "CUIBAN_SMTP_HOST": "127.0.0.1",
        "CUIBAN_SMTP_PORT": str(port),
        "CUIBAN_SMTP_SECURITY": "none",
        "CUIBAN_MAIL_FROM": "cuiban@school.example",
    }
    try:
        first = Service(smtp, "--every", "600", "--now", "2016-12-19T09:30:00+08:00")
        wait_until(lambda: recorder.accepted, "the SMTP server to accept the batch's first message")
        at_signal = len(recorder.accepted)
        out, _ = first.stop()  # SIGTERM while the batch is being sent
        assert "stopping (SIGTERM)" in out
        again = Service(smtp, "--every", "600", "--now", "2016-12-19T09:31:00+08:00")
        again.wait_for_tick()  # the catch-up tick at start, its sending included
        again.stop()
    finally:
        controller.stop()
    messages = _outbox(env)
    ids = [m["Message-ID"] for m in recorder.accepted]
    assert len(messages) > 20
    assert 0 < at_signal < len(messages)  # the signal came mid-batch
    assert all(m["status"] == "sent" for m in messages)
    assert len(ids) == len(set(ids)) == len(messages)
