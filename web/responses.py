"""What the route modules share once they have guarded: ids read from a URL or a form, downloads, and
values as people read them.

Why one place: every route answers a hostile id the same way (no such record: a 404 page or a
flash, never a 500 from a database driver that cannot bind an integer past 64 bits); every
download is an attachment with the same headers; and a moment, a person or a word reads the
same on every page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

import pendulum
from starlette.requests import Request

from cuiban.web import pages
from cuiban.workflow.plan.schema import Plan

LARGEST_ID = 2**63 - 1
"""The largest id a BIGINT column holds (SQLite's INTEGER too)."""
SANDBOX = "default-src 'none'; sandbox"
"""A download's policy: should a browser ever render it, nothing in it runs and nothing loads."""


def record_id(text: str) -> int | None:
    """A record's id as sent in a URL or a form (ASCII digits, 1 ≤ id ≤ LARGEST_ID), or None: an id
    that no record can have (empty, signed, another script's digits, too large)."""
    if not text or len(text) > 19 or not (text.isascii() and text.isdecimal()):
        return None
    number = int(text)
    return number if 1 <= number <= LARGEST_ID else None


def attachment(name: str, fallback: str | None = None) -> str:
    """Content-Disposition for a download (RFC 6266): never inline; the name in UTF-8 (RFC 5987) and a
    plain ASCII one for old clients (`fallback`, or the name), without quotes, backslashes, `;`, `%`
    or control characters, so no value can end the header's parameter or start another header."""
    plain = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\;%' else "_" for c in (fallback or name)
    )
    return f"attachment; filename=\"{plain or 'download'}\"; filename*=UTF-8''{quote(name, safe='')}"


def download_headers(name: str, fallback: str | None = None) -> dict[str, str]:
    """Every download's headers: an attachment, its type never sniffed, nothing run if shown, not cached."""
    return {
        "Content-Disposition": attachment(name, fallback),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": SANDBOX,
        "Cache-Control": "private, no-store",
    }


def moment(value: datetime | str | None, tz: str) -> str:
    """A moment (a datetime, or ISO 8601 with its offset) as people read it in the plan's timezone:
    2016-12-16 10:00; "" for none."""
    if value is None or value == "":
        return ""
    when = pendulum.parse(value) if isinstance(value, str) else pendulum.instance(value)
    return when.in_timezone(tz).format("YYYY-MM-DD HH:mm")  # type: ignore[union-attr]


def shown_at(request: Request) -> Callable[[datetime | str | None], str]:
    """`moment` in the plan's timezone, for the templates."""
    tz = pages.context_of(request).plan.timezone
    return lambda value: moment(value, tz)


def person_name(plan: Plan, person: str | None) -> str:
    """A person id as the plan names them (else as given: what the command line's --by said)."""
    if not person:
        return ""
    found = plan.people.get(person)
    return found.name if found else person


def word(request: Request, prefix: str, key: str | None) -> str:
    """The registered word for `prefix + key` in the page's language, or the key itself when there is none."""
    if not key:
        return ""
    name = f"{prefix}{key}"
    return pages.translate(request, name) if name in pages.WORDS else key


PAGE_SIZE = 100
"""Rows a long table shows at once (a province's 2,000 departments: 20 pages, each quick to draw)."""


@dataclass(frozen=True)
class Paged:
    rows: list
    page: int
    pages: int


def paged(rows: list, page: int, size: int = PAGE_SIZE) -> Paged:
    """One page of `rows` (pages count from 1; a page past the end shows the last)."""
    pages = max((len(rows) + size - 1) // size, 1)
    page = min(max(page, 1), pages)
    return Paged(rows[(page - 1) * size : page * size], page, pages)
