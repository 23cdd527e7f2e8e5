"""The transition log is append-only by the database's own rule (triggers from migration 0006, on SQLite
and PostgreSQL), and history is written in order: an event dated before its record's last entry is
refused with one sentence and nothing is written. The one exception (migration 0010): while a
`log_purge_permit` row exists, an UPDATE may change `data` and `note` and nothing else; DELETE and
TRUNCATE stay refused."""

from __future__ import annotations

from pathlib import Path

import pendulum
import pytest
from alembic import command
from click.testing import CliRunner
from sqlalchemy import delete, func, insert, inspect, select, text, update
from sqlalchemy.exc import DatabaseError

from cuiban.cli.main import cuiban
from cuiban.models import log_store, task_store
from cuiban.models.database import alembic_config, upgrade
from cuiban.models.log_store import Entry, OutOfOrder
from cuiban.models.purge_store import PERMIT
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
        update(LOG).values(data='{"phone": ["******", "******"]}'),
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


def _refused(engine, statement, *, permit: bool) -> None:
    with pytest.raises(DatabaseError, match="transition_log is append-only"), engine.begin() as connection:
        if permit:
            connection.execute(insert(PERMIT).values(at=T0, actor="test"))
        connection.execute(statement)


OTHER_COLUMNS = {
    "id": 10_000,
    "record_kind": "task",
    "record_key": "000009",
    "from_state": "reported",
    "to_state": "reported",
    "event": "review",
    "actor": "someone",
    "source": "web",
    "at": T0.add(days=1),
}


def test_a_permit_lets_only_data_and_note_change(imported) -> None:
    engine, _, _ = imported
    one = LOG.c.record_key == "000001"
    with engine.connect() as connection:
        row = connection.execute(select(LOG).where(one)).one()
    assert row.from_state is None  # NULL-safe: an unchanged NULL column does not refuse the update

    for name, value in OTHER_COLUMNS.items():
        _refused(engine, update(LOG).where(one).values({name: value}), permit=True)
        _refused(engine, update(LOG).where(one).values({name: value, "data": "{}"}), permit=True)
    _refused(engine, update(LOG).where(one).values(from_state=None, to_state=None), permit=True)
    _refused(engine, delete(LOG).where(one), permit=True)
    _refused(engine, update(LOG).where(one).values(data='{"phone": ["******", "******"]}'), permit=False)
    if engine.dialect.name == "postgresql":
        _refused(engine, text("TRUNCATE transition_log"), permit=True)
    with engine.connect() as connection:
        assert connection.execute(select(LOG).where(one)).one() == row

    with engine.begin() as connection:
        permit = connection.execute(insert(PERMIT).values(at=T0, actor="test")).inserted_primary_key[0]
        connection.execute(update(LOG).where(one).values(data='{"phone": ["******", "******"]}'))
        connection.execute(update(LOG).where(one).values(note="masked"))
        connection.execute(delete(PERMIT).where(PERMIT.c.id == permit))
    with engine.connect() as connection:
        after = connection.execute(select(LOG).where(one)).one()
        assert connection.execute(select(func.count()).select_from(PERMIT)).scalar_one() == 0
    assert (after.data, after.note) == ('{"phone": ["******", "******"]}', "masked")
    assert {**after._asdict(), "data": row.data, "note": row.note} == row._asdict()
    _refused(engine, update(LOG).where(one).values(note="again"), permit=False)  # the permit is gone


def test_the_downgrade_restores_0006s_rule(imported) -> None:
    """Back at 0009 there is no permit table and no exception: every UPDATE is refused again."""
    engine, _, _ = imported
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0009")
    _refused(engine, update(LOG).values(data="{}"), permit=False)
    _refused(engine, delete(LOG), permit=False)
    if engine.dialect.name == "postgresql":
        _refused(engine, text("TRUNCATE transition_log"), permit=False)
    with engine.connect() as connection:
        assert "log_purge_permit" not in inspect(connection).get_table_names()
    upgrade(engine)
    with engine.connect() as connection:
        assert "log_purge_permit" in inspect(connection).get_table_names()
    _refused(engine, update(LOG).values(to_state="x"), permit=True)


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
