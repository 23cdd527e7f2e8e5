"""An institution's 附表4 uploaded to the province: the figures of the form cuiban writes, read and checked.

An institution that runs cuiban elsewhere (or fills the form by hand) sends the province its 附表4
workbook; the province stores its figures (`cuiban province upload`). The form is found by its labels in
column A, not by fixed rows, so a row someone inserted does not shift the figures; anything that does
not add up is refused with one sentence naming the file and the cell, and nothing is stored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import NoReturn

from cuiban.workflow.forms import Stage
from cuiban.workflow.province import say

ENTRY_ROW, REVIEW_ROW = "教师信息录入完成情况", "教师信息审核完成情况"
"""The labels of the two figure rows of 附表4, as cuiban writes it (`reports.xlsx.monthly`)."""
Cells = list[list[tuple[str, object]]]
"""A sheet's rows as (coordinate, value) pairs."""


class BadForm(ValueError):
    """An uploaded 附表4 that cannot be taken: one sentence naming the file and the cell."""


@dataclass(frozen=True)
class UploadedForm:
    month: str
    """2016-12."""
    filled_on: date | None
    entry: Stage
    review: Stage


def uploaded_form(rows: Cells, file_name: str, names: Iterable[str], language: str = "zh") -> UploadedForm:
    """The figures of an institution's 附表4 as cuiban writes it, checked: the school is one of `names`
    (the unit's name and aliases), the month a month, the counts whole numbers that add up."""
    form = _Form(rows, file_name, language)
    school = form.cell("学校名称", 1)
    if str(school[1] or "").strip() not in set(names):
        form.refuse(
            school, "不是这所高校（{value}）", "is not this institution ({value})", value="、".join(names)
        )
    month = _month(form.cell("学校名称", 3))
    if month is None:
        form.refuse(
            form.cell("学校名称", 3), "应为「2016年12月」这样的年月", "should be a month like 2016年12月"
        )
    entry, review = form.stage(ENTRY_ROW), form.stage(REVIEW_ROW)
    if review.total != entry.total:
        form.refuse(
            form.cell(REVIEW_ROW, 1),
            "审核教师数应与录入教师数 {value} 相同",
            "should equal the entry's total, {value}",
            value=str(entry.total),
        )
    if review.done > entry.done:
        form.refuse(
            form.cell(REVIEW_ROW, 2),
            "审核完成数不能多于录入完成数 {value}",
            "cannot exceed the entered count, {value}",
            value=str(entry.done),
        )
    return UploadedForm(month or "", _filled_on(form.find("填表人")), entry, review)


class _Form:
    """The rows of an uploaded 附表4, found by their label in column A, and the refusals naming a cell."""

    def __init__(self, rows: Cells, file_name: str, language: str) -> None:
        self.rows, self.file_name, self.language = rows, file_name, language

    def find(self, label: str) -> list[tuple[str, object]] | None:
        return next((row for row in self.rows if row and str(row[0][1] or "").strip() == label), None)

    def cell(self, label: str, column: int) -> tuple[str, object]:
        row = self.find(label)
        if row is None:
            raise BadForm(
                say(
                    self.language,
                    f"{self.file_name}：工作表「附表4」的 A 列没有「{label}」一行；"
                    "请上传 cuiban report monthly 生成的附表4",
                    f"{self.file_name}: sheet 附表4 has no row {label} in column A; upload the 附表4 that "
                    "cuiban report monthly writes",
                )
            )
        return row[column] if column < len(row) else (f"{chr(65 + column)}{_row_number(row)}", None)

    def stage(self, label: str) -> Stage:
        total = self.count(self.cell(label, 1), None)
        done = self.count(self.cell(label, 2), total)
        missing = self.cell(label, 3)
        if _whole(missing[1]) not in (None, total - done):
            self.refuse(
                missing,
                "应为教师数减已完成数 {value}",
                "should be the total less those done, {value}",
                value=str(total - done),
            )
        day_cell = self.cell(label, 4)
        readable, day = _day(day_cell[1])
        if not readable or (day is not None and done < total):
            self.refuse(
                day_cell,
                "应为全部完成的日期（2016-12-15），未全部完成时为「未完成」",
                "should be the day all were done (2016-12-15), or 未完成 while some are not",
            )
        return Stage(total, done, [], day)

    def count(self, cell: tuple[str, object], most: int | None) -> int:
        value = _whole(cell[1])
        if value is None or value < 0 or (most is not None and value > most):
            upto = f" 0 到 {most} 之间的" if most is not None else "不小于 0 的"
            upto_en = f"from 0 to {most}" if most is not None else "of 0 or more"
            self.refuse(cell, f"应为{upto}整数", f"should be a whole number {upto_en}")
        return value or 0

    def refuse(self, cell: tuple[str, object], zh: str, en: str, **fields: str) -> NoReturn:
        coordinate, value = cell
        shown = "" if value is None else str(value)
        raise BadForm(
            say(
                self.language,
                f"{self.file_name}：单元格 {coordinate} 的值「{shown}」" + zh.format(**fields),
                f"{self.file_name}: cell {coordinate} ({shown!r}) " + en.format(**fields),
            )
        )


def _row_number(row: list[tuple[str, object]]) -> str:
    return re.sub(r"^[A-Z]+", "", row[0][0])


def _whole(value: object) -> int | None:
    """A count as Excel or a person may have left it: 30, 30.0, "30"; None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _day(value: object) -> tuple[bool, date | None]:
    """A completion date cell: (True, the day), (True, None) for 未完成 or empty, (False, None) else."""
    if isinstance(value, datetime):
        return True, value.date()
    if isinstance(value, date):
        return True, value
    text = str(value or "").strip()
    if text in ("", "未完成"):
        return True, None
    try:
        return True, date.fromisoformat(text)
    except ValueError:
        return False, None


def _month(cell: tuple[str, object]) -> str | None:
    value = cell[1]
    if isinstance(value, date):
        return f"{value.year:04d}-{value.month:02d}"
    found = re.fullmatch(r"\s*(\d{4})\s*(?:年|-)\s*(\d{1,2})\s*月?\s*", str(value or ""))
    if not found or not 1 <= int(found.group(2)) <= 12:
        return None
    return f"{found.group(1)}-{int(found.group(2)):02d}"


def _filled_on(row: list[tuple[str, object]] | None) -> date | None:
    """填表日期 from the row of 填表人 (cuiban writes 「填表日期：2016-12-19」 in its last cell)."""
    for _, value in row or []:
        found = re.search(r"填表日期[：:]\s*(\d{4}-\d{2}-\d{2})", str(value or ""))
        if found:
            return date.fromisoformat(found.group(1))
    return None
