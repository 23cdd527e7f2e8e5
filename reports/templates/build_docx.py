"""Writes the built-in Word templates (docxtpl: jinja2 tags inside a .docx) for the four forms.

The shipped .docx files are this script's output; an admin copies one into the plan's
`templates` folder and edits it in Word or LibreOffice (docs/reports.md). Run
`python -m cuiban.reports.templates.build_docx` after changing a layout here.

They are print-ready: every table has all its borders set on the table itself (a style's
borders are not drawn by every program: LibreOffice left 附表4's bottom edge open), 附表5's
correction rows are at least 8 mm high to write in by hand, and every run is set in 宋体 for
Latin letters and digits as well as Chinese (Word's default pairs Chinese with a Latin font, and
digits came out in a serif beside sans Chinese). 附表3 is landscape with an address column wide
enough that an address never wraps mid-word (a break inserted at `@` would be copied with it).
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_ROW_HEIGHT_RULE, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.table import Table

HERE = Path(__file__).resolve().parent
FONT = "宋体"
"""Every script's font (w:rFonts ascii, hAnsi, eastAsia, cs), the one the xlsx forms use."""
WRITING_ROW = Mm(8.5)
"""A row someone writes in by hand: at least 8 mm."""


def _fonts(element) -> None:  # noqa: ANN001 (an lxml element of python-docx)
    """Set every script's font on a w:rPr's w:rFonts, dropping the theme fonts that would override it."""
    fonts = element.get_or_add_rFonts()
    for name in list(fonts.attrib):
        if name.endswith("Theme") or name.endswith("theme"):
            del fonts.attrib[name]
    for script in ("ascii", "hAnsi", "eastAsia", "cs"):
        fonts.set(qn(f"w:{script}"), FONT)


def _document(landscape: bool = False) -> Document:
    document = Document()
    section = document.sections[0]
    section.page_height, section.page_width = Mm(297), Mm(210)
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_height, section.page_width = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(20)
    section.top_margin = section.bottom_margin = Mm(18)
    style = document.styles["Normal"]
    style.font.size = Pt(11)
    _fonts(style.element.get_or_add_rPr())
    defaults = document.styles.element.find(qn("w:docDefaults"))
    _fonts(defaults.find(qn("w:rPrDefault")).find(qn("w:rPr")))
    return document


def _borders(table: Table) -> None:
    """All six borders (top, left, bottom, right, inside both ways) on the table itself."""
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        line = OxmlElement(f"w:{edge}")
        line.set(qn("w:val"), "single")
        line.set(qn("w:sz"), "6")  # eighths of a point: 3/4 pt
        line.set(qn("w:space"), "0")
        line.set(qn("w:color"), "000000")
        borders.append(line)
    properties = table._tbl.tblPr
    for old in properties.findall(qn("w:tblBorders")):
        properties.remove(old)
    properties.append(borders)


def _tag(document: Document, text: str) -> None:
    """A paragraph holding only a docxtpl `{%p … %}` tag (removed when rendered)."""
    document.add_paragraph(text)


def _title(document: Document, form: str, title: str, new_page: bool = False) -> None:
    label = document.add_paragraph(form)
    label.paragraph_format.page_break_before = new_page
    heading = document.add_paragraph()
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = heading.add_run(title)
    run.bold = True
    run.font.size = Pt(18)


def _table(document: Document, rows: list[list[str]], widths: list[int] | None = None) -> Table:
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _borders(table)
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            table.cell(r, c).text = value
            if widths:
                table.cell(r, c).width = Mm(widths[c])
    if widths:  # Word reads the cells' widths, LibreOffice the grid's
        table.autofit = False
        for column, width in zip(table.columns, widths, strict=True):
            column.width = Mm(width)
    return table


