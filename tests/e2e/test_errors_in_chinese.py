"""Errors where office staff read them, in the plan's language (issue 14, acceptance 5): the same bad file
refused under `language: zh` (the shipped plan's) in Chinese and under `language: en` in English, naming
the same file, rows, columns and values; nothing written either way."""

from __future__ import annotations

import ast
import re
import sqlite3
from pathlib import Path

import pendulum
import pytest
from click.testing import CliRunner

from cuiban.cli.main import cuiban
from tests.conftest import SHIPPED_PLAN
from tests.factories import ROSTER_HEADER, roster, write_csv
from tests.web_support import make_env

NOW = "--now=2016-12-06T10:00+08:00"
ZH_LINE = re.compile(r"^(.+?)：第 (\d+) 行「([^」]*)」列(?:的值「([^」]*)」|为空)：(.+)$")
EN_LINE = re.compile(r"^(.+?): row (\d+), column (.+?): ('[^']*'): (.+)$")


def plan_in(language: str, folder: Path) -> Path:
    """The shipped plan, in `language`."""
    path = folder / f"plan-{language}.yaml"
    text = SHIPPED_PLAN.read_text(encoding="utf-8")
    path.write_text(text.replace("\nlanguage: zh\n", f"\nlanguage: {language}\n"), encoding="utf-8")
    return path


def run(plan: Path, database: Path, *args: str):
    env = {"CUIBAN_PLAN": str(plan), "CUIBAN_DB": f"sqlite:///{database}"}
    return CliRunner().invoke(cuiban, list(args), env=env, catch_exceptions=False)


def teachers(database: Path) -> int:
    """Rows written by an import or a sync: teachers, their log, the record of exports applied."""
    with sqlite3.connect(database) as connection:
        tables = ("teacher", "transition_log", "sync_export")
        return sum(connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in tables)


def places(stderr: str, language: str) -> list[tuple[str, int, str, str]]:
    """(file, row, column, value) of each problem line, every line before the summary being one."""
    pattern = ZH_LINE if language == "zh" else EN_LINE
    lines = stderr.strip().splitlines()[:-1]
    found = []
    for line in lines:
        match = pattern.match(line)
        assert match, (language, line)
        file, row, column, value, _reason = match.groups()
        found.append((file, int(row), column, value or "" if language == "zh" else ast.literal_eval(value)))
    return found


def refused_in_both(tmp_path: Path, *args: str) -> dict[str, str]:
    """stderr of the command under each language, after checking it was refused and wrote nothing."""
    said = {}
    for language in ("zh", "en"):
        database = tmp_path / f"{language}.sqlite3"
        result = run(plan_in(language, tmp_path), database, *args)
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
        assert teachers(database) == 0
        said[language] = result.stderr
    return said


@pytest.fixture
def bad_roster(tmp_path: Path) -> Path:
    """Four bad rows: an unknown department, a missing staff ID, a bad date, a repeated staff ID."""
    rows = roster(["新闻传播学院"], 5)
    column = {header: i for i, header in enumerate(ROSTER_HEADER)}
    staff, department, birth = (column[h] for h in ("工号", "所属部门", "出生日期"))
    rows[0][department] = "新闻系"
    rows[1][staff] = ""
    rows[2][birth] = "昨天"
    rows[4][staff] = rows[3][staff]
    return write_csv(tmp_path / "名单.csv", ROSTER_HEADER, rows)


def test_a_bad_roster_is_refused_in_the_plans_language_naming_the_same_cells(
    bad_roster: Path, tmp_path: Path
) -> None:
    said = refused_in_both(tmp_path, "roster", "import", str(bad_roster), NOW)
    zh, en = places(said["zh"], "zh"), places(said["en"], "en")
    assert zh == en
    assert [(row, column) for _, row, column, _ in zh] == [
        (2, "所属部门"), (3, "工号"), (4, "出生日期"), (6, "工号")
    ]
    assert {file for file, *_ in zh} == {str(bad_roster)}
    assert f"{bad_roster}：第 2 行「所属部门」列的值「新闻系」：不是计划中的部门" in said["zh"]
    assert f"{bad_roster}：第 3 行「工号」列为空：此处必须填写" in said["zh"]
    assert "不是日期；请写成 2016-12-15 这样的格式" in said["zh"]
    assert "工号重复（第一次出现在第 5 行）" in said["zh"]
    assert said["zh"].strip().splitlines()[-1] == f"{bad_roster}：共 4 处问题，未写入任何数据。"
    assert f"{bad_roster}: row 2, column 所属部门: '新闻系': unknown department" in said["en"]
    assert "duplicate staff ID (first on row 5)" in said["en"]
    assert said["en"].strip().splitlines()[-1] == f"{bad_roster}: 4 problem(s); nothing was written."


def test_a_roster_without_its_columns_is_refused_in_the_plans_language(tmp_path: Path) -> None:
    renamed = ["职工号" if header == "工号" else header for header in ROSTER_HEADER]
    path = write_csv(tmp_path / "renamed.csv", renamed, roster(["新闻传播学院"], 2))
    said = refused_in_both(tmp_path, "roster", "import", str(path), NOW)
    assert said["zh"].strip() == (
        f"{path}：表头行（第 1 行）没有「工号」列；最接近的是 A 列（第 1 列）的「职工号」，"
        "如果就是这一列，请把它改名为「工号」"
    )
    assert said["en"].strip() == (
        f"{path}: the header row (row 1) has no column 工号; the closest header there is 职工号 in column "
        "A (no. 1): rename it to 工号 if that is the column"
    )


