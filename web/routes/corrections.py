"""Corrections: a unit asks to correct one of its reported teachers; the coordinator's office decides.

- GET /units/{unit}/correction?staff_id=: the unit page's little form, sent on to the teacher's;
- GET and POST /units/{unit}/teachers/{staff_id}/correction (ACT_UNIT for the teacher's unit):
  the request form and the request (services.corrections.request → the teacher machine);
- GET /corrections (VIEW_ALL): the requests waiting for a decision, old → new values;
- POST /corrections/{staff_id}/approve and /reject (DECIDE_CORRECTION): never one's own request
  (the service refuses it, so the rule holds for the command line's callers too), and only on
  the request the page showed: the form carries its log entry id, and the service refuses the
  decision when a newer request has taken its place.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from cuiban.notifications.labels import state_label
from cuiban.services import corrections as service
from cuiban.services.teachers import ChangedRequest, NotFound, OwnRequest
from cuiban.web import pages, responses
from cuiban.web.routes.units import known_unit
from cuiban.workflow.access import Action, decide
from cuiban.workflow.machines import IllegalEvent

router = APIRouter()

FIELD_WORDS = {
    "name": ("姓名", "Name"),
    "gender": ("性别", "Gender"),
    "birth_month": ("出生年月", "Birth month"),
    "post": ("岗位类别", "Post"),
    "employment": ("用工形式", "Employment"),
    "contract_months": ("合同期限（月）", "Contract (months)"),
    "in_service_elsewhere": ("是否其他高校在职", "In service at another university"),
    "email": ("电子邮箱", "Email"),
    "education": ("学历", "Education"),
    "degree": ("学位", "Degree"),
    "title": ("职称", "Title"),
    "id_card": ("身份证号", "ID-card number"),
    "phone": ("电话", "Phone"),
}

pages.words(
    {
        **{f"corr_field_{field}": pair for field, pair in FIELD_WORDS.items()},
        "corr_form_title": ("申请更正：{staff_id} {name}", "Correction request: {staff_id} {name}"),
        "corr_form_intro": (
            "只填写需要更正的项目的新内容，其余留空。申请提交后由教师发展中心审批，批准后生效，原值保留在记录中。",
            "Fill in new values only for what needs correcting and leave the rest blank. The teacher "
            "development centre decides; an approved correction applies, and the old values stay in the log.",
        ),
        "corr_state_now": ("当前状态：{state}", "State now: {state}"),
        "corr_not_reported": (
            "只有已上报的信息才能申请更正：{staff_id} {name} 目前是“{state}”。",
            "Only a reported record can have a correction requested: {staff_id} {name} is {state}.",
        ),
        "corr_col_field": ("项目", "Field"),
        "corr_col_now": ("现在的内容", "Now"),
        "corr_col_new": ("更正为", "Correct to"),
        "corr_note": ("说明（更正原因）", "Why (the reason for the correction)"),
        "corr_submit": ("提交更正申请", "Send the request"),
        "corr_back": ("返回{unit}", "Back to {unit}"),
        "corr_requested": (
            "已提交 {staff_id} {name} 的更正申请，等待教师发展中心审批。",
            "The correction request for {staff_id} {name} is sent; the teacher development centre decides.",
        ),
        "corr_nothing": ("没有填写任何新内容，未提交申请。", "No new value was filled in; nothing was sent."),
        "corr_bad_value": ("“{field}”的新内容不正确：{why}", "The new value of “{field}” is wrong: {why}"),
        "corr_unknown_teacher": ("本单位没有工号为 {staff_id} 的教职工。", "No teacher {staff_id} here."),
        "corr_refused": ("未能办理：{why}", "Could not be done: {why}"),
        "corr_title": ("更正申请", "Correction requests"),
        "corr_intro": (
            "等待审批的更正申请。批准后新内容生效，原值保留在记录中；不能审批自己提交的申请。",
            "Requests waiting for a decision. An approved correction applies and the old value stays in "
            "the log; nobody decides their own request.",
        ),
        "corr_none": ("目前没有等待审批的更正申请。", "No correction request is waiting."),
        "corr_col_teacher": ("教职工", "Teacher"),
        "corr_col_unit": ("单位", "Unit"),
        "corr_col_by": ("申请人", "Requested by"),
        "corr_col_when": ("申请时间", "When"),
        "corr_col_changes": ("更正内容（原 → 新）", "Changes (old → new)"),
        "corr_col_note": ("说明", "Note"),
        "corr_col_decide": ("审批", "Decision"),
        "corr_empty_value": ("（空）", "(empty)"),
        "corr_decision_note": ("意见（可不填）", "Remark (optional)"),
        "corr_approve": ("批准", "Approve"),
        "corr_reject": ("驳回", "Reject"),
        "corr_own": ("本人提交，需由他人审批", "Your own request: someone else decides"),
        "corr_approved": ("已批准 {staff_id} 的更正，新内容已生效。", "Approved: {staff_id} is corrected."),
        "corr_rejected": ("已驳回 {staff_id} 的更正申请。", "Rejected: {staff_id}'s correction request."),
        "corr_own_refused": (
            "不能审批自己提交的更正申请（{staff_id}），请由其他有审批权限的人办理。未作任何更改。",
            "You may not decide your own correction request ({staff_id}); someone else with the right to "
            "decide must. Nothing was changed.",
        ),
        "corr_changed": (
            "{staff_id} 的更正申请在您打开页面之后有了变化（已被处理并重新提交），"
            "请刷新页面，看清后再审批。未作任何更改。",
            "The correction request for {staff_id} changed since you opened the page (it was decided and "
            "asked for again); reload the page and decide on what it says now. Nothing was changed.",
        ),
        "corr_not_pending": (
            "{staff_id} 没有等待审批的更正申请（可能已被他人处理）。",
            "{staff_id} has no correction request waiting (someone may have decided it already).",
        ),
    }
)


async def form_of(request: Request) -> FormData:
    """The posted form (read once; the CSRF check has read it already)."""
    return await request.form()


def _back(request: Request, url: str, key: str, **values: object) -> Response:
    """Post-redirect-get to `url` with the sentence `key` of the words."""
    return pages.back(request, url, pages.translate(request, key, **values))


def _form_path(unit_id: str, staff_id: str) -> str:
    return f"/units/{quote(unit_id, safe='')}/teachers/{quote(staff_id, safe='')}/correction"


@router.get("/units/{unit_id}/correction")
def find_teacher(request: Request, unit_id: str, staff_id: str = "") -> Response:
    """The unit page's staff-ID box, sent on to that teacher's request form."""
    known_unit(request, unit_id)
    pages.guard(request, Action.ACT_UNIT, unit_id)
    if not staff_id.strip():
        return pages.back(request, f"/units/{quote(unit_id, safe='')}")
    return pages.back(request, _form_path(unit_id, staff_id.strip()))


@router.get("/units/{unit_id}/teachers/{staff_id}/correction")
def correction_form(request: Request, unit_id: str, staff_id: str) -> Response:
    known_unit(request, unit_id)
    pages.guard(request, Action.ACT_UNIT, unit_id)
    ctx = pages.context_of(request)
    try:
        record = service.record(ctx.engine, unit_id, staff_id)
    except NotFound:
        return _back(request, f"/units/{quote(unit_id, safe='')}", "corr_unknown_teacher", staff_id=staff_id)
    return pages.page(
        request,
        "correction_form.html",
        record=record,
        unit=ctx.plan.units[unit_id],
        fields=service.OFFERED,
        state=state_label(pages.language(request), record.state),
        reported=record.state == "reported",
        action=_form_path(unit_id, staff_id),
    )


@router.post("/units/{unit_id}/teachers/{staff_id}/correction")
def request_correction(
    request: Request, unit_id: str, staff_id: str, form: Annotated[FormData, Depends(form_of)]
) -> Response:
    known_unit(request, unit_id)
    me = pages.guard(request, Action.ACT_UNIT, unit_id)
    ctx = pages.context_of(request)
    values = {f: str(form.get(f"new_{f}") or "") for f in service.OFFERED}
    note = str(form.get("note") or "").strip()[:2000]
    unit_page, here = f"/units/{quote(unit_id, safe='')}", _form_path(unit_id, staff_id)
    now = pages.now_of(request)
    try:
        requested = service.request(ctx.engine, ctx.plan, unit_id, staff_id, values, now, actor=me, note=note)
    except NotFound:
        return _back(request, unit_page, "corr_unknown_teacher", staff_id=staff_id)
    except service.NotReported as refused:
        state = state_label(pages.language(request), refused.state)
        return _back(request, unit_page, "corr_not_reported", staff_id=staff_id, name=refused.name,
                     state=state)
    except service.NothingToCorrect:
        return _back(request, here, "corr_nothing")
    except service.BadValue as refused:
        field = pages.translate(request, f"corr_field_{refused.field}")
        why = refused.reason.say(pages.language(request)) if refused.reason is not None else str(refused)
        return _back(request, here, "corr_bad_value", field=field, why=why)
    except ValueError as refused:  # Refusals, the log's order: their own sentence
        return _back(request, here, "corr_refused", why=str(refused))
    return _back(request, unit_page, "corr_requested", staff_id=staff_id, name=requested.name)


@router.get("/corrections")
def corrections_page(request: Request) -> Response:
    me = pages.guard(request, Action.VIEW_ALL)
    ctx = pages.context_of(request)
    return pages.page(
        request,
        "corrections.html",
        requests=service.pending(ctx.engine, ctx.plan),
        can_decide=decide(ctx.plan, me, Action.DECIDE_CORRECTION).allowed,
        shown_at=responses.shown_at(request),
        person_name=lambda person: responses.person_name(ctx.plan, person),
        field_name=lambda field: pages.translate(request, f"corr_field_{field}"),
    )


@router.post("/corrections/{staff_id}/{decision}")
def decide_correction(
    request: Request, staff_id: str, decision: str, form: Annotated[FormData, Depends(form_of)]
) -> Response:
    if decision not in ("approve", "reject"):
        raise HTTPException(404)
    me = pages.guard(request, Action.DECIDE_CORRECTION)
    ctx = pages.context_of(request)
    note = str(form.get("note") or "").strip()[:2000]
    approve = decision == "approve"
    looked_at = responses.record_id(str(form.get("request") or ""))
    if looked_at is None:  # a form without the request it was about: from no page of ours, or an old one
        return _back(request, "/corrections", "corr_changed", staff_id=staff_id[:64])
    try:
        service.decide(ctx.engine, ctx.plan, staff_id, approve, pages.now_of(request),
                       actor=me, request_id=looked_at, note=note)
    except ChangedRequest:
        return _back(request, "/corrections", "corr_changed", staff_id=staff_id)
    except OwnRequest:
        return _back(request, "/corrections", "corr_own_refused", staff_id=staff_id)
    except (IllegalEvent, NotFound):
        return _back(request, "/corrections", "corr_not_pending", staff_id=staff_id)
    except ValueError as refused:  # Refusals, the log's order: their own sentence
        return _back(request, "/corrections", "corr_refused", why=str(refused))
    return _back(request, "/corrections", "corr_approved" if approve else "corr_rejected", staff_id=staff_id)
