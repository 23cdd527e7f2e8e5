"""The outbox in a browser: the newest messages by status, one message, and retrying failed ones.

Reading is the whole campaign's (VIEW_ALL); retrying is administering (ADMINISTER). Each is
the same use case as `cuiban outbox list|show|retry` (services.outbox_admin). A message is
shown as its headers and its text part, escaped: its HTML part is never rendered in the page,
and a sign-in link's text is not given to the page at all (the service withholds it).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from cuiban.services import outbox_admin
from cuiban.services.rejection import Refusal
from cuiban.web import pages, responses
from cuiban.workflow.access import Action, decide

router = APIRouter()

STATUSES = ("failed", "queued", "sending", "sent")

pages.words(
    {
        "ob_title": ("邮件", "Outbox"),
        "ob_all": ("全部", "All"),
        "ob_status_failed": ("发送失败", "failed"),
        "ob_status_queued": ("待发送", "queued"),
        "ob_status_sending": ("发送中", "sending"),
        "ob_status_sent": ("已发送", "sent"),
        "ob_kind_reminder": ("提醒", "reminder"),
        "ob_kind_escalation": ("通报", "escalation"),
        "ob_kind_digest": ("进度日报", "digest"),
        "ob_kind_sign_in": ("登录链接", "sign-in link"),
        "ob_kind_report": ("报表", "report"),
        "ob_newest": ("最新的 {n} 封（共 {total} 封）。", "The newest {n} of {total}."),
        "ob_empty": ("没有邮件。", "No messages."),
        "ob_col_id": ("编号", "No."),
        "ob_col_kind": ("类型", "Kind"),
        "ob_col_status": ("状态", "Status"),
        "ob_col_recipient": ("收件人", "Recipient"),
        "ob_col_subject": ("主题", "Subject"),
        "ob_col_created": ("生成时间", "Queued"),
        "ob_col_sent": ("发送时间", "Sent"),
        "ob_col_next": ("下次尝试", "Next attempt"),
        "ob_col_attempts": ("尝试次数", "Attempts"),
        "ob_col_error": ("最后一次错误", "Last error"),
        "ob_col_task": ("任务", "Task"),
        "ob_col_slot": ("时段", "Slot"),
        "ob_col_message_id": ("Message-ID", "Message-ID"),
        "ob_retry_selected": ("重发选中的邮件", "Retry the selected messages"),
        "ob_retry_all": ("重发全部失败的邮件", "Retry every failed message"),
        "ob_retry_one": ("重发这封邮件", "Retry this message"),
        "ob_retried": (
            "已重新排队 {n} 封邮件，将在下次发送时发出。",
            "{n} message(s) queued again; they go out with the next send.",
        ),
        "ob_nothing": ("没有选中任何邮件。", "No message was selected."),
        "ob_no_such": (
            "没有编号为 {id} 的邮件，未重发任何邮件。",
            "No message {id} in the outbox; nothing was queued.",
        ),
        "ob_not_retried": ("未重发任何邮件：{why}", "Nothing was queued again: {why}"),
        "ob_body": ("正文（纯文本）", "Text"),
        "ob_body_hidden": (
            "登录链接邮件的正文不在网页上显示（其中的链接可用于登录）。",
            "A sign-in link's text is not shown (the link in it signs in).",
        ),
        "ob_back": ("返回邮件列表", "Back to the outbox"),
    }
)


@router.get("/outbox")
def listing(request: Request, status: str = "") -> Response:
    person = pages.guard(request, Action.VIEW_ALL)
    ctx = pages.context_of(request)
    chosen = status if status in STATUSES else None
    found = outbox_admin.listing(ctx.engine, ctx.plan.timezone, chosen)
    return pages.page(
        request,
        "outbox.html",
        chosen=chosen,
        statuses=STATUSES,
        messages=[_shown(request, m) for m in found.messages],
        counts=found.counts,
        total=found.total,
        more=found.more,
        can_retry=decide(ctx.plan, person, Action.ADMINISTER).allowed,
    )


@router.get("/outbox/{message_id}")
def message(request: Request, message_id: str) -> Response:
    person = pages.guard(request, Action.VIEW_ALL)
    ctx = pages.context_of(request)
    number = responses.record_id(message_id)
    if number is None:
        raise HTTPException(404)
    try:
        summary, text = outbox_admin.message(ctx.engine, ctx.plan.timezone, number)
    except outbox_admin.NoSuchMessage:
        raise HTTPException(404) from None
    return pages.page(
        request,
        "message.html",
        m=_shown(request, summary),
        text=text,
        can_retry=decide(ctx.plan, person, Action.ADMINISTER).allowed,
    )


@router.post("/outbox/retry")
def retry(
    request: Request, ids: Annotated[list[str] | None, Form()] = None, all_failed: str = Form("")
) -> Response:
    """Queue the chosen failed messages (or every failed one) again; how many, on the next page.
    Nothing is queued when one of them cannot be (no such message, already sent, being sent)."""
    pages.guard(request, Action.ADMINISTER)
    here = "/outbox?status=failed"
    ids = ids or []
    if not ids and not all_failed:
        return pages.back(request, here, pages.translate(request, "ob_nothing"))
    numbers = [responses.record_id(i) for i in ids]
    if None in numbers:
        shown = next(i for i, n in zip(ids, numbers, strict=True) if n is None)
        return pages.back(request, here, pages.translate(request, "ob_no_such", id=shown[:40]))
    try:
        count = outbox_admin.retry(pages.context_of(request).engine, numbers, all_failed=bool(all_failed))
    except outbox_admin.NoSuchMessage as missing:
        return pages.back(request, here, pages.translate(request, "ob_no_such", id=missing.message_id))
    except Refusal as refused:
        return pages.back(request, here, pages.translate(request, "ob_not_retried", why=str(refused)))
    return pages.back(request, here, pages.translate(request, "ob_retried", n=count))


def _shown(request: Request, message: dict[str, Any]) -> dict[str, Any]:
    """A message's summary with its kind and status in words and its times as people read them."""
    tz = pages.context_of(request).plan.timezone
    return {
        **message,
        "kind_label": responses.word(request, "ob_kind_", message["kind"]),
        "status_label": responses.word(request, "ob_status_", message["status"]),
        **{k: responses.moment(message[k], tz) for k in outbox_admin.STAMPS},
    }
