"""The web application: FastAPI, pages rendered on the server, plain forms with post-redirect-get.

What every request goes through, in this order:
1. `protect`: refuses a body over `MAX_BODY` (413), gives every visitor a session (signed
   cookie), and adds the security headers to every answer (a Content-Security-Policy of
   `default-src 'self'` with `frame-ancestors 'none'`, nosniff, no referrer: a sign-in
   link's token never leaves in a Referer header, no caching of pages with people's names);
2. `csrf_guard` (a dependency of the whole app): a POST without the form's CSRF token of
   this session is refused (403) before its route runs;
3. the route: `guard` (sign-in, then `services.access.authorize`), then one service.
"""

from __future__ import annotations

from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from cuiban.services.access import Forbidden
from cuiban.services.rejection import Refusal
from cuiban.web import pages
from cuiban.web.context import WebContext
from cuiban.web.routes import ROUTERS
from cuiban.web.session import Sessions, new_session

MAX_BODY = 256 * 1024 * 1024
"""The largest request accepted (a roster of a million teachers is about 120 MB as CSV)."""
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
    """Every state-changing request carries this session's CSRF token in its form (field `csrf`)."""
    if request.method not in UNSAFE:
        return
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
        length = request.headers.get("content-length")
        if length is not None and (not length.isdecimal() or int(length) > MAX_BODY):
            return _secured(Response("request too large", status_code=413))
        sessions: Sessions = request.app.state.sessions
        found = sessions.read(request)
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
        key = {403: "csrf_refused", 404: "not_found", 405: "not_allowed"}.get(error.status_code, "error")
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

    return app


def _secured(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("Cache-Control", "no-store")
    return response