def dept_audit() -> Document:
    document = _document()
    _tag(document, "{%p for a in audits %}")
    _title(document, "附表6", "数据审核报表", new_page=True)
    document.add_paragraph("部门名称：{{ a.unit_name }}")
    document.add_paragraph("审核人：{{ a.auditor }}")
    document.add_paragraph("联系电话：{{ a.phone }}")
    table = _table(
        document,
        [
            ["数据审核结果", ""],
            [
                "本部门\n教职工信息\n录入情况",
                "本部门教职工数：{{ a.entry.total }}\n"
                "完成数：{{ a.entry.done }}　　未完成数：{{ a.entry.missing }}"
                "\n上报日期：{{ a.report_date }}",
            ],
            ["", "未完成教职工姓名：{{ a.entry.missing_names or '无' }}"],
            [
                "本部门\n教职工信息\n审核情况",
                "审核教职工数：{{ a.review.total }}\n"
                "完成数：{{ a.review.done }}　　未完成数：{{ a.review.missing }}"
                "\n上报日期：{{ a.report_date }}",
            ],
            ["", "未审核教职工姓名：{{ a.review.missing_names or '无' }}"],
        ],
        [40, 130],
    )
    table.cell(0, 0).merge(table.cell(0, 1))
    table.cell(1, 0).merge(table.cell(2, 0))
    table.cell(3, 0).merge(table.cell(4, 0))
    _tag(document, "{%p endfor %}")
    return document


def monthly() -> Document:
    document = _document()
    _title(document, "附表4", "全国教师管理信息系统部署与启用月报表")
    sub = document.add_paragraph("（高校填报）")
    sub.alignment = WD_ALIGN_PARAGRAPH.CENTER
    document.add_paragraph("学校名称：{{ institution }}　　　　年月：{{ month }}")
    document.add_paragraph("填表人：{{ filler }}　　电话：{{ phone }}　　填表日期：{{ filled_on }}")
    table = _table(
        document,
        [
            ["信息采集进度", ""],
            [
                "教师信息录入\n完成情况",
                "录入教师数：{{ entry.total }}（已录入 {{ entry.done }}，未录入 {{ entry.missing }}）\n"
                "{{ '☑' if entry.complete else '☐' }}已完成　{{ '☐' if entry.complete else '☑' }}未完成　　"
                "全部录入完成日期：{{ entry.completed_on }}",
            ],
            [
                "教师信息审核\n完成情况",
                "审核教师数：{{ review.total }}（已审核 {{ review.done }}，未审核 {{ review.missing }}）\n"
                "{{ '☑' if review.complete else '☐' }}已完成　{{ '☐' if review.complete else '☑' }}未完成　　"
                "全部审核完成日期：{{ review.completed_on }}",
            ],
        ],
        [40, 130],
    )
    table.cell(0, 0).merge(table.cell(0, 1))
    document.add_paragraph("{% if chart %}{{ chart }}{% endif %}")
    document.add_paragraph("说明：各高校从2016年10月开始，每月1日发送电子版至省教育厅人事处。")
    return document


def province_monthly() -> Document:
    document = _document(landscape=True)
    _title(document, "附表4", "全国教师管理信息系统部署与启用月报表")
    sub = document.add_paragraph("（全省汇总）")
    sub.alignment = WD_ALIGN_PARAGRAPH.CENTER
    document.add_paragraph("填报单位：{{ province }}　　　　年月：{{ month }}")
    document.add_paragraph("填表人：{{ filler }}　　电话：{{ phone }}　　填表日期：{{ filled_on }}")
    fields = ("total", "entered", "entered_pct", "reviewed", "reviewed_pct", "done_on")
    _table(
        document,
        [
            ["序号", "学校名称", "教师数", "录入完成", "录入完成率", "审核完成", "审核完成率"]
            + ["全部审核完成日期", "数据来源", "数据日期", "备注"],
            ["{%tr for line in lines %}", *[""] * 10],
            ["{{ line.number }}", "{{ line.name }}", *(f"{{{{ line.{f} }}}}" for f in fields)]
            + ["{{ line.source }}", "{{ line.as_of }}", "{{ line.note }}"],
            ["{%tr endfor %}", *[""] * 10],
            ["", "{{ total.label }}", *(f"{{{{ total.{f} }}}}" for f in fields)]
            + ["", "", "{% if unreported %}未报送：{{ unreported }}{% endif %}"],
        ],
        [10, 36, 18, 20, 20, 20, 20, 26, 16, 24, 47],
    )
    document.add_paragraph(
        "说明：合计为已报送高校之和；未报送的高校不计入合计。数据来源“本系统”为该校在本系统中的数据"
        "（截至数据日期），“上传”为该校报送的附表4。"
    )
    return document


