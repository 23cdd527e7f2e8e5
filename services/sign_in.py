"""Sign-in by emailed link: no passwords. A person of the plan asks with their address; a
one-time link goes out through the outbox (so it is delivered, retried and paused like any
message, and the demo finds it as a .eml); the link is good for 15 minutes, once.

Why this shape (OWASP's authentication and forgot-password cheat sheets):
- the same answer whatever the address: `request_link` returns nothing a page could
  show differently, and it records the request either way, so the rate limits (per
  address and per client) behave the same for a known and an unknown address;
- only the token's SHA-256 is stored, so a copy of the database signs nobody in;
- the link is used by one UPDATE that also checks it is unused and unexpired, so two
  clicks at once sign in once.
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from sqlalchemy import Engine

from cuiban.models import outbox_store, sign_in_store
from cuiban.models.unit_of_work import transaction
from cuiban.notifications.render import Renderer
from cuiban.services.rejection import Refusal
from cuiban.workflow.access import email_owner
from cuiban.workflow.clock import local_iso
from cuiban.workflow.plan.schema import Plan

LINK_LIFETIME = timedelta(minutes=15)
PATH = "/sign-in/link"
"""Where a link lands: `PATH?token=…`."""


@dataclass(frozen=True)
class Limits:
    """Per `window`: at most `per_pair` requests for one address from one client and `per_client` from
    one client (more are answered 429, for a known and an unknown address alike); at most
    `mails_per_address` links mailed to one person (more requests are answered as usual and send
    nothing, so nobody can flood a mailbox, and nobody elsewhere can lock a person out with 429s)."""

    per_pair: int = 5
    per_client: int = 20
    mails_per_address: int = 5
    window: timedelta = timedelta(minutes=15)


class TooManyRequests(Refusal):
    """Over a rate limit: the page says to wait, for a known and an unknown address alike."""


class LinkRefused(Refusal):
    """A link that is unknown, used or expired."""


def digest_of(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def client_key(client: str) -> str:
    """Who is asking, for the limits: an IPv4 address, or an IPv6 address's /64 (one network hands
    out a whole /64 to one machine, so a single address would be no limit at all)."""
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return client[:64]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def address_of(email: str) -> str:
    return email.strip().casefold()[:320]


def note_request(engine: Engine, email: str, client: str, now: datetime, limits: Limits = Limits()) -> None:
    """Count a request for a link against the limits (TooManyRequests over one); the same work
    whether or not the address is known, so neither the answer nor its time tells which.

    The request is written before it is counted, in one transaction that holds the write lock
    (SQLite) or the sign-in lock (PostgreSQL): thirty requests at once are counted as thirty."""
    address_hash, asker = digest_of(address_of(email)), client_key(client)
    with transaction(engine) as connection:
        sign_in_store.hold_lock(connection)
        sign_in_store.record_request(connection, address_hash, asker, now)
        since = now - limits.window
        pair = sign_in_store.requests_since(connection, since, email_hash=address_hash, client=asker)
        by_client = sign_in_store.requests_since(connection, since, client=asker)
        if pair > limits.per_pair or by_client > limits.per_client:
            raise TooManyRequests("too many sign-in requests; wait a quarter of an hour and ask again")
        sign_in_store.forget_requests_before(connection, now - 4 * limits.window)


def send_link(
    engine: Engine,
    plan: Plan,
    renderer: Renderer,
    email: str,
    now: datetime,
    base_url: str,
    limits: Limits = Limits(),
) -> str | None:
    """Queue a sign-in link for `email` when it belongs to a person with a role in the plan and that
    person has not had `mails_per_address` links in the window. Done after the answer (the page's
    background task), so a known address costs the request no more time than an unknown one.

    Returns the token (for `serve --dev` and tests only; a page never shows it), or None."""
    person = email_owner(plan, address_of(email))
    if person is None:
        return None
    with transaction(engine) as connection:
        sign_in_store.hold_lock(connection)
        if sign_in_store.links_since(connection, person, now - limits.window) >= limits.mails_per_address:
            return None
        token = secrets.token_urlsafe(32)
        sign_in_store.add_link(connection, digest_of(token), person, now, now + LINK_LIFETIME)
        outbox_store.queue(connection, [_message(plan, renderer, person, token, now, base_url)], now)
    return token


def request_link(
    engine: Engine,
    plan: Plan,
    renderer: Renderer,
    email: str,
    client: str,
    now: datetime,
    base_url: str,
    limits: Limits = Limits(),
) -> str | None:
    """`note_request`, then `send_link`: what the sign-in page does, in one call."""
    note_request(engine, email, client, now, limits)
    return send_link(engine, plan, renderer, email, now, base_url, limits)


def whose_link(engine: Engine, plan: Plan, token: str, now: datetime) -> str | None:
    """The name of the person a usable link would sign in, without using it: the confirmation page
    says who is signing in, so nobody is signed in as someone else by a link sent to them."""
    with engine.connect() as connection:
        row = sign_in_store.link_state(connection, digest_of(token))
    if row is None or row["used_at"] is not None or row["expires_at"] <= now:
        return None
    person = plan.people.get(row["person_id"])
    return person.name if person else None


def link_for(token: str, base_url: str) -> str:
    return f"{base_url.rstrip('/')}{PATH}?token={quote(token)}"


def _message(plan: Plan, renderer: Renderer, person: str, token: str, now: datetime, base_url: str) -> dict:
    who = plan.people[person]
    expires = local_iso(now + LINK_LIFETIME, plan.timezone)
    context = {
        "plan": {"title": plan.title, "institution": plan.institution},
        "recipient": {"name": who.name},
        "link": link_for(token, base_url),
        "expires": expires[:16].replace("T", " "),
        "minutes": int(LINK_LIFETIME.total_seconds() // 60),
    }
    rendered = renderer.render("sign_in", context)
    return {
        "key": f"sign_in|{digest_of(token)}",
        "kind": "sign_in",
        "recipient": who.email,
        "recipient_name": who.name,
        "slot": local_iso(now, plan.timezone),
        "subject": rendered.subject,
        "body_text": rendered.text,
        "body_html": rendered.html,
        "due_at": now,
    }


SESSION_LIFETIME = timedelta(hours=10)
"""A working day; the cookie's own lifetime is the same (web/session.py)."""


