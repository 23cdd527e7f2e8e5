"""Rendering pages and guarding them: the few helpers every route module uses.

- `page(request, name, **values)`: a Jinja2 template of web/templates, autoescaped, with
  the words of the plan's language (`t("key")`), the CSRF token, the signed-in person and
  the flash message of the previous POST;
- `guard(request, action, unit)`: who is signed in, or a redirect to sign-in; the
  authorization itself is `services.access.authorize` (logged, 403 when refused);
- `back(request, url, message)`: post-redirect-get, with one message for the next page.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from cuiban.services.access import Request as Origin
from cuiban.services.access import authorize
from cuiban.web.context import WebContext
from cuiban.web.session import Session, Sessions, new_session
from cuiban.workflow.access import Action, roles_of

TEMPLATES = Path(__file__).resolve().parent / "templates"
FLASH = "cuiban_flash"

WORDS: dict[str, tuple[str, str]] = {}
"""key → (中文, English). Each route module adds its own with `words({...})`."""


def words(entries: dict[str, tuple[str, str]]) -> None:
    """Register a module's words; a key defined twice with different words is a mistake."""
    for key, pair in entries.items():
        if WORDS.get(key, pair) != pair:
            raise ValueError(f"the word {key!r} is defined twice, differently")
        WORDS[key] = pair


class SignInNeeded(Exception):  # noqa: N818 - a state of the request, answered with a redirect
    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def context_of(request: Request) -> WebContext:
    return request.app.state.context


def sessions_of(request: Request) -> Sessions:
    return request.app.state.sessions


def session_of(request: Request) -> Session:
    """The request's session (the middleware gives every visitor one, signed in or not)."""
    replaced = getattr(request.state, "new_session", None)
    return replaced or request.state.session


def replace_session(
    request: Request, person: str | None, next_path: str | None = None, sid: str | None = None
) -> Session:
    """A new session id (at sign-in and sign-out): a fixed id from before sign-in is worth nothing."""
    fresh = Session(sid, person, next_path) if sid else new_session(person, next_path)
    request.state.new_session = fresh
    return fresh


def client_of(request: Request) -> str:
    """The client's address (uvicorn takes it from X-Forwarded-For when the proxy is trusted)."""
    return request.client.host if request.client else "unknown"


def now_of(request: Request) -> datetime:
    return context_of(request).clock()


def guard(request: Request, action: Action, unit: str | None = None) -> str:
    """The signed-in person, allowed to do `action` for `unit`; SignInNeeded or Forbidden otherwise."""
    session = session_of(request)
    if not session.signed_in:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInNeeded(path)
    ctx = context_of(request)
    origin = Origin(request.method, request.url.path, client_of(request))
    authorize(ctx.engine, ctx.plan, session.person, action, unit, origin, now_of(request))
    return str(session.person)


def language(request: Request) -> str:
    return "en" if context_of(request).plan.language == "en" else "zh"


def translate(request: Request, key: str, **values: Any) -> str:
    return word(language(request), key, **values)


def word(lang: str, key: str, **values: Any) -> str:
    """The word `key` in `lang` (the key itself when it has none), its {fields} filled in."""
    pair = WORDS.get(key)
    if pair is None:
        return key
    text = pair[1] if lang == "en" else pair[0]
    return text.format(**values) if values else text


def page(request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
    ctx = context_of(request)
    session = session_of(request)
    person = ctx.plan.people.get(session.person) if session.person else None
    roles = roles_of(ctx.plan, session.person) if session.person else None
    template = request.app.state.jinja.get_template(name)
    lang = language(request)
    html = template.render(
        t=lambda key, **v: word(lang, key, **v),
        lang=lang,
        plan=ctx.plan,
        csrf=sessions_of(request).csrf_token(session),
        me=person,
        me_id=session.person,
        roles=roles,
        flash=take_flash(request),
        now=now_of(request),
        request_path=request.url.path,
        dev=ctx.dev,
        **values,
    )
    return HTMLResponse(html, status_code=status)


def back(request: Request, url: str, message: str | None = None) -> Response:
    """303 to `url` (a path of this site), carrying `message` to the next page."""
    response = RedirectResponse(url, status_code=303)
    if message:
        signer = URLSafeSerializer(context_of(request).secret_key, salt="cuiban-flash")
        response.set_cookie(FLASH, signer.dumps(message[:1000]), httponly=True, samesite="lax",
                            secure=context_of(request).secure_cookies, path="/")
    return response


def take_flash(request: Request) -> str | None:
    raw = request.cookies.get(FLASH)
    if not raw:
        return None
    request.state.clear_flash = True
    try:
        return str(URLSafeSerializer(context_of(request).secret_key, salt="cuiban-flash").loads(raw))
    except BadSignature:
        return None
