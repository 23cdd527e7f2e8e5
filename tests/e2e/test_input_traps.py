"""The input traps of a reliability review, through the command line on SQLite and PostgreSQL:
each bad file is refused with one sentence per problem and nothing is written; each trap that
is not an error (a 1904 workbook) reads right."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from tempfile import mkdtemp

import openpyxl
import pytest
from click.testing import CliRunner
from openpyxl.utils.datetime import CALENDAR_MAC_1904
from sqlalchemy import func, select

from cuiban.cli.main import cuiban
from cuiban.models.tables import SyncExport, Task, Teacher, TransitionLog
from tests.conftest import SHIPPED_PLAN, url_of
from tests.factories import ROSTER_HEADER, roster, write_csv, write_xls, write_xlsx

NOW = "--now=2016-12-06T10:00+08:00"
TABLES = (Teacher.__table__, TransitionLog.__table__, Task.__table__, SyncExport.__table__)


@pytest.fixture
def db(engine):
    """(URL for the command line, an engine on the same database), on each real backend."""
    return url_of(engine), engine


@cache
def english_plan() -> Path:
    """The shipped plan with `language: en`: the English sentences asserted here (the Chinese ones,
    the default, are shown by test_errors_in_chinese.py)."""
    path = Path(mkdtemp()) / "plan.yaml"
    text = SHIPPED_PLAN.read_text(encoding="utf-8")
    path.write_text(text.replace("\nlanguage: zh\n", "\nlanguage: en\n"), encoding="utf-8")
    return path


def run(url: str, *args: str):
    env = {"CUIBAN_PLAN": str(english_plan()), "CUIBAN_DB": url}
    return CliRunner().invoke(cuiban, list(args), env=env, catch_exceptions=False)


def snapshot(engine) -> dict[str, list[tuple]]:
    """Every row of the tables a command may write, to compare before and after."""
    with engine.connect() as connection:
        return {
            table.name: sorted(tuple(map(str, row)) for row in connection.execute(select(table)))
            for table in TABLES
        }


def count(engine, table) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar_one()


@pytest.fixture
def loaded(db, tmp_path: Path):
    """Six teachers imported: a database with something to lose."""
    url, engine = db
    path = write_csv(tmp_path / "roster.csv", ROSTER_HEADER, roster(["新闻传播学院", "音乐学院"], 3))
    result = run(url, "roster", "import", str(path), NOW)
    assert result.exit_code == 0, result.output
    return url, engine


def refused(url: str, engine, *args: str) -> str:
    """Run a command that must be refused: exit 2, nothing written; its stderr."""
    before = snapshot(engine)
    result = run(url, *args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert snapshot(engine) == before
    return result.stderr


# ── headers ──


def test_two_staff_id_columns_are_refused_naming_both(loaded, tmp_path: Path) -> None:
    url, engine = loaded
    header = [*ROSTER_HEADER, "工号"]
    rows = [[*row, f"9{row[0]}"] for row in roster(["新闻传播学院"], 2, start=50)]
    path = write_xlsx(tmp_path / "two-ids.xlsx", header, rows)
    stderr = refused(url, engine, "roster", "import", str(path), NOW)
    assert stderr.strip() == (
        f"{path}: row 1: the header 工号 is in 2 columns, A (no. 1) and K (no. 11); "
        "keep one of them, so that it is clear which to read"
    )


def test_a_status_export_with_two_staff_id_columns_is_refused(loaded, tmp_path: Path) -> None:
    url, engine = loaded
    path = write_csv(
        tmp_path / "status-2016-12-06.csv",
        ["工号", "姓名", "工号", "填报状态"],
        [["000001", "某", "000002", "已提交"]],
    )
    stderr = refused(url, engine, "sync", str(path), NOW)
    assert f"{path}: row 1: the header 工号 is in 2 columns, A (no. 1) and C (no. 3)" in stderr


def test_a_renamed_header_is_named_with_the_closest_one_found(loaded, tmp_path: Path) -> None:
    url, engine = loaded
    header = ["职工号" if h == "工号" else h for h in ROSTER_HEADER]
    path = write_csv(tmp_path / "renamed.csv", header, roster(["新闻传播学院"], 2), title="教师用户导入模板")
    stderr = refused(url, engine, "roster", "import", str(path), NOW)
    assert stderr.strip() == (
        f"{path}: the header row (row 2) has no column 工号; the closest header there is 职工号 in "
        "column A (no. 1): rename it to 工号 if that is the column"
    )


def test_every_missing_header_is_named(loaded, tmp_path: Path) -> None:
    url, engine = loaded
    header = [{"工号": "编号", "所属部门": "部门名称"}.get(h, h) for h in ROSTER_HEADER]
    path = write_csv(tmp_path / "two-missing.csv", header, roster(["新闻传播学院"], 2))
    lines = refused(url, engine, "roster", "import", str(path), NOW).strip().splitlines()
    assert lines == [
        f"{path}: the header row (row 1) has no column 所属部门; the closest header there is 部门名称 "
        "in column E (no. 5): rename it to 所属部门 if that is the column",
        f"{path}: the header row (row 1) has no column 工号; the closest header there is 编号 in "
        "column A (no. 1): rename it to 工号 if that is the column",
    ]


# ── cells ──


def test_a_1904_workbook_reads_plain_date_numbers_and_dates_right(db, tmp_path: Path) -> None:
    url, engine = db
    rows = roster(["新闻传播学院"], 2)
    rows[0][3] = 27880  # 1980-05-01 counted from 1904-01-01 (in the 1900 system: 1976-04-30)
    rows[1][3] = datetime(1975, 9, 15)  # a date cell: stored as a number from 1904 too
    book = openpyxl.Workbook()
    book.epoch = CALENDAR_MAC_1904
    book.active.append(ROSTER_HEADER)
    for row in rows:
        book.active.append(row)
    path = tmp_path / "mac-1904.xlsx"
    book.save(path)

    result = run(url, "roster", "import", str(path), NOW)

    assert result.exit_code == 0, result.output
    with engine.connect() as connection:
        months = dict(
            connection.execute(select(Teacher.__table__.c.staff_id, Teacher.__table__.c.birth_month)).all()
        )
    assert months == {"000001": "1980-05", "000002": "1975-09"}


def test_a_formula_without_a_computed_value_is_refused_naming_its_cell(loaded, tmp_path: Path) -> None:
    url, engine = loaded
    rows = roster(["新闻传播学院"], 3, start=50)
    rows[1][3] = "=DATE(1980,5,1)"  # openpyxl writes formulas without computing them
    path = write_xlsx(tmp_path / "formula.xlsx", ROSTER_HEADER, rows)
    stderr = refused(url, engine, "roster", "import", str(path), NOW)
    assert stderr.splitlines()[0] == (
        f"{path}: row 3, column 出生日期: '=DATE(1980,5,1)': Sheet!D3 is a formula whose value was never "
        "computed and saved; open the file in Excel or WPS, let it calculate, save it and import it again"
    )


def test_a_formula_in_a_status_export_is_refused_naming_its_cell(loaded, tmp_path: Path) -> None:
    url, engine = loaded
    path = write_xlsx(
        tmp_path / "status-2016-12-06.xlsx",
        ["工号", "填报状态"],
        [["000001", "已提交"], ["000002", '=IF(A3="","","已提交")'], ['=TEXT(3,"000000")', "已提交"]],
    )
    lines = refused(url, engine, "sync", str(path), NOW).splitlines()
    assert lines[:2] == [
        f'{path}: row 3, column 填报状态: \'=IF(A3="","","已提交")\': Sheet!B3 is a formula whose value '
        "was never computed and saved; open the file in Excel or WPS, let it calculate, save it and "
        "import it again",
        f"{path}: row 4, column 工号: '=TEXT(3,\"000000\")': Sheet!A4 is a formula whose value was never "
        "computed and saved; open the file in Excel or WPS, let it calculate, save it and import it again",
    ]


def test_dates_before_1900_and_true_or_1_in_a_date_column_are_refused(loaded, tmp_path: Path) -> None:
    url, engine = loaded
    rows = roster(["新闻传播学院"], 3, start=50)
    rows[0][3] = True
    rows[1][3] = 1
    rows[2][3] = "1899-05-01"
    path = write_xlsx(tmp_path / "early.xlsx", ROSTER_HEADER, rows)
    lines = refused(url, engine, "roster", "import", str(path), NOW).splitlines()
    assert lines[:3] == [
        f"{path}: row 2, column 出生日期: 'True': TRUE is a yes/no value, not a date; enter the date itself",
        f"{path}: row 3, column 出生日期: '1': the number 1 is not a date anyone means (Excel counts 1 as "
        "1900-01-01; was a number or TRUE typed here?); enter the date itself",
        f"{path}: row 4, column 出生日期: '1899-05-01': 1899-05-01 is before 1900, which cannot be right "
        "here; enter the real date",
    ]


def test_true_in_an_xls_date_column_is_a_yes_no_value_not_the_number_1(loaded, tmp_path: Path) -> None:
    url, engine = loaded
    rows = roster(["新闻传播学院"], 2, start=50)
    rows[0][3] = True  # xlrd reads an .xls TRUE as the number 1, which was 1899-12-31
    path = write_xls(tmp_path / "true.xls", ROSTER_HEADER, rows)
    stderr = refused(url, engine, "roster", "import", str(path), NOW)
    assert stderr.splitlines()[0] == (
        f"{path}: row 2, column 出生日期: 'True': TRUE is a yes/no value, not a date; enter the date itself"
    )


def test_an_undecodable_byte_names_its_row_and_byte_offset(loaded, tmp_path: Path) -> None:
    url, engine = loaded
    path = write_csv(tmp_path / "utf8.csv", ROSTER_HEADER, roster(["新闻传播学院"], 5, start=50))
    data = path.read_bytes()
    lines = data.split(b"\n")
    offset = len(b"\n".join(lines[:3])) + 1 + lines[3].index("新".encode())  # 新 on row 4
    path.write_bytes(data[:offset] + b"\xff" + data[offset + 1 :])
    stderr = refused(url, engine, "roster", "import", str(path), NOW)
    assert stderr.strip() == (
        f"{path}: row 4 has a byte that is neither UTF-8 nor GBK/GB18030 (0xFF at byte offset {offset}, "
        "reading the file as UTF-8); fix or retype that row, or save the file again as UTF-8 or GBK"
    )


# ── whole files ──


def test_mark_missing_left_refuses_more_than_a_fifth_without_force(loaded, tmp_path: Path) -> None:
    url, engine = loaded
    header_only = write_csv(tmp_path / "header-only.csv", ROSTER_HEADER, [])
    stderr = refused(url, engine, "roster", "import", str(header_only), "--mark-missing-left", NOW)
    assert stderr.strip() == (
        f"{header_only}: 6 of the 6 current records (100%) are missing from this roster, more than the "
        "20% that --mark-missing-left marks as left without --force; nothing was written (check that "
        "this is the whole roster, or add --force)"
    )
    two_of_six = write_csv(tmp_path / "four.csv", ROSTER_HEADER, roster(["新闻传播学院", "音乐学院"], 3)[:4])
    stderr = refused(url, engine, "roster", "import", str(two_of_six), "--mark-missing-left", NOW)
    assert "2 of the 6 current records (33.3%) are missing" in stderr

    result = run(url, "roster", "import", str(two_of_six), "--mark-missing-left", "--force", NOW)
    assert result.exit_code == 0, result.output
    assert "2 marked left" in result.stdout


def test_mark_missing_left_marks_up_to_a_fifth(db, tmp_path: Path) -> None:
    url, engine = db
    rows = roster(["新闻传播学院"], 5)
    assert (
        run(url, "roster", "import", str(write_csv(tmp_path / "a.csv", ROSTER_HEADER, rows)), NOW).exit_code
        == 0
    )
    result = run(
        url,
        "roster",
        "import",
        str(write_csv(tmp_path / "b.csv", ROSTER_HEADER, rows[1:])),
        "--mark-missing-left",
        NOW,
    )
    assert result.exit_code == 0, result.output
    assert "1 marked left" in result.stdout


def test_a_header_only_status_export_is_refused_cleanly(loaded, tmp_path: Path) -> None:
    url, engine = loaded
    path = write_csv(tmp_path / "status-2016-12-06.csv", ["序号", "工号", "姓名", "填报状态"], [])
    stderr = refused(url, engine, "sync", str(path), NOW)
    assert stderr.strip() == (
        f"{path}: the export has its header (row 1) but no rows of teachers; nothing was applied "
        "(download the export again)"
    )
