"""`cuiban plan check|show|roll` through the command line, on real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cuiban.cli.main import cuiban
from cuiban.planfile.loader import read_plan
from tests.conftest import SHIPPED_PLAN

MID_CAMPAIGN = "2016-12-10T10:00+08:00"


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cuiban, list(args), env=env, catch_exceptions=False)


def test_check_prints_ok_with_counts_and_the_warnings() -> None:
    result = run("plan", "check", str(SHIPPED_PLAN))
    assert result.exit_code == 0
    assert result.stdout.startswith(f"OK {SHIPPED_PLAN}: cycle 2016, 12 milestones")
    assert "12 departments" in result.stdout
    assert "截止日期 2016-12-25（星期日）是周末，不是工作日" in result.stderr


def test_check_exits_2_with_located_errors(write_plan, minimal_plan_text: str) -> None:
    path = write_plan(minimal_plan_text.replace("owners: [coord]", "owners: [nobody]"))
    result = run("plan", "check", str(path))
    assert result.exit_code == 2
    assert f"{path}:" in result.stderr
    assert "错误: milestones.roster.owners[0]: 「nobody」既不是 `people` 中的人员" in result.stderr
    assert result.stdout == ""


def test_plan_path_defaults_to_cuiban_plan(write_plan, minimal_plan_text: str) -> None:
    path = write_plan(minimal_plan_text)
    result = run("plan", "check", env={"CUIBAN_PLAN": str(path)})
    assert result.exit_code == 0
    assert f"OK {path}" in result.stdout


SEED_ROWS = {
    # 附件7 row: (start, due, unit, owner)
    1: (None, "2016-11-28", "人事处", "陈岚"),
    2: ("2016-11-29", "2016-12-01", "教师发展中心", "程兴"),
    3: ("2016-12-02", "2016-12-15", "各部门", "各单位信息采集员"),
    4: (None, "2016-12-15", "人事处、教师发展中心", "陈岚、程兴"),
    5: ("2016-12-15", "2016-12-19", "各部门", "各单位信息采集员"),
    6: ("2016-12-22", "2016-12-25", "教师发展中心", "程兴"),
    7: ("2016-12-26", "2016-12-30", "教师发展中心", "程兴"),
}


def _show_json(now: str = MID_CAMPAIGN) -> dict:
    result = run("plan", "show", str(SHIPPED_PLAN), "--now", now, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_show_json_lists_every_row_of_attachment_7() -> None:
    doc = _show_json()
    by_row = {int(m["source"].split("第")[1][0]): m for m in doc["milestones"] if "附件7" in m["source"]}
    assert sorted(by_row) == list(range(1, 8))
    for row, (start, due, unit, owner) in SEED_ROWS.items():
        m = by_row[row]
        assert m["start"] == (f"{start}T00:00:00+08:00" if start else None), row
        assert m["due"] == f"{due}T23:59:59+08:00", row
        assert (m["unit"], m["owner"]) == (unit, owner), row
    assert doc["now"] == "2016-12-10T10:00:00+08:00"


def test_show_json_has_the_deadlines_outside_attachment_7() -> None:
    by_id = {m["id"]: m for m in _show_json()["milestones"]}
    assert by_id["dept_collector"]["due"] == "2016-12-05T23:59:59+08:00"
    assert by_id["dept_audit_paper"]["due"] == "2016-12-19T23:59:59+08:00"
    assert (by_id["teacher_confirmation"]["kind"], by_id["teacher_confirmation"]["status"]) == (
        "undated",
        "undated",
    )
    assert by_id["tdc_import_within_3_days"]["kind"] == "relative"
    assert by_id["tdc_import_within_3_days"]["status"] == "waiting"
    assert by_id["monthly_report"]["kind"] == "monthly"
    assert set(by_id["dept_filling"]) == {
        "id",
        "title",
        "source",
        "kind",
        "unit",
        "units",
        "owner",
        "owners",
        "start",
        "due",
        "status",
        "working_days_left",
    }


def test_row_3_is_open_with_4_working_days_left_on_saturday_12_10() -> None:
    row3 = next(m for m in _show_json()["milestones"] if m["source"] == "附件7 第3行")
    assert (row3["status"], row3["working_days_left"]) == ("open", 4)


def test_show_table_is_readable() -> None:
    result = run("plan", "show", str(SHIPPED_PLAN), "--now", MID_CAMPAIGN)
    assert result.exit_code == 0
    assert "组织教师上网填报信息" in result.stdout
    assert "进行中 open" in result.stdout
    assert result.stderr == ""  # warnings belong to `plan check`


@pytest.mark.parametrize("bad", ["2016-12-10T10:00", "yesterday"])
def test_now_must_be_iso_with_an_offset(bad: str) -> None:
    result = run("plan", "show", str(SHIPPED_PLAN), "--now", bad)
    assert result.exit_code == 2
    assert "--now" in result.stderr


def test_roll_to_2017_keeps_comments_and_moves_weekend_deadlines(tmp_path: Path) -> None:
    out = tmp_path / "plan-2017.yaml"
    result = run("plan", "roll", str(SHIPPED_PLAN), "--to-cycle", "2017", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert "plan check: OK" in result.stdout
    assert "milestones.tdc_submit.due" in result.stdout and "2016-12-30 → 2017-12-29" in result.stdout

    before = SHIPPED_PLAN.read_text(encoding="utf-8").splitlines()
    after = out.read_text(encoding="utf-8").splitlines()
    assert len(before) == len(after)
    comments = [(b, a) for b, a in zip(before, after, strict=True) if b.lstrip().startswith("#")]
    assert comments and all(b == a for b, a in comments)
    assert "    due: 2017-12-29\n" in out.read_text(encoding="utf-8")

    loaded = read_plan(out)
    assert loaded.ok and loaded.plan is not None
    assert loaded.plan.cycle == 2017
    assert loaded.plan.milestones["dept_filling"].due.isoformat() == "2017-12-15"


def test_roll_moves_a_holiday_deadline_to_the_previous_working_day(
    write_plan, minimal_plan_text: str, tmp_path: Path
) -> None:
    source = write_plan(minimal_plan_text.replace("due: 2016-11-28", "due: 2016-09-30"))
    out = tmp_path / "next.yaml"
    result = run("plan", "roll", str(source), "--to-cycle", "2017", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    # 2017-09-30 is a Saturday but a make-up workday (调休上班), so the deadline stays:
    line = next(x for x in result.stdout.splitlines() if "milestones.roster.due" in x)
    assert line.split()[1:] == ["2016-09-30", "→", "2017-09-30"]
    # 2017-10-03 is a 国庆 holiday: back to the last working day before it.
    source = write_plan(minimal_plan_text.replace("due: 2016-11-28", "due: 2016-10-03"))
    result = run("plan", "roll", str(source), "--to-cycle", "2017", "-o", str(out))
    assert "2016-10-03 → 2017-09-30" in result.stdout
    assert read_plan(out).plan.milestones["roster"].due.isoformat() == "2017-09-30"


def test_roll_into_a_year_without_holiday_data_warns(tmp_path: Path) -> None:
    out = tmp_path / "plan-2027.yaml"
    result = run("plan", "roll", str(SHIPPED_PLAN), "--to-cycle", "2027", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert "官方节假日日历还没有 2027 年的数据" in result.stderr
    assert "plan check: OK" in result.stdout


def test_roll_without_output_prints_yaml_on_stdout() -> None:
    result = run("plan", "roll", str(SHIPPED_PLAN), "--to-cycle", "2017")
    assert result.exit_code == 0
    assert result.stdout.startswith("# cuiban plan")
    assert "cycle: 2017" in result.stdout
    assert "→" in result.stderr


def test_roll_refuses_the_same_cycle() -> None:
    result = run("plan", "roll", str(SHIPPED_PLAN), "--to-cycle", "2016")
    assert result.exit_code == 2
    assert "already for cycle 2016" in result.stderr
