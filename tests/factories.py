"""Synthetic rosters and status exports, written in every format HR might send. No real people."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from cuiban.planfile.loader import load_plan

ROSTER_HEADER = list(
    load_plan(Path(__file__).resolve().parent.parent / "config" / "plan.yaml")[0].roster.columns.values()
)
"""The shipped plan's roster headers, in its order."""
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚"


def teacher_row(number: int, department: str, **overrides: Any) -> list[Any]:
    row = {
        "工号": f"{number:06d}",
        "姓名": SURNAMES[number % len(SURNAMES)] + GIVEN[(number // 7) % len(GIVEN)] + GIVEN[number % 13],
        "性别": "男" if number % 2 else "女",
        "出生日期": f"{1960 + number % 35}-{1 + number % 12:02d}-{1 + number % 28:02d}",
        "所属部门": department,
        "岗位类别": "教师岗位",
        "用工形式": "外聘" if number % 10 == 0 else "合同",
        "合同期限(月)": "36",
        "是否其他高校在职": "否",
        "电子邮箱": f"t{number:06d}@school.example",
    }
    row.update(overrides)
    return [row[h] for h in ROSTER_HEADER]


def roster(departments: list[str], per_department: int, start: int = 1) -> list[list[Any]]:
    rows = []
    number = start
    for department in departments:
        for _ in range(per_department):
            rows.append(teacher_row(number, department))
            number += 1
    return rows


def write_csv(
    path: Path, header: list[str], rows: list[list[Any]], encoding: str = "utf-8", title: str | None = None
) -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        if title:
            writer.writerow([title])
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, header: list[str], rows: list[list[Any]], title: str | None = None) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    if title:
        sheet.append([title])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def write_xls(path: Path, header: list[str], rows: list[list[Any]], title: str | None = None) -> Path:
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("教师")
    offset = 0
    if title:
        sheet.write_merge(0, 0, 0, len(header) - 1, title)
        offset = 1
    for c, text in enumerate(header):
        sheet.write(offset, c, text)
    for r, row in enumerate(rows, offset + 1):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    book.save(str(path))
    return path


def import_minimal_roster(  # type: ignore[no-untyped-def]
    engine, plan, calendar, folder: Path, departments: list[str], per: int, at
) -> None:
    """The minimal plan's roster: `per` teachers in each department (36-month contracts), imported at `at`."""
    from cuiban.services.roster_import import import_roster

    path = write_csv(
        folder / "roster.csv",
        ["工号", "姓名", "所属部门", "合同期限(月)"],
        [[r[0], r[1], r[4], "36"] for r in roster(departments, per)],
    )
    import_roster(engine, plan, calendar, path, at)
