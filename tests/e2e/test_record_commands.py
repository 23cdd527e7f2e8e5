"""roster import, sync, teacher, task and history through the command line, on a SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cuiban.cli.main import cuiban
from tests.conftest import SHIPPED_PLAN
from tests.factories import ROSTER_HEADER, roster, write_csv, write_xlsx

NOW = "--now=2016-12-06T10:00+08:00"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"CUIBAN_PLAN": str(SHIPPED_PLAN), "CUIBAN_DB": f"sqlite:///{tmp_path / 'cli.sqlite3'}"}


def run(env: dict[str, str], *args: str):
    return CliRunner().invoke(cuiban, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def loaded(env, tmp_path: Path) -> dict[str, str]:
    path = write_xlsx(
        tmp_path / "roster.xlsx",
        ROSTER_HEADER,
        roster(["新闻传播学院", "音乐学院"], 3),
        title="教师用户导入模板",
    )
    result = run(env, "roster", "import", str(path), NOW)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("共 6 行：新导入 6，排除 0")
    return env


def test_bad_roster_exits_2_naming_every_row_and_writes_nothing(env, tmp_path: Path) -> None:
    rows = roster(["新闻传播学院"], 3)
    rows[0][4] = "不存在学院"
    rows[2][3] = "昨天"
    result = run(env, "roster", "import", str(write_csv(tmp_path / "bad.csv", ROSTER_HEADER, rows)), NOW)
    assert result.exit_code == 2
    assert "bad.csv：第 2 行「所属部门」列的值「不存在学院」：不是计划中的部门" in result.stderr
    assert "bad.csv：第 4 行「出生日期」列的值「昨天」：不是日期" in result.stderr
    assert "共 2 处问题，未写入任何数据。" in result.stderr
    assert run(env, "teacher", "show", "000001").exit_code == 2


def test_sync_then_events_then_history(loaded, tmp_path: Path) -> None:
    export = write_csv(
        tmp_path / "export.csv", ["工号", "填报状态"], [["000001", "已提交"], ["000002", "填报中"]]
    )
    result = run(loaded, "sync", str(export), NOW)
    assert result.exit_code == 0
    assert "变更 2（记录 5 步）" in result.stdout and "pending → submitted: 1" in result.stdout
    assert "变更 0（" in run(loaded, "sync", str(export), NOW).stdout

    refused = run(loaded, "teacher", "event", "000002", "confirm", NOW)
    assert refused.exit_code == 2
    assert "teacher 000002 is filling: the event 'confirm' is not allowed" in refused.stderr

    assert run(loaded, "teacher", "event", "000001", "review", "--by", "王晓燕", NOW).exit_code == 0
    result = run(loaded, "teacher", "event", "000001", "return_", "--note", "学历填写有误", NOW)
    assert result.stdout.strip() == "000001: reviewed → returned (return_)"

    history = run(loaded, "history", "000001").stdout.splitlines()
    assert history[0].startswith("2016-12-06T10:00:00+08:00  ∅ → pending  import (import) — roster.xlsx")
    assert history[-2].endswith("review (cli by 王晓燕)")
    assert history[-1].endswith("return_ (cli) — 学历填写有误")
    assert '"state": "returned"' in run(loaded, "teacher", "show", "000001", "--format", "json").stdout


def test_correction_after_reporting_keeps_the_old_value(loaded, tmp_path: Path) -> None:
    export = write_csv(tmp_path / "e.csv", ["工号", "填报状态"], [["000003", "已上报"]])
    run(loaded, "sync", str(export), NOW)
    assert (
        run(
            loaded,
            "teacher",
            "event",
            "000003",
            "request_correction",
            "--set",
            "title=副教授",
            "--note",
            "职称晋升",
            NOW,
        ).exit_code
        == 0
    )
    assert (
        run(loaded, "teacher", "event", "000003", "approve_correction", "--by", "教育厅", NOW).exit_code == 0
    )
    assert "title                  副教授" in run(loaded, "teacher", "show", "000003").stdout
    assert '{"title": [null, "副教授"]}' in run(loaded, "history", "000003").stdout


def test_task_list_and_done(loaded) -> None:
    listed = run(loaded, "task", "list", "--unit", "news", "--format", "json", NOW)
    assert listed.exit_code == 0
    assert '"key": "dept_collector/news"' in listed.stdout

    in_time = run(
        loaded,
        "task",
        "done",
        "dept_collector",
        "--unit",
        "news",
        "--by",
        "王立新",
        "--now=2016-12-05T17:00+08:00",
    )
    assert in_time.stdout.strip() == "dept_collector/news: done"
    late = run(loaded, "task", "done", "hr_roster", "--unit", "hr", NOW)
    assert late.stdout.strip() == "hr_roster/hr: done_late"
    again = run(loaded, "task", "done", "hr_roster", "--unit", "hr", NOW)
    assert again.exit_code == 2 and "already done" in again.stderr
    derived = run(loaded, "task", "done", "dept_filling", "--unit", "news", NOW)
    assert derived.exit_code == 2 and "completes by itself" in derived.stderr
    assert "complete (cli by 王立新)" in run(loaded, "history", "dept_collector/news").stdout
    monthly = run(loaded, "task", "done", "monthly_report", "--unit", "tdc", NOW)
    assert (
        monthly.stdout.strip() == "monthly_report/tdc: done_late"
    )  # 2016-12-01: the first one in the campaign
    assert run(loaded, "history", "monthly_report/tdc/2016-12-01").exit_code == 0
