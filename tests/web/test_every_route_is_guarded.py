"""Every page and form outside sign-in is guarded: walked from the routers themselves, so a route
added later is covered without anyone remembering to add it here.

- nobody signed in: a GET or a POST (with a valid CSRF token) is sent to sign-in, nothing done;
- signed in as a collector of another unit (c_basics) on the `news` unit's paths, or on the
  whole campaign's: 403 and an access-log row — except the pages a collector may open for their
  own work, which are listed in ALLOWED_TO_A_COLLECTOR.
"""

from __future__ import annotations

import re

import pytest

from cuiban.services.access import refusals
from cuiban.web.routes import ROUTERS
from tests.web_support import WebEnv

PUBLIC = {"/", "/sign-in", "/sign-in/link", "/sign-out"}
VALUES = {
    "unit_id": "news",
    "milestone": "dept_filling",
    "staff_id": "010001",
    "evidence_id": "1",
    "message_id": "1",
    "upload_id": "0" * 32,
    "decision": "approve",
    "subject": "dept-audit",
}
ALLOWED_TO_A_COLLECTOR: set[tuple[str, str]] = set()
"""(method, path) a collector of another unit may reach (none: everything else is the coordinator's)."""

ROUTES = sorted(
    (method, route.path)
    for router in ROUTERS
    for route in router.routes
    for method in route.methods
    if route.path not in PUBLIC
)


def _url(path: str) -> str:
    url = re.sub(r"\{(\w+)\}", lambda m: VALUES[m.group(1)], path)
    return url + ("?unit=news&format=xlsx" if path == "/reports/{subject}" else "")


def test_the_walk_finds_the_routes() -> None:
    assert len(ROUTES) >= 20
    assert all(re.sub(r"\{(\w+)\}", "", p).count("{") == 0 for _, p in ROUTES)


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_nobody_signed_in_is_sent_to_sign_in(web_env: WebEnv, method: str, path: str) -> None:
    client = web_env.new_client()
    token = web_env.csrf(client)
    answer = client.request(method, _url(path), data={"csrf": token} if method == "POST" else None)
    assert answer.status_code == 303 and answer.headers["location"] == "/sign-in", answer.text[:300]


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_another_units_collector_is_refused_and_logged(web_env: WebEnv, method: str, path: str) -> None:
    if (method, path) in ALLOWED_TO_A_COLLECTOR:
        pytest.skip("a collector's own page")
    client = web_env.sign_in("c_basics")
    token = web_env.csrf(client, "/units/basics")
    before = len(refusals(web_env.engine))
    answer = client.request(method, _url(path), data={"csrf": token} if method == "POST" else None)
    assert answer.status_code == 403, f"{method} {_url(path)} answered {answer.status_code}"
    assert len(refusals(web_env.engine)) == before + 1


PAGES = sorted({path for method, path in ROUTES if method == "GET" and "{" not in path})


def test_every_page_the_coordinator_opens_has_a_plain_title(web_env: WebEnv) -> None:
    """A page's <title> is words, never markup a template block swallowed by mistake."""
    client = web_env.sign_in("cheng_xing")
    for path in PAGES:
        answer = client.get(path)
        if "text/html" not in answer.headers.get("content-type", ""):
            continue
        assert answer.status_code == 200, f"{path}: {answer.status_code}"
        title = re.search(r"<title>(.*?)</title>", answer.text, re.S)
        assert title and "<" not in title.group(1), f"{path}: {title.group(1)[:80] if title else None}"
