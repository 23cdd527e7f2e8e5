"""Status sync on SQLite and PostgreSQL: legal paths in bulk, idempotent, conflicts reported not applied."""

from __future__ import annotations

from pathlib import Path

import pendulum
import pytest
from sqlalchemy import func, select

from cuiban.models import log_store, task_store
from cuiban.models.tables import Teacher, TransitionLog
from cuiban.services import teachers
from cuiban.services.rejection import FileRejected
from cuiban.services.status_sync import sync_statuses
from cuiban.workflow.teacher_machine import sync_path
from tests.factories import import_minimal_roster, write_csv

NOW = pendulum.datetime(2016, 12, 8, 9, tz="Asia/Shanghai")
EXPORT_HEADER = ["序号", "工号", "姓名", "填报状态"]
TEACHER, LOG = Teacher.__table__, TransitionLog.__table__


@pytest.fixture
def imported(engine, tmp_path: Path, minimal_plan):
    plan, calendar = minimal_plan
    import_minimal_roster(engine, plan, calendar, tmp_path, ["甲学院", "乙学院"], 5, NOW.subtract(days=7))
    return engine, plan, calendar


def _export(tmp_path: Path, statuses: dict[str, str], name: str = "export.csv") -> Path:
    rows = [[n, sid, "某", status] for n, (sid, status) in enumerate(statuses.items(), 1)]
    return write_csv(tmp_path / name, EXPORT_HEADER, rows, "gbk")


def _states(engine) -> dict[str, str]:
    with engine.connect() as connection:
        return dict(connection.execute(select(TEACHER.c.staff_id, TEACHER.c.state)).all())


def _log_count(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(LOG)).scalar_one()


def test_records_walk_their_legal_paths_and_every_step_is_logged(imported, tmp_path) -> None:
    engine, plan, calendar = imported
    statuses = {
        "000001": "已提交",
        "000002": "填报中",
        "000003": "已审核",
        "000004": "未填报",
        "000005": "已提交",
    }
    before = _log_count(engine)

    report = sync_statuses(engine, plan, calendar, _export(tmp_path, statuses), NOW, actor="程兴")

    states = _states(engine)
    assert [states[s] for s in statuses] == [
        "submitted",
        "filling",
        "reviewed",
        "account_issued",
        "submitted",
    ]
    expected_steps = sum(len(sync_path("pending", states[s])) for s in statuses)
    assert (report.changed, report.steps, report.unchanged) == (5, expected_steps, 0)
    assert _log_count(engine) - before == expected_steps
    with engine.connect() as connection:
        walked = [
            (e["event"], e["source"], e["actor"]) for e in log_store.history(connection, "teacher", "000003")
        ]
    assert walked[1:] == [(e, "sync", "程兴") for e in ("issue_account", "start", "submit", "review")]


def test_second_run_changes_nothing(imported, tmp_path) -> None:
    engine, plan, calendar = imported
    export = _export(tmp_path, {"000001": "已提交", "000006": "已退回"})
    first = sync_statuses(engine, plan, calendar, export, NOW)
    assert first.moves == {"pending → submitted": 1, "pending → returned": 1}
    assert first.steps == 3 + 4  # returned between two exports: issued, filled, submitted, returned
    count = _log_count(engine)
    again = sync_statuses(engine, plan, calendar, export, NOW.add(hours=1))
    assert (again.changed, again.steps, again.unchanged, again.conflicts) == (0, 0, 2, [])
    assert _log_count(engine) == count


def test_conflicts_and_unknown_ids_are_reported_not_applied(imported, tmp_path) -> None:
    engine, plan, calendar = imported
    sync_statuses(engine, plan, calendar, _export(tmp_path, {"000001": "已上报"}, "a.csv"), NOW)
    report = sync_statuses(
        engine,
        plan,
        calendar,
        _export(tmp_path, {"000001": "填报中", "000002": "已提交", "999999": "已提交"}, "b.csv"),
        NOW.add(days=1),
    )
    assert report.conflicts == ["第 2 行：000001 目前是「已上报」，按流程无法变为「填报中」"]
    assert report.unknown == ["第 4 行：999999"]
    assert report.changed == 1
    assert _states(engine)["000001"] == "reported"


def test_a_bad_file_is_refused_whole(imported, tmp_path) -> None:
    engine, plan, calendar = imported
    before, count = _states(engine), _log_count(engine)
    path = write_csv(
        tmp_path / "bad.csv",
        EXPORT_HEADER,
        [
            [1, "000001", "甲", "已提交"],
            [2, "000002", "乙", "已完成"],
            [3, "", "丙", "已提交"],
            [4, "000001", "甲", "已提交"],
        ],
    )
    with pytest.raises(FileRejected) as rejected:
        sync_statuses(engine, plan, calendar, path, NOW)
    assert [(p.row, p.column) for p in rejected.value.problems] == [(3, "填报状态"), (4, "工号"), (5, "工号")]
    assert "unknown status (known: 未填报、填报中" in rejected.value.problems[0].reason
    assert _states(engine) == before and _log_count(engine) == count


def test_derived_task_completes_when_all_submit_and_reopens_on_return(imported, tmp_path) -> None:
    engine, plan, calendar = imported
    dept_a = {f"{n:06d}": "已提交" for n in range(1, 6)}
    sync_statuses(engine, plan, calendar, _export(tmp_path, dept_a), NOW)
    with engine.connect() as connection:
        assert task_store.find(connection, "filling", "dept_a")["state"] == "done"
        assert task_store.find(connection, "filling", "dept_b")["state"] == "upcoming"
    teachers.fire(engine, plan, "000003", "return_", NOW.add(days=1), note="照片不合格")
    with engine.connect() as connection:
        task = task_store.find(connection, "filling", "dept_a")
        events = [e["event"] for e in log_store.history(connection, "task", "filling/dept_a")]
    assert task["state"] == "open" and task["completed_at"] is None
    assert events == ["complete", "reopen"]
