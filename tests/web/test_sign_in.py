"""Sign-in by emailed link, and the protections every page has (acceptance 3 of the web issue)."""

from __future__ import annotations

from sqlalchemy import text
from starlette.testclient import TestClient

from cuiban.web.session import safe_next
from tests.web_support import WebEnv, link_in


def _ask(env: WebEnv, email: str, client=None):  # type: ignore[no-untyped-def]
    client = client or env.client
    return client.post("/sign-in", data={"email": email, "csrf": env.csrf(client)})


def _use(env: WebEnv, link: str, client=None):  # type: ignore[no-untyped-def]
    client = client or env.client
    path = link.removeprefix("http://testserver")
    client.get(path)
    token = path.split("token=", 1)[1]
    return client.post("/sign-in/link", data={"token": token, "csrf": env.csrf(client, path)})


def test_a_link_goes_out_as_mail_and_signs_in_once(web_env: WebEnv) -> None:
    answer = _ask(web_env, "c.news@hebcm.example")
    assert answer.status_code == 200
    mails = [m for m in web_env.mails() if m.name.endswith("sign_in.eml")]
    assert len(mails) == 1
    link = link_in(mails[0])
    shown = web_env.new_client().get(link.removeprefix("http://testserver"))
    assert shown.status_code == 200 and "您将以 王晓燕 的身份登录" in shown.text  # looking does not use it
    first = _use(web_env, link)
    assert first.status_code == 303 and first.headers["location"] == "/"
    assert web_env.client.get("/").headers["location"] == "/units/news"
    again = _use(web_env, link, web_env.new_client())
    assert again.status_code == 400 and "已经使用过、已过期或无效" in again.text


def test_a_link_expires_after_15_minutes(web_env: WebEnv) -> None:
    _ask(web_env, "c.news@hebcm.example")
    link = link_in(web_env.mails()[-1])
    web_env.clock.move(minutes=15, seconds=1)
    assert _use(web_env, link).status_code == 400


def test_only_the_hash_of_a_link_is_stored(web_env: WebEnv) -> None:
    _ask(web_env, "c.news@hebcm.example")
    token = link_in(web_env.mails()[-1]).split("token=", 1)[1]
    with web_env.engine.connect() as connection:
        stored = connection.execute(text("SELECT token_hash FROM sign_in_link")).scalars().all()
    assert stored and token not in stored and all(len(h) == 64 for h in stored)


def test_the_answer_is_the_same_for_known_and_unknown_addresses(web_env: WebEnv) -> None:
    known = _ask(web_env, "c.news@hebcm.example", web_env.new_client())
    unknown = _ask(web_env, "nobody@hebcm.example", web_env.new_client())
    assert known.status_code == unknown.status_code == 200
    assert known.text.replace("c.news@hebcm.example", "X").split('name="csrf"')[0] == unknown.text.replace(
        "nobody@hebcm.example", "X"
    ).split('name="csrf"')[0]
    assert set(known.headers) == set(unknown.headers)
    assert len([m for m in web_env.mails() if "sign_in" in m.name]) == 1


def test_requests_are_limited_per_address_and_per_client(web_env: WebEnv) -> None:
    codes = [_ask(web_env, "c.news@hebcm.example", web_env.new_client()).status_code for _ in range(6)]
    assert codes == [200] * 5 + [429]
    unknown = [_ask(web_env, "ghost@hebcm.example", web_env.new_client()).status_code for _ in range(6)]
    assert unknown == [200] * 5 + [429]  # the limit behaves the same for an unknown address
    client = web_env.new_client()
    per_client = [_ask(web_env, f"p{i}@hebcm.example", client).status_code for i in range(12)]
    assert per_client == [200] * 10 + [429] * 2  # 20 a quarter from one client; 10 counted already
    assert len([m for m in web_env.mails() if "sign_in" in m.name]) == 5
    web_env.clock.move(minutes=16)
    assert _ask(web_env, "c.news@hebcm.example", web_env.new_client()).status_code == 200


def test_a_post_without_the_csrf_token_is_refused(web_env: WebEnv) -> None:
    client = web_env.sign_in("cheng_xing")
    assert client.post("/sign-out").status_code == 403
    assert client.post("/sign-out", data={"csrf": "0" * 64}).status_code == 403
    assert client.get("/").status_code == 303 and client.get("/").headers["location"] == "/dashboard"
    assert web_env.post("/sign-out").status_code == 303


def test_the_session_is_rotated_at_sign_in_and_the_old_token_is_worthless(web_env: WebEnv) -> None:
    before = web_env.csrf()
    old_cookie = web_env.client.cookies.get("cuiban_session")
    web_env.sign_in("cheng_xing")
    assert web_env.client.cookies.get("cuiban_session") != old_cookie
    assert web_env.client.post("/sign-out", data={"csrf": before}).status_code == 403


def test_after_sign_in_the_page_asked_for_is_shown_and_nothing_else(web_env: WebEnv) -> None:
    client = web_env.new_client()
    assert client.get("/units/news?tab=tasks").headers["location"] == "/sign-in"
    web_env.sign_in("c_news", client)
    assert web_env.last_sign_in.headers["location"] == "/units/news?tab=tasks"
    for sneaky in ("//evil.example/x", "/\\evil.example", "https://evil.example/"):
        assert safe_next(sneaky) is None
    assert safe_next("/units/news") == "/units/news"


def test_the_cookie_is_httponly_samesite_and_secure_over_https(web_env: WebEnv) -> None:
    cookie = web_env.client.get("/sign-in").headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    over_https = TestClient(web_env.client.app, base_url="https://testserver")  # as behind a TLS proxy
    assert "Secure" in over_https.get("/sign-in").headers["set-cookie"]


def test_every_answer_carries_the_security_headers(web_env: WebEnv) -> None:
    for path in ("/sign-in", "/nowhere", "/static/style.css"):
        headers = web_env.client.get(path).headers
        assert "default-src 'self'" in headers["content-security-policy"]
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