def teacher_sheet() -> Document:
    document = _document()
    _tag(document, "{%p for t in sheets %}")
    _title(document, "附表5", "教师信息审核表", new_page=True)
    head = _table(
        document,
        [
            [
                "姓    名",
                "{{ t.name }}",
                "性别",
                "{{ t.gender }}",
                "出生年月",
                "{{ t.birth_month }}",
                "岗位",
                "{{ t.post }}",
            ],
            ["所属部门", "{{ t.department }}", "", "", "联系电话", "{{ t.phone }}", "", ""],
        ],
    )
    head.cell(1, 1).merge(head.cell(1, 3))
    head.cell(1, 5).merge(head.cell(1, 7))
    document.add_paragraph("信息核对").alignment = WD_ALIGN_PARAGRAPH.CENTER
    _table(
        document,
        [
            ["", "数据采集信息", "信息是否正确"],
            ["学历信息", "{{ t.education }}", "□正确　　□错误"],
            ["学位信息", "{{ t.degree }}", "□正确　　□错误"],
            ["职称信息", "{{ t.title }}", "□正确　　□错误"],
        ],
        [30, 90, 50],
    )
    document.add_paragraph("我保证此次数据采集所提交的所有信息真实有效，")
    sign = document.add_paragraph("签字：　　　　　　　　")
    sign.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    document.add_paragraph("信息修改").alignment = WD_ALIGN_PARAGRAPH.CENTER
    corrections = _table(
        document,
        [
            ["序号", "更改项目", "原始信息", "变更后信息", "变更原因"],
            ["{%tr for n in correction_rows %}", "", "", "", ""],
            ["{{ n }}", "", "", "", ""],
            ["{%tr endfor %}", "", "", "", ""],
        ],
        [15, 35, 45, 45, 30],
    )
    row = corrections.rows[2]  # the repeated row: every correction line
    row.height, row.height_rule = WRITING_ROW, WD_ROW_HEIGHT_RULE.AT_LEAST
    document.add_paragraph("如果有需要修改的信息项请填写，信息变更请用黑色签字笔填写。")
    document.add_paragraph("备注：工号 {{ t.staff_id }}")
    _tag(document, "{%p endfor %}")
    return document


def working_group() -> Document:
    document = _document(landscape=True)
    _title(document, "附表3", "全国教师管理信息系统联合工作组名单")
    document.add_paragraph("设区市(高校)（公章）：{{ institution }}")
    _table(
        document,
        [
            ["工作组成员", "姓名", "处室名称", "职务", "办公电话", "手机", "邮箱"],
            ["{%tr for r in rows %}", "", "", "", "", "", ""],
            [
                "{{ r.role }}",
                "{{ r.name }}",
                "{{ r.office }}",
                "{{ r.duty }}",
                "{{ r.office_phone }}",
                "",
                "{{ r.email }}",
            ],
            ["{%tr endfor %}", "", "", "", "", "", ""],
        ],
        [36, 18, 30, 42, 32, 20, 79],
    )
    for who in ("contact", "technical_contact"):
        document.add_paragraph(
            f"{{% if {who} %}}设区市(高校){{{{ {who}.role }}}}：{{{{ {who}.name }}}}"
            f"　单位：{{{{ {who}.office }}}}　办公电话：{{{{ {who}.office_phone }}}}"
            f"　电子邮件：{{{{ {who}.email }}}}{{% endif %}}"
        )
    return document


BUILDERS = {
    "dept-audit": dept_audit,
    "monthly": monthly,
    "teacher-sheet": teacher_sheet,
    "working-group": working_group,
    "province-monthly": province_monthly,
}


def main() -> None:
    for name, build in BUILDERS.items():
        build().save(str(HERE / f"{name}.docx"))
        print(HERE / f"{name}.docx")


if __name__ == "__main__":
    main()
