"""What every request goes through: a body no larger than its path allows (counted as it arrives),
no file spooled for someone not signed in, and a session that signing out really ends."""

from __future__ import annotations

from tests.web_support import WebEnv


def test_signing_out_ends_the_session_even_for_a_copy_of_its_cookie(web_env: WebEnv) -> None:
    client = web_env.sign_in("c_news")
    copied = client.cookies.get("cuiban_session")
    assert client.get("/units/news").status_code == 200
    assert web_env.post("/sign-out", form_page="/units/news").status_code == 303
    thief = web_env.new_client()
    thief.cookies.set("cuiban_session", copied)
    answer = thief.get("/units/news")
    assert answer.status_code == 303 and answer.headers["location"] == "/sign-in"


def test_a_body_larger_than_its_path_allows_is_refused_as_it_arrives(web_env: WebEnv) -> None:
    client = web_env.new_client()
    declared = client.post("/sign-in", content=b"x" * 70_000,
                           headers={"content-type": "application/x-www-form-urlencoded"})
    assert declared.status_code == 413
    sent = []

    def chunks():  # no Content-Length: chunked, stopped at the limit, not read to the end
        for _ in range(100):
            sent.append(1)
            yield b"x" * 16_384

    form = {"content-type": "application/x-www-form-urlencoded"}
    chunked = client.post("/sign-in", content=chunks(), headers=form)
    assert chunked.status_code == 413
    assert "default-src 'self'" in chunked.headers["content-security-policy"]


def test_an_upload_is_not_read_for_someone_not_signed_in(web_env: WebEnv) -> None:
    client = web_env.new_client()
    token = web_env.csrf(client)
    answer = client.post("/uploads/roster", data={"csrf": token}, files={"file": ("r.csv", b"a,b\n1,2\n")})
    assert answer.status_code == 403
    assert not web_env.context.staging.exists() or not any(web_env.context.staging.iterdir())


def test_the_limits_by_path() -> None:
    from cuiban.web.app import FORM_BODY, body_limit

    assert body_limit("/sign-in") == FORM_BODY == 64 * 1024
    assert body_limit("/uploads/roster") > 200 * 2**20 > body_limit("/units/news/tasks/x/done") > 10 * 2**20
    assert body_limit("/uploads/roster/../../x") == FORM_BODY
    assert 2**20 < body_limit("/plan-diff") < 2 * 2**20


def test_a_refusal_of_a_path_with_control_characters_is_logged_readably(web_env: WebEnv) -> None:
    from cuiban.services.access import refusals

    client = web_env.sign_in("c_news")
    assert client.get("/units/basics%00x").status_code in (403, 404)
    logged = [r["path"] for r in refusals(web_env.engine)]
    assert all("\x00" not in path for path in logged)
