"""`cuiban run` as a process: host in UTC, digest at 08:30 Shanghai, one run per database, clean stops."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

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


def _start(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "cuiban.cli.main", "run", "--every", "1", *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _stop(process: subprocess.Popen) -> tuple[str, str]:
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    return out, err


def _outbox(env: dict[str, str]) -> list[dict]:
    import json

    result = CliRunner().invoke(cuiban, ["outbox", "list", "--format", "json"], env=env)
    return json.loads(result.stdout)


def test_run_in_utc_sends_the_0830_digest_at_0830_shanghai_and_only_once_across_restarts(env) -> None:
    first = _start(env, "--now", "2016-12-12T08:29:57+08:00")
    time.sleep(6)
    out, _ = _stop(first)
    assert "stopping (SIGTERM)" in out and out.rstrip().endswith("stopped")
    digests = [m for m in _outbox(env) if m["kind"] == "digest"]
    assert digests and {m["slot"] for m in digests} == {"2016-12-12"}
    for message in digests:  # decided by the first tick at or after 08:30 local, with the host in UTC
        assert "2016-12-12T08:30:00+08:00" <= message["created_at"] <= "2016-12-12T08:30:05+08:00"

    again = _start(env, "--now", "2016-12-12T08:31:00+08:00")  # started again after a stop: nothing twice
    time.sleep(3)
    _stop(again)
    messages = _outbox(env)
    assert len({m["key"] for m in messages}) == len(messages)
    assert all(m["status"] == "sent" for m in messages)
    assert len(list(Path(env["CUIBAN_OUTBOX_DIR"]).glob("*.eml"))) == len(messages)


def test_a_second_run_on_the_same_database_does_not_start(env) -> None:
    first = _start(env, "--now", "2016-12-12T08:00:00+08:00")
    time.sleep(2.5)
    second = _start(env)
    out, err = second.communicate(timeout=60)
    _stop(first)
    assert second.returncode == 3
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
        first = _start(smtp, "--every", "600", "--now", "2016-12-19T09:30:00+08:00")
        deadline = time.time() + 60
        while not recorder.accepted and time.time() < deadline:
            time.sleep(0.05)
        at_signal = len(recorder.accepted)
        out, _ = _stop(first)  # SIGTERM while the batch is being sent
        assert "stopping (SIGTERM)" in out
        again = _start(smtp, "--every", "600", "--now", "2016-12-19T09:31:00+08:00")
        time.sleep(4)
        _stop(again)
    finally:
        controller.stop()
    messages = _outbox(env)
    ids = [m["Message-ID"] for m in recorder.accepted]
    assert len(messages) > 20
    assert (
        0 < at_signal < len(messages)
    )  # the signal came mid-batch    assert all(m["status"] == "sent" for m in messages)
    assert len(ids) == len(set(ids)) == len(messages)
