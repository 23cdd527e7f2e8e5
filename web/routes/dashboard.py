"""The coordinator's dashboard (the digest live, at the clock's now), its progress chart, and the timeline.

The chart is its own request (`/dashboard/chart.svg`, an <img> on the page): it reads the
whole transition log, about twice what the figures cost, so the figures come back at the
speed of the digest's query and the chart follows.
"""

from __future__ import annotations

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from cuiban.services import dashboard as service
from cuiban.web import pages
from cuiban.web.chart_svg import progress_svg
from cuiban.web.responses import paged
from cuiban.workflow.access import Action

router = APIRouter()

pages.words(
    {
        "dash_title": ("总览", "Dashboard"),
        "dash_as_of": (
            "截至 {moment}（与当日进度日报同一口径）",
            "As of {moment} (the daily digest's figures)",
        ),
        "dash_teachers": ("在采集范围内教职工", "Teachers in scope"),
        "dash_filled": ("已填报", "Entered"),
        "dash_reviewed": ("已审核", "Reviewed"),
        "dash_overdue_count": ("逾期任务", "Overdue tasks"),
        "dash_failed_count": ("未能送达的邮件", "Messages that failed"),
        "dash_since_yesterday": ("较上次日报", "Since the last digest:"),
        "dash_units": ("各部门（附表6口径）", "Departments (as on 附表6)"),
        "dash_unit": ("部门", "Department"),
        "dash_col_teachers": ("教职工数", "Teachers"),
        "dash_col_filled": ("完成数", "Entered"),
        "dash_col_not_filled": ("未完成数", "Not entered"),
        "dash_col_reviewed": ("审核完成数", "Reviewed"),
        "dash_col_not_reviewed": ("审核未完成数", "Not reviewed"),
        "dash_col_percent": ("填报进度", "Entered %"),
        "dash_total": ("合计", "Total"),
        "dash_change_note": (
            "括号内为较上一份进度日报的变化。",
            "In brackets: the change since the previous daily digest.",
        ),
        "dash_chart": ("录入进度", "Progress"),
        "dash_chart_title": (
            "各部门教师信息录入进度（已提交）",
            "Teachers who have entered their data, by department",
        ),
        "dash_chart_axis": ("已录入 %", "Entered %"),
        "dash_chart_empty": ("暂无数据", "No data yet"),
        "dash_overdue": ("逾期任务（{n}）", "Overdue tasks ({n})"),
        "dash_due_today": ("今日截止（{n}）", "Due today ({n})"),
        "dash_due_week": ("本周截止（{n}）", "Due this week ({n})"),
        "dash_col_task": ("任务", "Task"),
        "dash_col_unit": ("单位", "Unit"),
        "dash_col_due": ("截止日期", "Due"),
        "dash_col_late_days": ("逾期工作日", "Working days late"),
        "dash_col_level": ("通报级别", "Escalation level"),
        "dash_level": ("第 {n} 级", "level {n}"),
        "dash_none": ("无", "None"),
        "dash_more": (
            "另有 {n} 项未列出，请在各部门页面查看。",
            "{n} more not listed; each department's page lists its own.",
        ),
        "dash_failed": ("未能送达的邮件（过去 24 小时）", "Messages that failed (past 24 hours)"),
        "dash_col_recipient": ("收件人", "Recipient"),
        "dash_col_subject": ("主题", "Subject"),
        "dash_col_error": ("原因", "Reason"),
        "dash_to_outbox": ("到邮件页面查看并重发", "See and retry them on the outbox page"),
        "dash_late": (
            "过去 24 小时内迟发的邮件：{n} 封（多因系统停机或邮件服务商限流）。",
            "Messages sent late in the past 24 hours: {n} (downtime, or the mail provider throttled).",
        ),
        "tl_title": ("时间表", "Timeline"),
        "tl_as_of": ("截至 {moment}", "As of {moment}"),
        "tl_col_milestone": ("里程碑", "Milestone"),
        "tl_col_source": ("依据", "Source"),
        "tl_col_units": ("负责单位", "Units"),
        "tl_col_owners": ("负责人", "People"),
        "tl_col_when": ("时间", "When"),
        "tl_col_status": ("状态", "Status"),
        "tl_col_left": ("剩余工作日", "Working days left"),
        "tl_col_tasks": ("任务", "Tasks"),
        "tl_every_department": ("各部门", "every department"),
        "tl_window": ("{start} 至 {due}", "{start} to {due}"),
        "tl_due": ("{due} 前", "by {due}"),
        "tl_relative": ("「{anchor}」完成后 {days} 天内", "within {days} days after “{anchor}” is done"),
        "tl_relative_working": (
            "「{anchor}」完成后 {days} 个工作日内",
            "within {days} working days after “{anchor}” is done",
        ),
        "tl_relative_due": ("本次截止 {due}", "this time due {due}"),
        "tl_monthly": ("每月 {day} 日（{start} 至 {until}）", "monthly on day {day} ({start} to {until})"),
        "tl_next_due": ("下次截止 {due}", "next due {due}"),
        "tl_last_due": ("末次截止 {due}", "last due {due}"),
        "tl_undated": ("日期待通知", "date to be announced"),
        "tl_status_upcoming": ("未开始", "upcoming"),
        "tl_status_open": ("进行中", "open"),
        "tl_status_due_today": ("今日截止", "due today"),
        "tl_status_past": ("已过", "past"),
        "tl_status_undated": ("待通知", "to be announced"),
        "tl_status_waiting": ("待前置完成", "waiting for its anchor"),
        "tl_task_upcoming": ("未开始", "not open yet"),
        "tl_task_open": ("进行中", "open"),
        "tl_task_overdue": ("已逾期", "overdue"),
        "tl_task_done": ("已完成", "done"),
        "tl_task_done_late": ("逾期完成", "done late"),
        "tl_no_tasks": ("尚无任务", "no tasks yet"),
        "tl_more": ("另有 {n} 项", "{n} more"),
        "dash_page": ("第 {page} / {pages} 页", "page {page} of {pages}"),
        "dash_previous": ("上一页", "previous"),
        "dash_next": ("下一页", "next"),
    }
)


@router.get("/dashboard")
def dashboard(request: Request, page: int = Query(1, ge=1, le=100_000)) -> Response:
    """The digest live; the departments' table a hundred at a time (the totals are everyone's)."""
    pages.guard(request, Action.VIEW_ALL)
    ctx = pages.context_of(request)
    board = service.dashboard(ctx.engine, ctx.plan, ctx.calendar, pages.now_of(request))
    return pages.page(request, "dashboard.html", board=board, units=paged(board.units, page))


@router.get("/dashboard/chart.svg")
def chart(request: Request) -> Response:
    """The digest's progress chart as SVG: the browser's fonts draw its Chinese."""
    pages.guard(request, Action.VIEW_ALL)
    ctx = pages.context_of(request)
    progress = service.progress(ctx.engine, ctx.plan, pages.now_of(request))
    svg = progress_svg(
        progress,
        pages.translate(request, "dash_chart_title"),
        pages.translate(request, "dash_chart_axis"),
        pages.translate(request, "dash_chart_empty"),
    )
    return Response(svg, media_type="image/svg+xml")


@router.get("/timeline")
def timeline(request: Request) -> Response:
    pages.guard(request, Action.VIEW_ALL)
    ctx = pages.context_of(request)
    entries = service.plan_timeline(ctx.engine, ctx.plan, ctx.calendar, pages.now_of(request))
    return pages.page(request, "timeline.html", entries=entries)
