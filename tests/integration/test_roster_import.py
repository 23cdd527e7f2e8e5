"""Roster import on real files: every format imports the same, bad files are refused whole."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pendulum
import pytest
from sqlalchemy import func, select

from cuiban.models import log_store
from cuiban.models.tables import Teacher, TransitionLog
from cuiban.services.rejection import FileRejected
from cuiban.services.roster_import import import_roster
from tests.factories import ROSTER_HEADER, roster, teacher_row, write_csv, write_xls, write_xlsx

NOW = pendulum.datetime(2016, 11, 29, 9, tz="Asia/Shanghai")
TITLE = "河北传媒学院 教师用户导入模板"
TEACHER, LOG = Teacher.__table__, TransitionLog.__table__


def _rows() -> list[list]:
    rows = roster(["新闻传播学院", "音乐学院", "思政教研室"], 4)
    rows[1][7] = "6"  # contract too short → excluded
    rows[2][8] = "是"  # in service at another university → excluded
    rows[3][6] = "外聘"  # external hire: in scope
    rows[5][7] = "无固定期限"
    rows[6][1] = "李　明"  # full-width space
    return rows


def _as_excel_values(rows: list[list]) -> list[list]:
    """What Excel gives back: real dates and numbers where a person typed them."""
    converted = []
    for row in rows:
        row = list(row)
        row[3] = datetime.fromisoformat(row[3])
        row[7] = int(row[7]) if row[7].isdigit() else row[7]
        converted.append(row)
    return converted


WRITERS = {
    "xlsx": lambda p, rows, title=None: write_xlsx(p, ROSTER_HEADER, _as_excel_values(rows), title),
    "xls": lambda p, rows, title=None: write_xls(p, ROSTER_HEADER, rows, title),
    "utf8.csv": lambda p, rows, title=None: write_csv(p, ROSTER_HEADER, rows, "utf-8", title),
    "utf8bom.csv": lambda p, rows, title=None: write_csv(p, ROSTER_HEADER, rows, "utf-8-sig", title),
    "gbk.csv": lambda p, rows, title=None: write_csv(p, ROSTER_HEADER, rows, "gbk", title),
}


def _write(tmp_path: Path, kind: str, rows: list[list], title: str | None = None) -> Path:
    suffix = ".xlsx" if kind == "xlsx" else ".xls" if kind == "xls" else ".csv"
    return WRITERS[kind](tmp_path / f"roster-{kind.replace('.csv', '')}{suffix}", rows, title)


def _teachers(engine) -> list[tuple]:
    columns = [c for c in TEACHER.c if c.name not in ("id", "state_changed_at", "updated_at")]
    with engine.connect() as connection:
        return [tuple(r) for r in connection.execute(select(*columns).order_by(TEACHER.c.staff_id))]


def _count(engine, table) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar_one()


@pytest.mark.parametrize("title", [None, TITLE], ids=["header-first", "title-row-above"])
def test_every_format_imports_identically(tmp_path: Path, plan_and_calendar, title) -> None:
    from cuiban.models.database import open_engine

    plan, calendar = plan_and_calendar
    results = {}
    for kind in WRITERS:
        engine = open_engine(f"sqlite:///{tmp_path / kind}.sqlite3")
        report = import_roster(engine, plan, calendar, _write(tmp_path, kind, _rows(), title), NOW)
        assert (report.imported, report.excluded) == (10, 2), kind
        results[kind] = _teachers(engine)
        engine.dispose()
    reference = results["utf8.csv"]
    assert all(rows == reference for rows in results.values())
    by_id = {r[0]: r for r in reference}
    assert by_id["000001"][1] == teacher_row(1, "x")[1] and by_id["000007"][1] == "李 明"
    states = {r[0]: r[-2:] for r in reference}  # (state, excluded_rule)
    assert states["000002"] == ("excluded", "contract_one_year")
    assert states["000003"] == ("excluded", "not_in_service_elsewhere")
    assert states["000004"] == ("pending", None)
    units = {r[0]: r[2] for r in reference}
    assert units["000009"] == "politics"  # found by its alias 思政教研室


def test_five_bad_rows_give_exactly_five_errors_and_write_nothing(
    engine, tmp_path, plan_and_calendar
) -> None:
    plan, calendar = plan_and_calendar
    rows = _as_excel_values(roster(["新闻传播学院"], 10))
    rows[1][1] = ""  # row 3: name missing
    rows[3][0] = 4  # row 5: Excel turned the staff ID into a number
    rows[5][4] = "新闻学院"  # row 7: unknown department
    rows[6][3] = "1980-13-01"  # row 8: not a date
    rows[8][0] = "000008"  # row 10: duplicate of row 9
    path = write_xlsx(tmp_path / "bad.xlsx", ROSTER_HEADER, rows)

    with pytest.raises(FileRejected) as rejected:
        import_roster(engine, plan, calendar, path, NOW)

    got = [(p.row, p.column, p.value) for p in rejected.value.problems]
    assert got == [
        (3, "姓名", ""),
        (5, "工号", "4"),
        (7, "所属部门", "新闻学院"),
        (8, "出生日期", "1980-13-01"),
        (10, "工号", "000008"),
    ]
    reasons = [p.reason for p in rejected.value.problems]
    assert "required" in reasons[0] and "leading zeros" in reasons[1]
    assert "closest known: 新闻传播学院" in reasons[2] and "calendar date" in reasons[3]
    assert reasons[4] == "duplicate staff ID (first on row 9)"
    assert all(line.startswith(f"{path}: row ") for line in rejected.value.lines())
    assert _count(engine, TEACHER) == 0 and _count(engine, LOG) == 0


def test_the_same_problems_when_the_checking_is_split_over_processes(
    engine, tmp_path, plan_and_calendar, monkeypatch
) -> None:
    """Batches of 3 rows, checked alternately by two processes: a duplicate within one part,
    one across parts, and a bad cell are all named, in row order; nothing is written."""
    from cuiban.services import roster_import

    monkeypatch.setattr(roster_import, "BATCH", 3)
    plan, calendar = plan_and_calendar
    rows = roster(["新闻传播学院"], 14)  # file rows 2-15: batches 2-4 (part 0), 5-7 (part 1), 8-10 (part 0)…
    rows[1][0] = "000001"  # row 3: duplicate of row 2, same batch, same part
    rows[4][0] = "000004"  # row 6 (part 1): duplicate of row 5 in the same batch
    rows[9][0] = "000003"  # row 11 (part 1, batch 11-13): duplicate of row 4 (part 0)
    rows[12][3] = "1980-13-01"  # row 14: not a date
    path = write_csv(tmp_path / "split.csv", ROSTER_HEADER, rows)

    with pytest.raises(FileRejected) as rejected:
        import_roster(engine, plan, calendar, path, NOW)

    got = [(p.row, p.value, p.reason) for p in rejected.value.problems]
    assert got == [
        (3, "000001", "duplicate staff ID (first on row 2)"),
        (6, "000004", "duplicate staff ID (first on row 5)"),
        (11, "000003", "duplicate staff ID (first on row 4)"),
        (14, "1980-13-01", got[3][2]),
    ]
    assert "calendar date" in got[3][2]
    assert _count(engine, TEACHER) == 0 and _count(engine, LOG) == 0
    fine = write_csv(tmp_path / "fine.csv", ROSTER_HEADER, roster(["新闻传播学院"], 14))
    report = import_roster(engine, plan, calendar, fine, NOW)
    assert (report.rows, report.imported) == (14, 14) and _count(engine, TEACHER) == 14
    with engine.connect() as connection:  # written in the file's order
        ids = connection.execute(select(TEACHER.c.staff_id).order_by(TEACHER.c.id)).scalars().all()
    assert ids == sorted(ids)


def test_reimport_changes_nothing_and_a_changed_file_is_logged(engine, tmp_path, plan_and_calendar) -> None:
    plan, calendar = plan_and_calendar
    first = _write(tmp_path, "utf8.csv", _rows())
    import_roster(engine, plan, calendar, first, NOW)
    log_rows = _count(engine, LOG)

    again = import_roster(engine, plan, calendar, first, NOW.add(days=1))
    assert (again.imported, again.updated, again.unchanged, again.missing) == (0, 0, 12, [])
    assert _count(engine, LOG) == log_rows

    rows = _rows()
    rows[0][4] = "音乐学院"  # moved department
    rows[1][7] = "24"  # new contract: back in scope
    del rows[11]  # 000012 left the school
    rows.append(teacher_row(99, "文学院"))
    changed = import_roster(engine, plan, calendar, _write(tmp_path, "gbk.csv", rows), NOW.add(days=2))
    assert (changed.imported, changed.updated, changed.included) == (1, 2, 1)
    assert changed.missing == ["000012"]
    with engine.connect() as connection:
        moved = log_store.history(connection, "teacher", "000001")[-1]
        back = [e["event"] for e in log_store.history(connection, "teacher", "000002")]
    assert moved["event"] == "update" and moved["data"] == {"unit_id": ["news", "music"]}
    assert back == ["import", "update", "include"]

    left = import_roster(
        engine, plan, calendar, _write(tmp_path, "gbk.csv", rows), NOW.add(days=3), mark_missing_left=True
    )
    assert left.marked_left == 1
    assert {r[0]: r[-2] for r in _teachers(engine)}["000012"] == "left"


def test_dry_run_counts_but_writes_nothing(engine, tmp_path, plan_and_calendar) -> None:
    plan, calendar = plan_and_calendar
    report = import_roster(engine, plan, calendar, _write(tmp_path, "xlsx", _rows()), NOW, dry_run=True)
    assert report.imported == 10
    assert _count(engine, TEACHER) == 0


def test_a_file_without_the_header_is_refused(tmp_path, sqlite_engine, plan_and_calendar) -> None:
    from cuiban.intake.tables import UnreadableFile

    plan, calendar = plan_and_calendar
    path = write_csv(tmp_path / "x.csv", ["编号", "名字"], [["1", "张三"]])
    with pytest.raises(UnreadableFile, match="no header row with the columns"):
        import_roster(sqlite_engine, plan, calendar, path, NOW)
