"""Sign-in by emailed link, sign-out, and the home page that sends each person where they work.

The link in the mail opens a page with one button; only pressing it (a POST) uses the
link. Mail scanners that fetch every link in a message would otherwise use it up
before the person clicks.
"""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Form
from starlette.requests import Request
from starlette.responses import Response

from cuiban.services import sign_in as service
from cuiban.services.dispatch import dispatch
from cuiban.web import pages
from cuiban.web.context import WebContext
from cuiban.web.session import new_session, safe_next
from cuiban.workflow.access import roles_of

router = APIRouter()

pages.words(
    {
        "app": ("催办", "cuiban"),
        "sign_in": ("登录", "Sign in"),
        "sign_out": ("退出", "Sign out"),
        "email": ("电子邮箱", "Email address"),
        "send_link": ("发送登录链接", "Send me a sign-in link"),
        "sign_in_intro": (
            "请输入您在本次工作中登记的电子邮箱，我们会把一次性登录链接发到这个邮箱（15 分钟内有效）。",
            "Enter the email address the plan lists for you; a one-time sign-in link (valid 15 minutes) "
            "goes to it.",
        ),
        "link_sent": ("请查收邮件", "Check your mail"),
        "link_sent_text": (
            "如果 {email} 是本次工作登记的邮箱，登录链接已经发出，15 分钟内有效，只能使用一次。"
            "没有收到？请检查垃圾邮件，或稍后再试。",
            "If {email} is an address the plan lists, a sign-in link is on its way; it works once, for "
            "15 minutes. Nothing arrived? Look in the spam folder, or ask again later.",
        ),
        "too_many": ("请求过于频繁", "Too many requests"),
        "too_many_text": (
            "登录请求过于频繁，请 15 分钟后再试。",
            "Too many sign-in requests; please wait a quarter of an hour and ask again.",
        ),
        "link_title": ("确认登录", "Confirm sign-in"),
        "link_text": (
            "您将以 {name} 的身份登录。点击下面的按钮完成登录。",
            "You are signing in as {name}. Press the button.",
        ),
        "link_refused": ("链接无效", "Link refused"),
        "link_refused_text": (
            "这个登录链接已经使用过、已过期或无效。请重新申请登录链接。",
            "This sign-in link has been used, has expired or is unknown. Ask for a new one.",
        ),
        "ask_again": ("重新申请登录链接", "Ask for a new link"),
        "forbidden": ("无权访问", "Not allowed"),
        "forbidden_why": (
            "您的角色不能查看或办理这一项（已记录）。如需帮助，请联系总协调人。",
            "Your role does not allow this (the refusal is logged). Ask the coordinator if you need it.",
        ),
        "csrf_refused": ("请求被拒绝", "Request refused"),
        "not_found": ("没有这个页面", "Not found"),
        "not_allowed": ("不支持的操作", "Not allowed"),
        "too_large": ("文件或请求太大", "Request too large"),
        "refused": ("未能办理", "Could not be done"),
        "error": ("出错了", "Something went wrong"),
        "malformed": (
            "请求中的数据格式不对，请回到上一页重新填写。",
            "The request's data is malformed; go back and fill in the form again.",
        ),
        "no_role": ("您在本计划中没有角色。", "You hold no role in this plan."),
        "home": ("首页", "Home"),
        "nav_dashboard": ("总览", "Dashboard"),
        "nav_timeline": ("时间表", "Timeline"),
        "nav_teachers": ("教职工", "Teachers"),
        "nav_outbox": ("邮件", "Outbox"),
        "nav_uploads": ("上传名单与导出", "Uploads"),
        "nav_corrections": ("更正申请", "Corrections"),
        "nav_reports": ("报表", "Reports"),
    }
)


def _context(request: Request) -> WebContext:
    return pages.context_of(request)


@router.get("/")
def home(request: Request) -> Response:
    """Each person to where they work: the dashboard, or their own unit's page."""
    session = pages.session_of(request)
    if not session.signed_in:
        return pages.back(request, "/sign-in")
    roles = roles_of(_context(request).plan, session.person or "")
    if roles.sees_all:
        return pages.back(request, "/dashboard")
    if roles.home_units:
        return pages.back(request, f"/units/{roles.home_units[0]}")
    return pages.page(request, "error.html", status=403, title=pages.translate(request, "forbidden"),
                      message=pages.translate(request, "no_role"))


@router.get("/sign-in")
def sign_in_form(request: Request) -> Response:
    if pages.session_of(request).signed_in:
        return pages.back(request, "/")
    return pages.page(request, "sign_in.html")


@router.post("/sign-in")
def ask_for_link(request: Request, background: BackgroundTasks, email: str = Form("")) -> Response:
    """The same page, after the same work, whether or not the address is known: whether a link is
    made and mailed is decided after the answer has gone (`_send_link`)."""
    ctx = _context(request)
    try:
        service.note_request(ctx.engine, email[:320], pages.client_of(request), ctx.clock())
    except service.TooManyRequests:
        problem = pages.translate(request, "too_many_text")
        return pages.page(request, "sign_in.html", status=429, problem=problem)
    background.add_task(_send_link, ctx, email[:320])
    return pages.page(request, "link_sent.html", email=email[:320])


def _send_link(ctx: WebContext, email: str) -> None:
    """Make and queue the link (known addresses only), then send sign-in links at once (the rest of
    the outbox waits for `cuiban run`)."""
    service.send_link(ctx.engine, ctx.plan, ctx.renderer, email, ctx.clock(), ctx.base_url)
    if ctx.send_in_background:
        dispatch(ctx.engine, ctx.transport, ctx.clock, per_minute=ctx.delivery.per_minute, kinds=("sign_in",))


@router.get("/sign-in/link")
def confirm_link(request: Request, token: str = "") -> Response:
    """A button that uses the link, saying whose it is (nobody is signed in as someone else unawares);
    an unusable link is said so at once."""
    ctx = _context(request)
    name = service.whose_link(ctx.engine, ctx.plan, token[:200], ctx.clock())
    if name is None:
        return pages.page(request, "link_refused.html", status=400)
    return pages.page(request, "link.html", token=token[:200], holder=name)


@router.post("/sign-in/link")
def use_link(request: Request, token: str = Form("")) -> Response:
    """Sign in with a new session id (the one from before sign-in is worth nothing afterwards)."""
    ctx = _context(request)
    next_path = pages.session_of(request).next_path
    fresh = new_session()
    try:
        person = service.redeem(ctx.engine, token, ctx.clock(), fresh.sid)
    except service.LinkRefused:
        return pages.page(request, "link_refused.html", status=400)
    pages.replace_session(request, person, sid=fresh.sid)
    return pages.back(request, safe_next(next_path) or "/")


@router.post("/sign-out")
def sign_out(request: Request) -> Response:
    """End the session in the database too: a copy of the cookie signs nobody in any more."""
    ctx = _context(request)
    service.sign_out(ctx.engine, pages.session_of(request).sid, ctx.clock())
    pages.replace_session(request, None)
    return pages.back(request, "/sign-in")
