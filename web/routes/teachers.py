"""Teacher search (staff ID or name) and a teacher's page: fields and history, never ID-card or phone.

Search is the whole campaign's (VIEW_ALL). A teacher's page belongs to the teacher's unit
(VIEW_UNIT), so a department's head and collector open their own teachers and no one else's;
an unknown staff ID is answered as the campaign's (VIEW_ALL, then 404), so a collector cannot
tell a staff ID of another department from one that does not exist.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from cuiban.notifications.labels import state_label
from cuiban.services import teacher_search as service
from cuiban.services import teachers
from cuiban.web import pages, responses
from cuiban.workflow.access import Action

router = APIRouter()

FIELD_WORDS = {
    "staff_id": ("工号", "Staff ID"),
    "name": ("姓名", "Name"),
    "gender": ("性别", "Gender"),
    "birth_month": ("出生年月", "Born"),
    "post": ("岗位类别", "Post"),
    "employment": ("用工形式", "Employment"),
    "contract_months": ("合同期限（月）", "Contract (months)"),
    "in_service_elsewhere": ("是否其他高校在职", "In service elsewhere"),
    "email": ("电子邮箱", "Email"),
    "education": ("学历", "Education"),
    "degree": ("学位", "Degree"),
    "title": ("职称", "Title"),
    "id_card": ("身份证号", "ID card"),
    "phone": ("电话", "Phone"),
    "unit_id": ("所属部门", "Department"),
}
EVENT_WORDS = {
    "import": ("导入名单", "imported from the roster"),
    "issue_account": ("开通账号", "account issued"),
    "start": ("开始填报", "started filling in"),
    "submit": ("提交", "submitted"),
    "review": ("审核通过", "reviewed"),
    "return_": ("退回修改", "returned"),
    "confirm": ("确认", "confirmed"),
    "report": ("上报", "reported"),
    "request_correction": ("申请更正", "correction requested"),
    "approve_correction": ("批准更正", "correction approved"),
    "reject_correction": ("驳回更正", "correction rejected"),
    "exclude": ("移出采集范围", "excluded"),
    "include": ("纳入采集范围", "included"),
    "leave": ("离职", "left"),
    "rejoin": ("重新入职", "rejoined"),
    "move": ("调动部门", "moved"),
}
SOURCE_WORDS = {
    "import": ("名单导入", "roster import"),
    "sync": ("状态同步", "status sync"),
    "cli": ("命令行", "command line"),
    "web": ("网页", "web page"),
    "tick": ("定时任务", "scheduler"),
}

pages.words(
    {
        **{f"tf_{k}": v for k, v in FIELD_WORDS.items()},
        **{f"hist_ev_{k}": v for k, v in EVENT_WORDS.items()},
        **{f"hist_src_{k}": v for k, v in SOURCE_WORDS.items()},
        "ts_title": ("教职工查询", "Find a teacher"),
        "ts_prompt": (
            "工号（完整或开头几位）或姓名（其中几个字）",
            "Staff ID (whole or its first digits) or name (any part)",
        ),
        "ts_search": ("查询", "Search"),
        "ts_none": ("没有找到符合“{q}”的教职工。", "No teacher matches “{q}”."),
        "ts_found": ("找到 {n} 人：", "{n} found:"),
        "ts_refine": (
            "只列出前 {n} 人，请输入更完整的工号或姓名以缩小范围。",
            "Only the first {n} are listed; type more of the staff ID or name to narrow the search.",
        ),
        "ts_state": ("状态", "State"),
        "ts_since": ("状态更新于 {moment}", "In this state since {moment}"),
        "ts_fields": ("基本信息", "Details"),
        "ts_history": ("历史记录", "History"),
        "ts_col_at": ("时间", "When"),
        "ts_col_event": ("事件", "What"),
        "ts_col_states": ("状态变化", "State"),
        "ts_col_source": ("来源", "Through"),
        "ts_col_actor": ("操作人", "By"),
        "ts_col_note": ("说明", "Note"),
        "ts_no_history": ("暂无记录。", "Nothing recorded yet."),
        "ts_hidden_note": (
            "身份证号和电话号码不在网页上显示。",
            "ID-card and phone numbers are never shown on these pages.",
        ),
        "ts_hidden": ("（不显示）", "(not shown)"),
    }
)


@router.get("/teachers")
def search(request: Request, q: str = "") -> Response:
    pages.guard(request, Action.VIEW_ALL)
    query = q.strip()[:100]
    found = service.search(pages.context_of(request).engine, query) if query else None
    return pages.page(
        request, "teachers.html", q=query, found=found, limit=service.LIMIT, label=_state_label(request)
    )


@router.get("/teachers/{staff_id}")
def teacher(request: Request, staff_id: str) -> Response:
    ctx = pages.context_of(request)
    profile = service.profile(ctx.engine, staff_id) if teachers.possible(staff_id) else None
    if profile is None or profile.unit_id not in ctx.plan.units:
        pages.guard(request, Action.VIEW_ALL)
    else:
        pages.guard(request, Action.VIEW_UNIT, profile.unit_id)
    if profile is None:
        raise HTTPException(404)
    tz = ctx.plan.timezone
    return pages.page(
        request,
        "teacher.html",
        teacher=profile,
        label=_state_label(request),
        since=responses.moment(profile.state_changed_at, tz),
        history=[_history_line(request, entry, tz) for entry in profile.history],
        hidden=service.HIDDEN,
    )


def _state_label(request: Request) -> Any:
    language = pages.language(request)
    return lambda state: state_label(language, state) if state else ""


def _history_line(request: Request, entry: dict[str, Any], tz: str) -> dict[str, Any]:
    return {
        **entry,
        "at": responses.moment(entry["at"], tz),
        "event": responses.word(request, "hist_ev_", entry["event"]),
        "source": responses.word(request, "hist_src_", entry["source"]),
        "changes": [(responses.word(request, "tf_", name), pair) for name, pair in entry["changes"].items()],
    }
