"""Corrections from the pages: a unit requests, someone else approves or rejects, never one's own.

At 2016-12-16 no teacher has been reported yet, so each test first takes a news teacher there
through the teacher machine (review → confirm → report), an hour before the app's now.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from cuiban.services import corrections, teachers
from cuiban.services.history import history
from tests.web.conftest import NOW
from tests.web_support import WebEnv

STAFF_ID = "000101"
FORM = f"/units/news/teachers/{STAFF_ID}/correction"


def _reported(env: WebEnv, staff_id: str = STAFF_ID) -> None:
    at = NOW.subtract(hours=1)
    for event in ("confirm", "report"):
        teachers.fire(env.engine, env.plan, staff_id, event, at, actor="cheng_xing")


def _teacher(env: WebEnv, staff_id: str = STAFF_ID) -> dict:
    with env.engine.connect() as connection:
        row = connection.execute(text("SELECT * FROM teacher WHERE staff_id = :s"), {"s": staff_id}).first()
    return dict(row._mapping)


def _request(env: WebEnv, title: str = "副教授", note: str = "职称晋升", client=None) -> None:  # type: ignore[no-untyped-def]
    answer = env.post(FORM, {"new_title": title, "new_name": "", "note": note}, form_page=FORM, client=client)
    assert answer.status_code == 303 and answer.headers["location"] == "/units/news"


def _shown_request(client) -> str:  # type: ignore[no-untyped-def]
    """The log entry id of the request the corrections page shows (its approve and reject forms carry it)."""
    (request_id,) = set(re.findall(r'name="request" value="(\d+)"', client.get("/corrections").text))
    return request_id


def _pending_id(env: WebEnv) -> int:
    (pending,) = corrections.pending(env.engine, env.plan)
    return pending.request_id


def test_a_collector_requests_and_the_coordinator_approves(web_env: WebEnv) -> None:
    _reported(web_env)
    old = _teacher(web_env)["title"]
    client = web_env.sign_in("c_news")
    form = client.get(FORM)
    assert form.status_code == 200 and 'name="new_title"' in form.text
    assert 'name="new_id_card"' not in form.text and 'name="new_phone"' not in form.text
    _request(web_env)
    assert "已提交" in client.get("/units/news").text
    assert _teacher(web_env)["state"] == "correction_requested"
    assert client.get("/corrections").status_code == 403  # the list is the coordinator's office's

    coordinator = web_env.sign_in("cheng_xing", web_env.new_client())
    listed = coordinator.get("/corrections").text
    assert STAFF_ID in listed and "王晓燕" in listed and "副教授" in listed and "职称晋升" in listed
    decision = {"note": "同意", "request": _shown_request(coordinator)}
    answer = web_env.post(f"/corrections/{STAFF_ID}/approve", decision, client=coordinator,
                          form_page="/corrections")
    assert answer.status_code == 303 and answer.headers["location"] == "/corrections"
    assert "已批准" in coordinator.get("/corrections").text
    row = _teacher(web_env)
    assert (row["state"], row["title"]) == ("reported", "副教授")
    request, approval = history(web_env.engine, STAFF_ID)[-2:]
    assert (request["event"], request["actor"], request["source"]) == ("request_correction", "c_news", "web")
    assert (approval["event"], approval["actor"]) == ("approve_correction", "cheng_xing")
    assert approval["source"] == "web"
    assert approval["data"] == {"title": [old, "副教授"]}  # the old value stays in the log
    assert STAFF_ID not in coordinator.get("/corrections").text


def test_a_rejected_request_changes_nothing(web_env: WebEnv) -> None:
    _reported(web_env)
    old = _teacher(web_env)["title"]
    web_env.sign_in("c_news")
    _request(web_env)
    coordinator = web_env.sign_in("chen_lan", web_env.new_client())
    decision = {"note": "证明不足", "request": _shown_request(coordinator)}
    web_env.post(f"/corrections/{STAFF_ID}/reject", decision, client=coordinator, form_page="/corrections")
    assert "已驳回" in coordinator.get("/corrections").text
    row = _teacher(web_env)
    assert (row["state"], row["title"]) == ("reported", old)
    last = history(web_env.engine, STAFF_ID)[-1]
    assert (last["event"], last["actor"], last["note"]) == ("reject_correction", "chen_lan", "证明不足")


def test_nobody_decides_their_own_request(web_env: WebEnv) -> None:
    _reported(web_env)
    client = web_env.sign_in("cheng_xing")  # the coordinator may act for any unit, and requests
    _request(web_env)
    page = client.get("/corrections").text
    assert "本人提交" in page and f'action="/corrections/{STAFF_ID}/approve"' not in page
    for decision in ("approve", "reject"):
        web_env.post(f"/corrections/{STAFF_ID}/{decision}", {"request": str(_pending_id(web_env))},
                     form_page="/corrections")
        assert "不能审批自己提交的更正申请" in client.get("/corrections").text
    assert _teacher(web_env)["state"] == "correction_requested"


def test_the_service_refuses_ones_own_decision(web_env: WebEnv) -> None:
    _reported(web_env)
    corrections.request(web_env.engine, web_env.plan, "news", STAFF_ID, {"title": "教授"}, NOW,
                        actor="c_news", note="晋升")
    request_id = _pending_id(web_env)
    for approve in (True, False):
        with pytest.raises(teachers.OwnRequest, match="may not also decide it"):
            corrections.decide(web_env.engine, web_env.plan, STAFF_ID, approve, NOW, actor="c_news",
                               request_id=request_id)
    with pytest.raises(teachers.OwnRequest):
        teachers.fire(web_env.engine, web_env.plan, STAFF_ID, "approve_correction", NOW, actor="c_news")
    corrections.decide(web_env.engine, web_env.plan, STAFF_ID, True, NOW, actor="cheng_xing",
                       request_id=request_id)
    assert _teacher(web_env)["title"] == "教授"


def test_only_a_reported_record_can_have_a_correction_requested(web_env: WebEnv) -> None:
    client = web_env.sign_in("c_news")
    assert "只有已上报的信息才能申请更正" in client.get(FORM).text  # the form says so, and offers nothing
    web_env.post(FORM, {"new_title": "教授"}, form_page="/units/news")
    assert "只有已上报的信息才能申请更正" in client.get("/units/news").text
    assert _teacher(web_env)["state"] == "reviewed"


def test_a_request_is_for_ones_own_units_teachers_with_values_the_roster_accepts(web_env: WebEnv) -> None:
    _reported(web_env)
    client = web_env.sign_in("c_news")
    query = text("SELECT staff_id FROM teacher WHERE unit_id = 'basics'")
    with web_env.engine.connect() as connection:
        elsewhere = connection.execute(query).first()[0]
    web_env.post(f"/units/news/teachers/{elsewhere}/correction", {"new_title": "教授"}, form_page=FORM)
    assert "本单位没有工号为" in client.get("/units/news").text
    assert client.get(f"/units/basics/teachers/{elsewhere}/correction").status_code == 403
    web_env.post(FORM, {"new_gender": "未知"}, form_page=FORM)
    assert "性别" in client.get(FORM).text
    web_env.post(FORM, {"new_title": "  "}, form_page=FORM)
    assert "没有填写任何新内容" in client.get(FORM).text
    web_env.post(FORM, {"new_id_card": "110101199003070000", "new_title": "教授"}, form_page=FORM)
    assert _teacher(web_env)["state"] == "correction_requested"  # a field the form does not offer is ignored
    assert history(web_env.engine, STAFF_ID)[-1]["data"] == {"title": [_teacher(web_env)["title"], "教授"]}


def test_the_unit_page_sends_a_staff_id_to_its_form(web_env: WebEnv) -> None:
    client = web_env.sign_in("c_news")
    answer = client.get(f"/units/news/correction?staff_id={STAFF_ID}")
    assert answer.status_code == 303 and answer.headers["location"] == FORM
    assert web_env.sign_in("li_jinyun", web_env.new_client()).get(FORM).status_code == 403


def test_a_decision_applies_to_the_request_the_page_showed_and_no_later_one(web_env: WebEnv) -> None:
    """Request, open the page (its id), reject; request again with other values; approving with the old
    id is refused and changes nothing, the reloaded page's id approves the new values."""
    _reported(web_env)
    old_title = _teacher(web_env)["title"]
    collector = web_env.sign_in("c_news")
    _request(web_env, title="副教授", client=collector)
    coordinator = web_env.sign_in("cheng_xing", web_env.new_client())
    seen = _shown_request(coordinator)
    rejected = web_env.post(f"/corrections/{STAFF_ID}/reject", {"request": seen}, client=coordinator,
                            form_page="/corrections")
    assert rejected.status_code == 303 and "已驳回" in coordinator.get("/corrections").text
    _request(web_env, title="教授", client=collector)
    stale = web_env.post(f"/corrections/{STAFF_ID}/approve", {"request": seen}, client=coordinator,
                         form_page="/corrections")
    assert stale.status_code == 303 and stale.headers["location"] == "/corrections"
    page = coordinator.get("/corrections").text
    assert "在您打开页面之后有了变化" in page and "未作任何更改" in page
    row = _teacher(web_env)
    assert (row["state"], row["title"]) == ("correction_requested", old_title)
    with pytest.raises(teachers.ChangedRequest, match="the request changed since you opened the page; rel"):
        corrections.decide(web_env.engine, web_env.plan, STAFF_ID, True, NOW, actor="cheng_xing",
                           request_id=int(seen))
    for missing in ({}, {"request": "x"}, {"request": "9" * 30}):  # a form without its request: refused too
        web_env.post(f"/corrections/{STAFF_ID}/approve", missing, client=coordinator,
                     form_page="/corrections")
        assert "在您打开页面之后有了变化" in coordinator.get("/corrections").text
    assert _teacher(web_env)["state"] == "correction_requested"
    fresh = _shown_request(coordinator)
    assert fresh != seen
    web_env.post(f"/corrections/{STAFF_ID}/approve", {"request": fresh}, client=coordinator,
                 form_page="/corrections")
    assert (_teacher(web_env)["state"], _teacher(web_env)["title"]) == ("reported", "教授")


def test_a_bad_new_value_is_refused_in_the_plan_s_language(web_env: WebEnv) -> None:
    """The roster's own reason for the value, said in Chinese on the page (issue 14: errors in Chinese)."""
    _reported(web_env)
    client = web_env.sign_in("c_news")
    answer = web_env.post(FORM, {"new_email": "not-an-address", "note": ""}, form_page=FORM, client=client)
    assert answer.status_code == 303
    page = client.get(answer.headers["location"]).text
    assert "不是有效的电子邮箱地址" in page and "not an email address" not in page
    assert _teacher(web_env)["state"] == "reported"