def redeem(engine: Engine, token: str, now: datetime, session_id: str) -> str:
    """The person `token` signs in, with the session `session_id` opened for them in the same
    transaction; LinkRefused when the link is unknown, already used or expired."""
    with transaction(engine) as connection:
        person = sign_in_store.use_link(connection, digest_of(token), now)
        if person is None:
            raise LinkRefused("this sign-in link is used, expired or unknown; ask for a new one")
        sign_in_store.open_session(connection, digest_of(session_id), person, now)
        sign_in_store.forget_sessions_before(connection, now - 2 * SESSION_LIFETIME)
    return person


def session_person(engine: Engine, session_id: str) -> str | None:
    """Who a session signs in, while it has not been ended by signing out (None otherwise)."""
    with engine.connect() as connection:
        return sign_in_store.session_person(connection, digest_of(session_id))


def sign_out(engine: Engine, session_id: str, now: datetime) -> None:
    """End the session: its cookie, kept or copied, signs nobody in any more."""
    with transaction(engine) as connection:
        sign_in_store.end_session(connection, digest_of(session_id), now)


def dev_link(engine: Engine, plan: Plan, now: datetime, base_url: str, person: str | None = None) -> str:
    """`serve --dev`: a sign-in link for the coordinator (or `person`), printed instead of mailed."""
    token = secrets.token_urlsafe(32)
    who = person or plan.roles.coordinator
    with transaction(engine) as connection:
        sign_in_store.add_link(connection, digest_of(token), who, now, now + LINK_LIFETIME)
    return link_for(token, base_url)
