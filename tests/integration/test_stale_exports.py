"""Status exports carry an as-of time; an export older than the newest applied is refused, on SQLite
and PostgreSQL, so that an old file never walks records back. A header-only export is refused cleanly."""

from __future__ import annotations

import os
from pathlib import Path

import pendulum
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from cuiban.cli.main import cuiban
from cuiban.models import teacher_store
from cuiban.models.tables import SyncExport, Teacher, TransitionLog
from cuiban.services.status_sync import (
    FROM_MODIFIED,
    FROM_NAME,
    FROM_OPTION,
    EmptyExport,
    StaleExport,
    sync_statuses,
)
from tests.factories import import_minimal_roster, roster, write_csv

NOW = pendulum.datetime(2016, 12, 8, 9, tz="Asia/Shanghai")
HEADER = ["序号", "工号", "姓名", "填报状态"]
TEACHER, LOG, EXPORT = Teacher.__table__, TransitionLog.__table__, SyncExport.__table__


@pytest.fixture
def imported(engine, tmp_path: Path, minimal_plan):
    plan, calendar = minimal_plan
    import_minimal_roster(engine, plan, calendar, tmp_path, ["甲学院"], 3, NOW.subtract(days=7))
    return engine, plan, calendar


def _export(tmp_path: Path, name: str, statuses: dict[str, str]) -> Path:
    rows = [[n, sid, "某", status] for n, (sid, status) in enumerate(statuses.items(), 1)]
    return write_csv(tmp_path / name, HEADER, rows)


def _everything(engine) -> tuple:
    with engine.connect() as connection:
        states = dict(connection.execute(select(TEACHER.c.staff_id, TEACHER.c.state)).all())
        logged = connection.execute(select(func.count()).select_from(LOG)).scalar_one()
        exports = [tuple(r) for r in connection.execute(select(EXPORT.c.file_name, EXPORT.c.as_of_from))]
    return states, logged, exports


def test_an_older_export_after_a_newer_one_is_refused_and_walks_nothing_back(imported, tmp_path) -> None:
    engine, plan, calendar = imported
    newer = _export(tmp_path, "status-2016-12-08.csv", {"000001": "已审核", "000002": "已提交"})
    older = _export(tmp_path, "status-2016-12-05.csv", {"000001": "已退回", "000002": "填报中"})
    sync_statuses(engine, plan, calendar, newer, NOW)
    before = _everything(engine)
    assert before[0] == {"000001": "reviewed", "000002": "submitted", "000003": "pending"}

    with pytest.raises(StaleExport) as refused:
        sync_statuses(engine, plan, calendar, older, NOW.add(hours=1))

    assert str(refused.value) == (
        f"{older} is as of 2016-12-05 (the date in its name), older than status-2016-12-08.csv (applied "
        "2016-12-08T09:00:00+08:00), which is as of 2016-12-08 (the date in its name): the newer export "
        "stands and nothing was applied (give --as-of if the file's time is wrong, or --force to apply "
        "the older one anyway)"
    )
    assert _everything(engine) == before


def test_force_applies_an_older_export_and_it_is_recorded_as_forced(imported, tmp_path) -> None:
    engine, plan, calendar = imported
    sync_statuses(
        engine, plan, calendar, _export(tmp_path, "status-2016-12-08.csv", {"000001": "已审核"}), NOW
    )
    older = _export(tmp_path, "status-2016-12-05.csv", {"000001": "已退回"})
    report = sync_statuses(engine, plan, calendar, older, NOW.add(hours=1), force=True)
    assert report.moves == {"reviewed → returned": 1}
    with engine.connect() as connection:
        forced = connection.execute(select(EXPORT.c.file_name, EXPORT.c.forced).order_by(EXPORT.c.id)).all()
        newest = teacher_store.newest_export(connection)
    assert [tuple(r) for r in forced] == [("status-2016-12-08.csv", False), ("status-2016-12-05.csv", True)]
    assert newest["file_name"] == "status-2016-12-08.csv"  # still the newest: a 12-06 file stays refused
    with pytest.raises(StaleExport):
        sync_statuses(
            engine, plan, calendar, _export(tmp_path, "status-2016-12-06.csv", {}), NOW.add(hours=2)
        )