def test_a_bad_status_export_is_refused_in_the_plans_language_naming_the_same_cells(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "status.csv", ["工号", "填报状态"], [["000001", "审核中"], ["", "已提交"]])
    said = refused_in_both(tmp_path, "sync", str(path), NOW)
    zh, en = places(said["zh"], "zh"), places(said["en"], "en")
    assert zh == en == [(str(path), 2, "填报状态", "审核中"), (str(path), 3, "工号", "")]
    assert "不是可识别的状态（可识别的有：未填报、填报中、已提交" in said["zh"]
    assert "unknown status (known: 未填报、填报中、已提交" in said["en"]


def test_plan_check_speaks_the_plans_language_at_the_same_places(tmp_path: Path) -> None:
    """The same two mistakes (a person no one declared, a key misspelt) in each language; a plan that
    cannot be read far enough to know its language is answered in Chinese."""
    said = {}
    for language in ("zh", "en"):
        text = plan_in(language, tmp_path).read_text(encoding="utf-8")
        text = text.replace("coordinator: cheng_xing", "coordinator: nobody", 1)
        text = text.replace("timezone:", "timezon:", 1)
        path = tmp_path / "broken.yaml"
        path.write_text(text, encoding="utf-8")
        result = CliRunner().invoke(cuiban, ["plan", "check", str(path)], catch_exceptions=False)
        assert result.exit_code == 2 and "Traceback" not in result.output
        said[language] = result.stderr.strip().splitlines()
    where = {language: [line.split(": ", 3)[0::2] for line in lines[:-1]] for language, lines in said.items()}
    assert where["zh"] == where["en"] and len(where["zh"]) >= 2  # file:line:column and key path
    assert any("未知的人员「nobody」（已有：" in line for line in said["zh"])
    assert any("unknown person 'nobody' (known: " in line for line in said["en"])
    assert any("未知的键 `timezon`；是不是想写 `timezone`？" in line for line in said["zh"])
    assert said["zh"][-1] == f"{path}：共 {len(where['zh'])} 处错误，未做任何操作。"
    assert said["en"][-1] == f"{path}: {len(where['en'])} error(s); nothing done."
    unreadable = tmp_path / "unreadable.yaml"
    unreadable.write_text("language: en\ntitle: [unclosed\n", encoding="utf-8")
    result = CliRunner().invoke(cuiban, ["plan", "check", str(unreadable)], catch_exceptions=False)
    assert ": 错误: (top level): 这不是有效的 YAML：" in result.stderr


def test_the_upload_page_gives_the_command_lines_reasons(bad_roster: Path, tmp_path: Path) -> None:
    """The same catalogue serves the web: each bad cell's reason on the preview page is the command line's."""
    said = refused_in_both(tmp_path, "roster", "import", str(bad_roster), NOW)["zh"]
    reasons = [line.split("：", 2)[-1] for line in said.strip().splitlines()[:-1]]
    env = make_env(tmp_path / "web.sqlite3", tmp_path, pendulum.datetime(2016, 12, 6, 10, tz="Asia/Shanghai"))
    try:
        env.sign_in("cheng_xing")
        with bad_roster.open("rb") as handle:
            upload = {"file": (bad_roster.name, handle)}
            answer = env.post("/uploads/roster", files=upload, form_page="/uploads")
        assert answer.status_code == 400
        listed = re.findall(r"<td>([^<]*)</td></tr>", answer.text)
        assert listed == reasons and len(listed) == 4
        assert teachers(tmp_path / "web.sqlite3") == 0
    finally:
        env.engine.dispose()


def test_every_message_the_code_names_is_in_the_catalogue_in_both_languages() -> None:
    """A message id typed in the code but missing from the catalogue would fail only when that problem
    occurs; the Chinese and English of each message fill in the same fields (but an empty cell's Chinese
    leaves out the empty value, and a fixed set of values is listed in Chinese from pydantic's words)."""
    from string import Formatter

    from cuiban.workflow.wording import CATALOGUE

    root = SHIPPED_PLAN.parent.parent
    call = r"(?:words|say|CellError|ScalarProblem)\((?:[a-z_.]+, )?"
    named = re.compile(call + r"""f?["']([a-z_]+\.[a-z_0-9{}.()]+)["']""")
    used = set()
    for folder in ("workflow", "planfile", "intake", "services", "cli", "web"):
        for source in (root / folder).rglob("*.py"):
            used |= set(named.findall(source.read_text(encoding="utf-8")))
    fixed = {name for name in used if "{" not in name}
    assert len(fixed) > 60 and fixed <= set(CATALOGUE), sorted(fixed - set(CATALOGUE))
    for name, (zh, en) in CATALOGUE.items():
        fields = [{f for _, f, _, _ in Formatter().parse(text) if f} for text in (zh, en)]
        assert fields[0] == fields[1] or name in ("file.row_problem_empty", "type.expected_one_of"), name
