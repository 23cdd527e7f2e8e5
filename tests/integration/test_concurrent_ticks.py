"""Two `cuiban tick` processes started together on one PostgreSQL database send each message once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pendulum
import pytest
from sqlalchemy import select

from cuiban.models import log_store, outbox_store
from cuiban.models.tables import Task
from cuiban.planfile.loader import load_plan
from cuiban.services.roster_import import import_roster
from tests.conftest import MINIMAL_PLAN, postgres_engine, url_of
from tests.factories import roster, write_csv
from tests.integration.test_smtp_delivery import Recorder, _free_port

pytestmark = pytest.mark.postgres
NOW = "2016-12-20T09:30:00+08:00"


@pytest.fixture
def pg_engine():
    yield from postgres_engine()


def test_two_ticks_at_once_send_each_message_once(pg_engine, tmp_path: Path) -> None:
    from aiosmtpd.controller import Controller

    plan, calendar = load_plan(MINIMAL_PLAN)
    rows = [[r[0], r[1], r[4], "36"] for r in roster(["甲学院", "乙学院"], 3)]
    write_csv(tmp_path / "r.csv", ["工号", "姓名", "所属部门", "合同期限(月)"], rows)
    import_roster(pg_engine, plan, calendar, tmp_path / "r.csv", pendulum.parse("2016-11-21T09:00+08:00"))

    recorder = Recorder()
    port = _free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    env = {
        **os.environ,
        "CUIBAN_PLAN": str(MINIMAL_PLAN),
        "CUIBAN_DB": url_of(pg_engine),
        "CUIBAN_SMTP_HOST": "127.0.0.1",
        "CUIBAN_SMTP_PORT": str(port),
        "CUIBAN_SMTP_SECURITY": "none",
        "CUIBAN_MAIL_FROM": "cuiban@school.example",
    }
    command = [sys.executable, "-m", "cuiban.cli.main", "tick", "--now", NOW]
    try:
        runs = [
            subprocess.Popen(
                command,
                env=env,
                cwd=Path(__file__).parents[2],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        results = [run.communicate(timeout=120) for run in runs]
    finally:
        controller.stop()
    assert [run.returncode for run in runs] == [0, 0], results

    with pg_engine.connect() as connection:
        sent = outbox_store.rows(connection)
        levels = dict(
            connection.execute(
                select(
                    Task.__table__.c.milestone_id + "/" + Task.__table__.c.unit_id,
                    Task.__table__.c.escalation_level,
                )
            ).all()
        )
        escalations = log_store.history(connection, "task", "filling/dept_b")
    assert sent and all(r["status"] == "sent" for r in sent)
    ids = [m["Message-ID"] for m in recorder.accepted]
    assert len(ids) == len(set(ids)) == len(sent)
    assert levels["filling/dept_b"] == 2
    assert [e["note"] for e in escalations if e["event"] == "escalate"] == ["level 1", "level 2"]
    queued = [int(out.split("queued: ")[1].split(" reminder")[0]) for out, _ in results]
    assert sorted(queued)[0] == 0  # the second tick found everything decided
