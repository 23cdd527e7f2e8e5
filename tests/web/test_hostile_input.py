"""Hostile input: ids no record can have (past 64 bits, NUL, another script's digits, 2,000 characters)
are answered with a 4xx page or a flash, never a 500; a teacher named like a script is shown as text."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from cuiban.services import teachers
from tests.web.conftest import NOW
from tests.web_support import WebEnv

HUGE = "9" * 25
LONG = "1" * 2000
SCRIPT = "<script>alert(1)</script>"
ODD_IDS = (HUGE, "0", "-1", "%00", "%D9%A3", "1%00", "%EF%BC%91", "1e3", " 1")
"""A 25-digit id, zero, negative, NUL, Arabic-Indic 3, NUL after a digit, a full-width 1, 1e3, a space."""


def _sql(env: WebEnv, statement: str, **values: object) -> None:
    with env.engine.begin() as connection:
        connection.execute(text(statement), values)


@pytest.mark.parametrize("odd", ODD_IDS)
def test_an_impossible_message_or_evidence_id_is_not_found(web_env: WebEnv, odd: str) -> None:
    coordinator = web_env.sign_in("cheng_xing")
    for path in (f"/outbox/{odd}", f"/evidence/{odd}"):
        answer = coordinator.get(path)
        assert answer.status_code == 404, (path, answer.status_code)
        assert "Traceback" not in answer.text
    collector = web_env.sign_in("c_news", web_env.new_client())
    assert collector.get(f"/evidence/{odd}").status_code == 403  # tells a collector nothing


def test_retrying_an_impossible_message_says_so_and_queues_nothing(web_env: WebEnv) -> None:
    with web_env.engine.connect() as connection:
        last = connection.execute(text("SELECT max(id) FROM outbox")).scalar_one()
    _sql(web_env, f"UPDATE outbox SET status = 'failed', sent_at = NULL WHERE id = {last}")
    client = web_env.sign_in("cheng_xing")
    one = str(last)
    for ids, shown in (([HUGE], HUGE), ([one, "0"], "0"), (["x"], "x"), ([one, "99999"], "99999")):
        answer = web_env.post("/outbox/retry", {"ids": ids}, client=client, form_page="/outbox")
        assert answer.status_code == 303 and answer.headers["location"] == "/outbox?status=failed"
        page = client.get(answer.headers["location"]).text
        assert f"没有编号为 {shown} 的邮件，未重发任何邮件" in page, ids
    with web_env.engine.connect() as connection:
        status = connection.execute(text(f"SELECT status FROM outbox WHERE id = {last}")).scalar_one()
        assert status == "failed"
        sent = connection.execute(text("SELECT min(id) FROM outbox WHERE status = 'sent'")).scalar_one()
    answer = web_env.post("/outbox/retry", {"ids": [str(sent)]}, client=client, form_page="/outbox")
    assert "未重发任何邮件" in client.get(answer.headers["location"]).text  # already sent: a flash, not a 400


@pytest.mark.parametrize("odd", (LONG, "%00", "a%00b", "%E2%80%AE001201", "%0D%0A"))
def test_an_impossible_staff_id_is_not_found(web_env: WebEnv, odd: str) -> None:
    coordinator = web_env.sign_in("cheng_xing")
    assert coordinator.get(f"/teachers/{odd}").status_code == 404
    collector = web_env.sign_in("c_news", web_env.new_client())
    assert collector.get(f"/teachers/{odd}").status_code == 403
    form = collector.get(f"/units/news/teachers/{odd}/correction")
    assert form.status_code == 303 and form.headers["location"] == "/units/news"
    answer = web_env.post(f"/corrections/{odd}/approve", {"request": "1"}, client=coordinator,
                          form_page="/corrections")
    assert answer.status_code == 303 and answer.headers["location"] == "/corrections"


def test_impossible_units_tasks_reports_and_uploads_are_refused_in_words(web_env: WebEnv) -> None:
    coordinator = web_env.sign_in("cheng_xing")
    for path in ("/units/%00", f"/units/{LONG}", "/reports/dept-audit?unit=%00", f"/reports/{LONG}",
                 "/reports/dept-audit?unit=news&format=%0D%0A", f"/uploads/{HUGE}", "/uploads/%00"):
        answer = coordinator.get(path)
        assert 400 <= answer.status_code < 500, (path, answer.status_code)
    collector = web_env.sign_in("c_basics", web_env.new_client())
    assert collector.get("/reports/dept-audit?unit=%00").status_code == 403
    answer = web_env.post("/units/basics/tasks/%00/done", {}, client=collector, form_page="/units/basics")
    assert answer.status_code == 303 and "没有这项任务" in collector.get("/units/basics").text


def test_a_teacher_named_like_a_script_is_shown_as_text(web_env: WebEnv) -> None:
    """000102 is not yet there (the unit page lists it); 000101 is reported and asks for a correction
    whose new name is a script too (the corrections page)."""
    _sql(web_env, "UPDATE teacher SET name = :n WHERE staff_id IN ('000101', '000102')", n=SCRIPT)
    _sql(web_env, "UPDATE teacher SET state = 'submitted' WHERE staff_id = '000102'")
    for event in ("confirm", "report"):
        teachers.fire(web_env.engine, web_env.plan, "000101", event, NOW.subtract(hours=1), actor="程兴")
    collector = web_env.sign_in("c_news")
    web_env.post("/units/news/teachers/000101/correction", {"new_name": SCRIPT + "2", "note": SCRIPT},
                 client=collector, form_page="/units/news")
    coordinator = web_env.sign_in("cheng_xing", web_env.new_client())
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    pages = {
        "search": coordinator.get("/teachers", params={"q": "000102"}).text,
        "teacher": coordinator.get("/teachers/000102").text,
        "unit": collector.get("/units/news").text,
        "corrections": coordinator.get("/corrections").text,
        "dashboard": coordinator.get("/dashboard").text,
    }
    for name, html in pages.items():
        assert "<script" not in html, name
    for name in ("search", "teacher", "unit", "corrections"):
        assert escaped in pages[name], name
