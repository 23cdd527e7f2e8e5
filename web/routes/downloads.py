"""附表3–6 as downloads: the files `cuiban report` writes, built per request at the page's clock.

附表3, 附表4 and 附表6 of every department are the whole school's (VIEW_ALL); 附表5 and 附表6
of one department are that department's (VIEW_UNIT with the unit), so its head and
collector download their own from their unit page. Always an attachment, never shown
inline; the only place a teacher's ID card or phone may appear is 附表5, where the plan maps them.

The SLA report is the school's (VIEW_ALL). The whole log is the administrators' (ADMINISTER: it
holds every change by everyone), streamed as it is read: at a million teachers it has millions
of rows, and the answer's memory stays the same (ID-card and phone numbers masked, as the
command's).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from cuiban.services import log_export, web_exports
from cuiban.services import report_downloads as downloads
from cuiban.web import pages, responses
from cuiban.workflow.access import Action

router = APIRouter()
Format = Annotated[str, Query(alias="format")]
From = Annotated[str, Query(alias="from")]
To = Annotated[str, Query(alias="to")]
LOG_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}

pages.words(
    {
        "rp_title": ("报表下载", "Reports"),
        "rp_intro": (
            "报表按当前数据生成，格式与命令行 cuiban report 相同。",
            "Each report is made from the data as it is now, in the same formats as `cuiban report`.",
        ),
        "rp_working-group": ("附表3 工作组名单", "Form 3: the working group"),
        "rp_monthly": ("附表4 月报表", "Form 4: monthly report"),
        "rp_teacher-sheet": ("附表5 教师信息审核表", "Form 5: teacher information sheets"),
        "rp_dept-audit": ("附表6 数据审核报表", "Form 6: data audit"),
        "rp_school": ("全校", "Whole school"),
        "rp_all_departments": ("附表6 数据审核报表（全部院系）", "Form 6: data audit (every department)"),
        "rp_departments": ("各院系", "Departments"),
        "rp_report": ("报表", "Report"),
        "rp_department": ("院系", "Department"),
        "rp_formats": ("下载", "Download"),
        "rp_no_pdf": (
            "本服务器未安装 LibreOffice，不能生成 PDF；"
            "请下载 Word（docx）、Excel（xlsx）或网页（html）格式。",
            "PDF needs LibreOffice, which this server does not have; download docx, xlsx or html instead.",
        ),
        "rp_unknown": ("没有这个报表", "No such report"),
        "rp_fmt_xlsx": ("Excel", "Excel"),
        "rp_fmt_docx": ("Word", "Word"),
        "rp_fmt_pdf": ("PDF", "PDF"),
        "rp_fmt_html": ("网页", "Web page"),
        "rp_fmt_csv": ("CSV", "CSV"),
        "rp_fmt_jsonl": ("JSON Lines", "JSON Lines"),
        "rp_sla": ("SLA报表（各部门按时率、逾期工作日、各阶段用时）",
                   "SLA report (on time per department, working days late, time per stage)"),
        "rp_log": ("完整变更日志导出", "The whole change log"),
        "rp_log_intro": (
            "每一条状态变更：谁、何时、改了什么（旧值 → 新值）。身份证号和手机号一律以 ****** 代替。"
            "不填日期即导出全部。",
            "Every change: who, when, what (old → new values). ID-card and phone numbers are always "
            "shown as ******. Leave the dates empty for the whole log.",
        ),
        "rp_log_from": ("起始日期", "From (date)"),
        "rp_log_to": ("截止日期", "To (date)"),
        "rp_log_unit": ("单位", "Unit"),
        "rp_log_all_units": ("全部单位", "Every unit"),
        "rp_log_format": ("格式", "Format"),
        "rp_log_button": ("导出", "Export"),
    }
)


@router.get("/reports")
def reports_page(request: Request) -> Response:
    pages.guard(request, Action.VIEW_ALL)
    plan = pages.context_of(request).plan
    formats = downloads.formats()
    return pages.page(request, "reports.html", school=("working-group", "monthly"),
                      departments=plan.departments(), formats=formats, pdf_missing="pdf" not in formats,
                      sla_formats=downloads.SLA_FORMATS, log_formats=log_export.FORMATS)


@router.get("/reports/sla")
def sla_download(request: Request, fmt: Format = "xlsx") -> Response:
    """The SLA report (`cuiban report sla`) as of the page's clock, as an attachment."""
    pages.guard(request, Action.VIEW_ALL)
    ctx = pages.context_of(request)
    try:
        made = downloads.sla(ctx.engine, ctx.plan, ctx.calendar, fmt[:8], pages.now_of(request),
                             ctx.renderer.override)
    except downloads.UnknownReport:
        return _unknown(request)
    headers = responses.download_headers(made.filename, f"sla.{fmt}")
    return Response(made.content, media_type=made.content_type, headers=headers)


@router.get("/reports/log")
def log_download(request: Request, fmt: Format = "csv", start: From = "", end: To = "",
                 unit: str = "") -> Response:
    """The whole log (`cuiban log export`), streamed; a bad date or unit is a 400 page before any row."""
    pages.guard(request, Action.ADMINISTER)
    ctx = pages.context_of(request)
    if fmt not in LOG_TYPES:
        return _unknown(request)
    within = log_export.window(ctx.plan, start[:40] or None, end[:40] or None, unit[:200] or None)
    chunks = web_exports.log_stream(ctx.engine, ctx.plan, fmt, within)
    headers = responses.download_headers(web_exports.log_name(ctx.plan, pages.now_of(request), fmt),
                                         f"log.{fmt}")
    return StreamingResponse(chunks, media_type=LOG_TYPES[fmt], headers=headers)


@router.get("/reports/{subject}")
def download(request: Request, subject: str, unit: str = "", fmt: Format = "xlsx") -> Response:
    """One report file as an attachment; one department's 附表5/6 for those who may see that department."""
    ctx = pages.context_of(request)
    unit_id = unit or None
    if downloads.per_department(subject) and unit_id in ctx.plan.units:
        pages.guard(request, Action.VIEW_UNIT, unit_id)
    else:  # the school's reports, and a unit the plan does not have (the school's: then 404)
        pages.guard(request, Action.VIEW_ALL)
    try:
        made = downloads.build(ctx.engine, ctx.plan, subject, fmt[:8], unit_id, pages.now_of(request),
                               ctx.renderer.override)
    except downloads.UnknownReport:
        return _unknown(request)
    except downloads.NoPdf:
        return pages.page(request, "error.html", status=503, title=pages.translate(request, "refused"),
                          message=pages.translate(request, "rp_no_pdf"))
    headers = responses.download_headers(made.filename, f"{subject}.{fmt}")
    return Response(made.content, media_type=made.content_type, headers=headers)


def _unknown(request: Request) -> Response:
    return pages.page(request, "error.html", status=404, title=pages.translate(request, "rp_unknown"),
                      message="")
