"""The transition log is append-only by the database's own rule (triggers from migration 0006, on SQLite
and PostgreSQL), and history is written in order: an event dated before its record's last entry is
refused with one sentence and nothing is written."""

from __future__ import annotations

from pathlib import Path

import pendulum
import pytest
from click.testing import CliRunner
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DatabaseError

from cuiban.cli.main import cuiban
from cuiban.models import log_store, task_store
from cuiban.models.log_store import Entry, OutOfOrder
from cuiban.models.tables import Task, Teacher, TransitionLog
from cuiban.services import tasks, teachers
from cuiban.services.status_sync import sync_statuses
from tests.factories import import_minimal_roster, roster, write_csv

T0 = pendulum.datetime(2016, 12, 1, 9, tz="Asia/Shanghai")
LOG, TEACHER, TASK = TransitionLog.__table__, Teacher.__table__, Task.__table__


@pytest.fixture
def imported(engine, tmp_path: Path, minimal_plan):
    plan, calendar = minimal_plan
    import_minimal_roster(engine, plan, calendar, tmp_path, ["甲学院"], 3, T0)
    return engine, plan, calendar


def _everything(engine) -> tuple:
    with engine.connect() as connection:
        return (
            sorted(tuple(map(str, r)) for r in connection.execute(select(TEACHER))),
            sorted(tuple(map(str, r)) for r in connection.execute(select(TASK))),
            connection.execute(select(func.count()).select_from(LOG)).scalar_one(),
        )


def test_the_log_refuses_update_and_delete(imported) -> None:
    engine, _, _ = imported
    before = _everything(engine)
    statements = [
        update(LOG).values(note="rewritten"),
        update(LOG).where(LOG.c.record_key == "000001").values(at=T0.add(days=1)),
        delete(LOG),
        delete(LOG).where(LOG.c.record_key == "000002"),
    ]
    if engine.dialect.name == "postgresql":
        statements.append(text("TRUNCATE transition_log"))
    for statement in statements:
        with (
            pytest.raises(DatabaseError, match="transition_log is append-only"),
            engine.begin() as connection,
        ):
            connection.execute(statement)
    assert _everything(engine) == before
    with engine.begin() as connection:  # appending still works
        log_store.append(connection, [Entry("teacher", "000001", "pending", "pending", "update", "cli", T0)])
    assert _everything(engine)[2] == before[2] + 1


def test_a_teacher_event_before_the_last_entry_is_refused(imported, tmp_path) -> None:
    engine, plan, calendar = imported
    export = write_csv(tmp_path / "status-2016-12-03.csv", ["工号", "填报状态"], [["000001", "已提交"]])
    sync_statuses(engine, plan, calendar, export, T0.add(days=2))
    before = _everything(engine)

    with pytest.raises(OutOfOrder) as refused:
        teachers.fire(engine, plan, "000001", "review", T0.add(days=1))

    assert str(refused.value) == (
        "teacher 000001: its last log entry is at 2016-12-03T09:00:00+08:00, and an event may not be dated "
        "before it, but this one is at 2016-12-02T09:00:00+08:00; nothing was changed (give a later --now)"
    )
    assert _everything(engine) == before
    teachers.fire(engine, plan, "000001", "review", T0.add(days=2))  # at the same moment: in order
    assert _everything(engine) != before


def test_an_approved_correction_before_the_request_is_refused(imported, tmp_path) -> None:
    engine, plan, calendar = imported
    export = write_csv(tmp_path / "status-2016-12-03.csv", ["工号", "填报状态"], [["000002", "已上报"]])
    sync_statuses(engine, plan, calendar, export, T0.add(days=2))
    teachers.fire(
        engine,
        plan,
        "000002",
        "request_correction",
        T0.add(days=5),
        note="职称晋升",
        changes={"name": "王伟"},
    )
    before = _everything(engine)
    with pytest.raises(OutOfOrder, match="teacher 000002: its last log entry is at 2016-12-06T09:00:00"):
        teachers.fire(engine, plan, "000002", "approve_correction", T0.add(days=4))
    assert _everything(engine) == before


def test_a_task_done_before_its_last_entry_is_refused(imported) -> None:
    engine, plan, calendar = imported
    overdue_at = pendulum.datetime(2016, 12, 20, 9, 5, tz="Asia/Shanghai")
    with engine.begin() as connection:  # what a tick writes when the task falls overdue
        log_store.append(
            connection, [Entry("task", "audit/dept_a", "open", "overdue", "mark_overdue", "tick", overdue_at)]
        )
    before = _everything(engine)

    with pytest.raises(OutOfOrder) as refused:
        tasks.mark_done(engine, plan, calendar, "audit", "dept_a", overdue_at.subtract(days=2))

    assert str(refused.value) == (
        "task audit/dept_a: its last log entry is at 2016-12-20T09:05:00+08:00, and an event may not be "
        "dated before it, but this one is at 2016-12-18T09:05:00+08:00; nothing was changed (give a later "
        "--now)"
    )
    assert _everything(engine) == before
    assert tasks.mark_done(engine, plan, calendar, "audit", "dept_a", overdue_at) == "done_late"
    with engine.connect() as connection:
        assert task_store.find(connection, "audit", "dept_a")["state"] == "done_late"


def test_the_command_line_prints_the_sentence(tmp_path) -> None:
    from tests.conftest import SHIPPED_PLAN
    from tests.factories import ROSTER_HEADER

    env = {"CUIBAN_PLAN": str(SHIPPED_PLAN), "CUIBAN_DB": f"sqlite:///{tmp_path / 'cli.sqlite3'}"}

    def run(*args: str):
        return CliRunner().invoke(cuiban, list(args), env=env, catch_exceptions=False)

    path = write_csv(tmp_path / "roster.csv", ROSTER_HEADER, roster(["新闻传播学院"], 2))
    assert run("roster", "import", str(path), "--now=2016-12-06T10:00+08:00").exit_code == 0
    history = run("history", "000001").stdout

    result = run("teacher", "event", "000001", "issue_account", "--now=2016-12-05T10:00+08:00")

    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "teacher 000001: its last log entry is at 2016-12-06T10:00:00+08:00, and an event may not be dated "
        "before it, but this one is at 2016-12-05T10:00:00+08:00; nothing was changed (give a later --now)"
    )
    assert run("history", "000001").stdout == history
    done = run("task", "done", "dept_collector", "--unit", "news", "--now=2016-12-05T17:00+08:00")
    assert done.exit_code == 0  # a task with no history yet: any time will do
