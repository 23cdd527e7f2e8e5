"""The session: a signed cookie (itsdangerous), HttpOnly, SameSite=Lax, Secure over https.

It holds the person's id, a random session id and the moment of sign-in; nothing else.
Why a signed cookie and no session table: the pages need only "who is this", the cookie
cannot be forged without CUIBAN_SECRET_KEY, and it expires by itself after a working day
(`LIFETIME`). At sign-in the session id is replaced (no fixation), and the CSRF token of
every form is an HMAC of that id, so a token taken before sign-in is worthless after it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

COOKIE = "cuiban_session"
LIFETIME = timedelta(hours=10)
"""A working day: a morning's sign-in lasts until the evening."""


@dataclass(frozen=True)
class Session:
    sid: str
    person: str | None = None
    next_path: str | None = None
    """Where to go after sign-in (a local path, checked by `safe_next`)."""

    @property
    def signed_in(self) -> bool:
        return self.person is not None


class Sessions:
    def __init__(self, secret_key: str, secure: bool) -> None:
        self.serializer = URLSafeTimedSerializer(secret_key, salt="cuiban-session")
        self.csrf_key = hashlib.sha256(b"cuiban-csrf|" + secret_key.encode()).digest()
        self.secure = secure

    def read(self, request: Request) -> Session | None:
        raw = request.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            data = self.serializer.loads(raw, max_age=int(LIFETIME.total_seconds()))
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("sid"), str):
            return None
        return Session(data["sid"], data.get("person"), data.get("next"))

    def write(self, response: Response, session: Session, https: bool = False) -> None:
        data = {"sid": session.sid, "person": session.person, "next": session.next_path}
        value = self.serializer.dumps(data)
        response.set_cookie(
            COOKIE,
            value,
            max_age=int(LIFETIME.total_seconds()),
            httponly=True,
            samesite="lax",
            secure=self.secure or https,
            path="/",
        )

    def csrf_token(self, session: Session) -> str:
        return hmac.new(self.csrf_key, session.sid.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, session: Session | None, token: str | None) -> bool:
        return bool(session and token) and hmac.compare_digest(self.csrf_token(session), str(token))


def new_session(person: str | None = None, next_path: str | None = None) -> Session:
    return Session(secrets.token_urlsafe(24), person, next_path)


def safe_next(path: str | None) -> str | None:
    """A path of this site to return to after sign-in, or None: no scheme, no host, no `//`, no `\\`."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return None
    if any(ord(c) < 32 for c in path) or ":" in path.split("?", 1)[0]:
        return None
    return path[:400]
