"""The web application: FastAPI, pages rendered on the server, plain forms with post-redirect-get.

What every request goes through, in this order:
0. `BodyLimit`: refuses a body larger than its path allows (413), counted as it arrives;
1. `protect`: gives every visitor a session (a signed cookie; a signed-in one must still be open
   in the database: signing out ends it), and adds the security headers to every answer (a
   Content-Security-Policy of `default-src 'self'` with `frame-ancestors 'none'`, nosniff, no
   referrer: a sign-in link's token never leaves in a Referer header, no caching of pages with
   people's names);
2. `csrf_guard` (a dependency of the whole app): a POST without the form's CSRF token of
   this session is refused (403) before its route runs;
3. the route: `guard` (sign-in, then `services.access.authorize`), then one service.
"""

from __future__ import annotations

import re

from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cuiban.services.access import Forbidden
from cuiban.services.rejection import Refusal
from cuiban.services.sign_in import session_person
from cuiban.web import pages
from cuiban.web.context import WebContext
from cuiban.web.routes import ROUTERS
from cuiban.web.session import Sessions, new_session

FORM_BODY = 64 * 1024
"""The largest request of an ordinary form (sign-in, a note, a correction)."""
BODY_LIMITS = (
    (re.compile(r"/uploads/(roster|status)"), 201 * 1024 * 1024),  # a million teachers: ~120 MB of CSV
    (re.compile(r"/units/[^/]+/tasks/[^/]+/done"), 11 * 1024 * 1024),  # an evidence file of 10 MB
    (re.compile(r"/plan-diff"), 1024 * 1024 + 64 * 1024),  # a plan file of 1 MB
)


async def _nothing_more() -> Message:
    return {"type": "http.disconnect"}


def body_limit(path: str) -> int:
    return next((limit for pattern, limit in BODY_LIMITS if pattern.fullmatch(path)), FORM_BODY)


class BodyLimit:
    """Refuse (413) a request body larger than its path allows, counted as it arrives: a declared
    Content-Length is checked first, and a chunked body that has none is stopped at the byte that
    passes the limit, before the form parser spools the rest to disk."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > limit:
            await _secured(PlainTextResponse("request too large", status_code=413))(scope, receive, send)
            return
        received, over = 0, False

        async def counted() -> Message:
            nonlocal received, over
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                over = True  # whatever the app makes of this, its answer becomes a 413 (below)
                raise HTTPException(413, "request too large")
            return message

        async def answer(message: Message) -> None:
            if not over:
                await send(message)
            elif message["type"] == "http.response.start":
                refused = _secured(PlainTextResponse("request too large", status_code=413))
                await refused(scope, _nothing_more, send)

        await self.app(scope, counted, answer)
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


async def csrf_guard(request: Request) -> None:
    """Every state-changing request carries this session's CSRF token in its form (field `csrf`).
    A file upload is read only for a signed-in session: nobody else may make the server spool one."""
    if request.method not in UNSAFE:
        return
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/") and not pages.session_of(request).signed_in:
        raise HTTPException(403, "csrf")
    token: str | None = request.headers.get("x-csrf-token")
    if token is None and "form" in request.headers.get("content-type", ""):
        form = await request.form()
        value = form.get("csrf")
        token = value if isinstance(value, str) else None
    if not pages.sessions_of(request).csrf_ok(pages.session_of(request), token):
        raise HTTPException(403, "csrf")


def create_app(context: WebContext) -> FastAPI:
    app = FastAPI(
        title="cuiban",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(csrf_guard)],
    )
    app.state.context = context
    app.state.sessions = Sessions(context.secret_key, context.secure_cookies)
    app.state.jinja = pages.environment()
    app.mount("/static", StaticFiles(directory=str(pages.TEMPLATES.parent / "static")), name="static")
    for router in ROUTERS:
        app.include_router(router)

    @app.middleware("http")
    async def protect(request: Request, call_next):  # type: ignore[no-untyped-def]
        sessions: Sessions = request.app.state.sessions
        found = sessions.read(request)
        if found is not None and found.signed_in:  # signed out since (the cookie copied or kept)?
            person = await run_in_threadpool(session_person, context.engine, found.sid)
            found = found if person == found.person else None
        request.state.session = found or new_session()
        response = await call_next(request)
        replaced = getattr(request.state, "new_session", None)
        if replaced is not None or found is None:
            sessions.write(response, replaced or request.state.session, request.url.scheme == "https")
        if getattr(request.state, "clear_flash", False) and pages.FLASH not in response.headers.get(
            "set-cookie", ""
        ):
            response.delete_cookie(pages.FLASH, path="/")
        return _secured(response)

    @app.exception_handler(pages.SignInNeeded)
    async def sign_in_needed(request: Request, error: pages.SignInNeeded) -> Response:
        pages.replace_session(request, None, error.next_path)
        return RedirectResponse("/sign-in", status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, error: Forbidden) -> Response:
        return pages.page(request, "error.html", status=403, title=pages.translate(request, "forbidden"),
                          message=pages.translate(request, "forbidden_why"))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        key = {403: "csrf_refused", 404: "not_found", 405: "not_allowed", 413: "too_large"}.get(
            error.status_code, "error"
        )
        return pages.page(request, "error.html", status=error.status_code,
                          title=pages.translate(request, key), message="")

    @app.exception_handler(RequestValidationError)
    async def malformed(request: Request, error: RequestValidationError) -> Response:
        """A form or query value of the wrong kind (only a hand-made request sends one): a page, not JSON."""
        return pages.page(request, "error.html", status=400, title=pages.translate(request, "refused"),
                          message=pages.translate(request, "malformed"))

    @app.exception_handler(Refusal)
    async def refused(request: Request, error: Refusal) -> Response:
        return pages.page(request, "error.html", status=400, title=pages.translate(request, "refused"),
                          message=str(error))

    app.add_middleware(BodyLimit)  # outermost of ours: before a session is read or a form parsed
    app.add_exception_handler(Exception, crashed)
    return app


async def crashed(request: Request, error: Exception) -> Response:
    """A fault of ours: a plain page with the security headers, never a traceback (uvicorn logs it)."""
    page = (
        "<!doctype html><meta charset='utf-8'><title>cuiban</title>"
        "<p>出错了，请稍后再试；如果一直出错，请告诉系统管理员。</p>"
        "<p>Something went wrong; try again later, and tell the administrator if it persists.</p>"
    )
    return _secured(HTMLResponse(page, status_code=500))


def _secured(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("Cache-Control", "no-store")
    return response