def test_as_of_comes_from_the_option_then_the_name_then_the_modification_time(imported, tmp_path) -> None:
    engine, plan, calendar = imported
    unnamed = _export(tmp_path, "export.csv", {"000001": "填报中"})
    os.utime(unnamed, (0, pendulum.datetime(2016, 12, 6, 18, tz="Asia/Shanghai").timestamp()))
    sync_statuses(engine, plan, calendar, unnamed, NOW)
    named = _export(tmp_path, "导出20161207.csv", {"000001": "已提交"})
    sync_statuses(engine, plan, calendar, named, NOW)
    given = _export(tmp_path, "status-2016-12-01.csv", {"000001": "已审核"})
    sync_statuses(
        engine, plan, calendar, given, NOW, as_of=pendulum.datetime(2016, 12, 7, 17, tz="Asia/Shanghai")
    )
    with engine.connect() as connection:
        rows = connection.execute(select(EXPORT.c.file_name, EXPORT.c.as_of, EXPORT.c.as_of_from)).all()
    tz = "Asia/Shanghai"
    assert [
        (name, pendulum.instance(at).in_timezone(tz).isoformat(), source) for name, at, source in rows
    ] == [
        ("export.csv", "2016-12-06T18:00:00+08:00", FROM_MODIFIED),
        ("导出20161207.csv", "2016-12-07T00:00:00+08:00", FROM_NAME),
        ("status-2016-12-01.csv", "2016-12-07T17:00:00+08:00", FROM_OPTION),
    ]


def test_a_date_in_a_name_is_compared_by_the_day(imported, tmp_path) -> None:
    engine, plan, calendar = imported
    tz = "Asia/Shanghai"
    sync_statuses(
        engine, plan, calendar, _export(tmp_path, "status-2016-12-07.csv", {"000001": "填报中"}), NOW
    )
    same_day = _export(tmp_path, "late.csv", {"000001": "已提交"})
    report = sync_statuses(
        engine, plan, calendar, same_day, NOW, as_of=pendulum.datetime(2016, 12, 7, 8, tz=tz)
    )
    assert report.changed == 1  # that day's export is not older than another of the same day
    with pytest.raises(
        StaleExport, match=r"is as of 2016-12-06T23:00:00\+08:00 \(--as-of\), older than late"
    ):
        sync_statuses(engine, plan, calendar, same_day, NOW, as_of=pendulum.datetime(2016, 12, 6, 23, tz=tz))


def test_a_dry_run_records_nothing(imported, tmp_path) -> None:
    engine, plan, calendar = imported
    path = _export(tmp_path, "status-2016-12-08.csv", {"000001": "已审核"})
    before = _everything(engine)
    sync_statuses(engine, plan, calendar, path, NOW, dry_run=True)
    assert _everything(engine) == before


def test_a_header_only_export_is_refused_before_anything_is_written(imported, tmp_path) -> None:
    engine, plan, calendar = imported
    path = _export(tmp_path, "status-2016-12-08.csv", {})
    before = _everything(engine)
    with pytest.raises(EmptyExport) as refused:
        sync_statuses(engine, plan, calendar, path, NOW)
    assert str(refused.value) == (
        f"{path}: the export has its header (row 1) but no rows of teachers; nothing was applied "
        "(download the export again)"
    )
    assert _everything(engine) == before


def test_staging_no_targets_stages_nothing(engine) -> None:
    """What crashed with sqlite3.ProgrammingError: an empty executemany in the staging insert."""
    with engine.begin() as connection:
        teacher_store.stage_targets(connection, iter([]))
        assert teacher_store.staged_pairs(connection) == []


def test_the_command_line_says_which_export_is_newer(tmp_path) -> None:
    from tests.conftest import SHIPPED_PLAN
    from tests.factories import ROSTER_HEADER

    env = {"CUIBAN_PLAN": str(SHIPPED_PLAN), "CUIBAN_DB": f"sqlite:///{tmp_path / 'cli.sqlite3'}"}

    def run(*args: str):
        return CliRunner().invoke(cuiban, list(args), env=env, catch_exceptions=False)

    now = "--now=2016-12-08T09:00+08:00"
    roster_file = write_csv(tmp_path / "roster.csv", ROSTER_HEADER, roster(["新闻传播学院"], 2))
    assert run("roster", "import", str(roster_file), now).exit_code == 0
    newer = write_csv(tmp_path / "status.csv", ["工号", "填报状态"], [["000001", "已审核"]])
    assert run("sync", str(newer), "--as-of=2016-12-08T08:00+08:00", now).exit_code == 0
    older = write_csv(tmp_path / "status-2016-12-05.csv", ["工号", "填报状态"], [["000001", "填报中"]])

    result = run("sync", str(older), now)

    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"{older} 的数据时间是 2016-12-05（文件名中的日期），"
        "早于 2016-12-08T09:00:00+08:00 已导入的 status.csv，"
        "后者的数据时间是 2016-12-08T08:00:00+08:00（--as-of 指定）。以较新的导出为准，本次未做任何更改；"
        "如果文件时间不对，请用 --as-of 指定，确需导入较旧的文件请加 --force"
    )
    assert "reviewed" in run("teacher", "show", "000001").stdout
    forced = run("sync", str(older), "--force", now)
    assert forced.exit_code == 0 and "reviewed → filling: 1" in forced.stdout
