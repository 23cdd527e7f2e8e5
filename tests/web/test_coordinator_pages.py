"""The coordinator's pages: the dashboard (the digest live), its chart, the timeline, teacher search and
a teacher's page, the outbox; who may open them, and that no page shows an ID-card or phone number."""

from __future__ import annotations

import json
import re
from xml.etree import ElementTree

from sqlalchemy import text

from cuiban.services import dashboard, outbox_admin
from cuiban.services.access import refusals
from cuiban.services.digest_preview import preview
from tests.web_support import WebEnv

COORDINATOR_PAGES = (
    "/dashboard",
    "/dashboard/chart.svg",
    "/timeline",
    "/teachers?q=0012",
    "/outbox",
    "/outbox/1",
)


def _cells(html: str, unit: str) -> list[str]:
    """The text of each cell of the dashboard's row for `unit`."""
    row = re.search(rf'<tr data-unit="{unit}">(.*?)</tr>', html, re.S)
    assert row, f"no row for {unit}"
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
    ]


def _change(n: int) -> str:
    return f"{n:+d}" if n else "±0"


def _sql(env: WebEnv, statement: str, **values: object) -> None:
    with env.engine.begin() as connection:
        connection.execute(text(statement), values)


def test_the_dashboard_says_what_the_digest_says_at_the_same_moment(web_env: WebEnv) -> None:
    # one more basics teacher has submitted since the last digest: the change shows as +1
    _sql(web_env, "UPDATE teacher SET state = 'submitted' WHERE staff_id = '001201'")
    ctx, now = web_env.context, web_env.clock()
    digest = preview(ctx.engine, ctx.plan, ctx.calendar, ctx.renderer, now).data
    board = dashboard.dashboard(ctx.engine, ctx.plan, ctx.calendar, now)
    assert board.data == digest
    assert (board.totals.teachers, board.totals.filled, board.totals.reviewed) == (
        digest["totals"]["teachers"],
        digest["totals"]["filled"],
        digest["totals"]["reviewed"],
    )
    basics = next(u for u in digest["units"] if u["unit_id"] == "basics")
    assert basics["filled_change"] == 1 and board.totals.filled_change == 1

    html = web_env.sign_in("li_jinyun").get("/dashboard").text
    for unit in digest["units"]:
        cells = _cells(html, unit["unit_id"])
        assert cells == [
            unit["name"],
            str(unit["teachers"]),
            f"{unit['filled']} ({_change(unit['filled_change'])})",
            str(unit["not_filled"]),
            f"{unit['reviewed']} ({_change(unit['reviewed_change'])})",
            str(unit["not_reviewed"]),
            f"{unit['filled_percent']}%",
        ]
        assert f'<a href="/units/{unit["unit_id"]}">' in html
    assert '<span class="up">+1</span>' in html
    overdue = digest["overdue"]
    assert overdue and f"逾期任务（{len(overdue)}）" in html
    assert all(t["unit_name"] in html for t in overdue) and "第 1 级" in html


def test_the_chart_is_svg_with_the_departments_named_in_text(web_env: WebEnv) -> None:
    client = web_env.sign_in("cheng_xing")
    assert '<img class="chart" src="/dashboard/chart.svg"' in client.get("/dashboard").text
    answer = client.get("/dashboard/chart.svg")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("image/svg+xml")
    svg = ElementTree.fromstring(answer.text)
    words = " ".join(t.text or "" for t in svg.iter("{http://www.w3.org/2000/svg}text"))
    for uid in web_env.plan.departments():
        assert web_env.plan.units[uid].name in words
    assert "各部门教师信息录入进度" in words and "style=" not in answer.text


def test_the_timeline_shows_every_milestone_with_its_tasks(web_env: WebEnv) -> None:
    html = web_env.sign_in("ren_biao").get("/timeline").text
    for milestone in web_env.plan.milestones.values():
        assert milestone.title in html
    assert "每月 1 日（2016-10-01 至 2016-12-30）" in html
    assert "「提供全校符合填报要求的教职工数据」完成后 3 天内" in html and "本次截止 2016-12-01" in html
    assert "日期待通知" in html
    filling = re.search(r'<tr id="m-dept_filling">(.*?)</tr>', html, re.S)
    assert filling and "已逾期 3" in filling.group(1) and "第 1 级" in filling.group(1)


def test_a_collector_is_refused_the_coordinators_pages_and_each_refusal_is_logged(web_env: WebEnv) -> None:
    client = web_env.sign_in("c_news")
    for path in COORDINATOR_PAGES:
        assert client.get(path).status_code == 403, path
    logged = refusals(web_env.engine)
    assert {r["path"] for r in logged} >= {p.split("?")[0] for p in COORDINATOR_PAGES}
    assert all(r["person_id"] == "c_news" and r["action"] == "view_all" for r in logged)


def test_the_pages_speak_english_when_the_plan_does(web_env: WebEnv) -> None:
    web_env.context.plan = web_env.plan.model_copy(update={"language": "en"})
    client = web_env.sign_in("cheng_xing")
    board = client.get("/dashboard").text
    assert "Departments (as on 附表6)" in board and "Not reviewed" in board and "Overdue tasks (3)" in board
    assert "总览" not in board and "较上次日报" not in board
    timeline = client.get("/timeline").text
    assert "monthly on day 1 (2016-10-01 to 2016-12-30)" in timeline and "overdue 3" in timeline
    assert "日期待通知" not in timeline
    teacher = client.get("/teachers/001201").text
    assert "Staff ID" in teacher and "imported from the roster" in teacher and "not started" in teacher
    assert "Only the first 50" in client.get("/teachers", params={"q": "0"}).text
    outbox = client.get("/outbox").text
    with web_env.engine.connect() as connection:
        messages = connection.execute(text("SELECT count(*) FROM outbox")).scalar_one()
    assert (
        f"The newest {messages} of {messages}." in outbox
        and "digest" in outbox
        and "Retry every failed message" not in outbox
    )


def test_teachers_are_found_by_staff_id_or_name_at_most_fifty_at_a_time(web_env: WebEnv) -> None:
    client = web_env.sign_in("li_jinyun")
    exact = client.get("/teachers", params={"q": "001201"}).text
    assert exact.count('href="/teachers/') == 1 and "杨红" in exact and "公共基础教研室" in exact
    assert "未填报" in exact
    by_prefix = client.get("/teachers", params={"q": "0012"}).text
    assert by_prefix.count('href="/teachers/0012') == 25
    by_name = client.get("/teachers", params={"q": "王"}).text
    assert '<a href="/teachers/000107">000107</a>' in by_name and "王霞" in by_name
    every = client.get("/teachers", params={"q": "0"}).text
    assert every.count('href="/teachers/') == 50 and "只列出前 50 人" in every
    assert "没有找到符合“nobody%”的教职工" in client.get("/teachers", params={"q": "nobody%"}).text


def test_a_collector_opens_their_own_teachers_only(web_env: WebEnv) -> None:
    client = web_env.sign_in("c_news")
    page = client.get("/teachers/000101")
    assert page.status_code == 200 and "丁宇超" in page.text and "新闻传播学院" in page.text
    assert client.get("/teachers/001201").status_code == 403
    assert client.get("/teachers/no-such-id").status_code == 403
    assert [r["path"] for r in refusals(web_env.engine)][:2] == ["/teachers/no-such-id", "/teachers/001201"]
    coordinator = web_env.sign_in("cheng_xing", web_env.new_client())
    assert coordinator.get("/teachers/no-such-id").status_code == 404


def test_no_page_shows_an_id_card_or_phone_number(web_env: WebEnv) -> None:
    from cuiban.services.teachers import fire

    id_card, phone, new_phone = "130102198001011234", "13912345678", "13800001111"
    _sql(
        web_env,
        "UPDATE teacher SET id_card = :c, phone = :p, state = 'reported' WHERE staff_id = '000101'",
        c=id_card,
        p=phone,
    )
    ctx, now = web_env.context, web_env.clock()
    fire(
        ctx.engine,
        ctx.plan,
        "000101",
        "request_correction",
        now,
        actor="王晓燕",
        changes={"phone": new_phone, "id_card": "130102198001019999", "title": "副教授"},
    )
    fire(ctx.engine, ctx.plan, "000101", "approve_correction", now.add(minutes=1), actor="程兴")
    client = web_env.sign_in("cheng_xing")
    teacher = client.get("/teachers/000101").text
    assert "申请更正" in teacher and "批准更正" in teacher and "王晓燕" in teacher and "程兴" in teacher
    assert "职称：— → 副教授" in teacher and "电话：（不显示）" in teacher
    pages = [
        teacher,
        *(client.get(p).text for p in ("/teachers?q=000101", "/dashboard", "/timeline", "/outbox")),
    ]
    for html in pages:
        for number in (id_card, phone, new_phone, "130102198001019999"):
            assert number not in html


def _fail(env: WebEnv, *ids: int) -> None:
    for mid in ids:
        _sql(
            env,
            "UPDATE outbox SET status = 'failed', attempts = 5, last_error = '550 mailbox unavailable', "
            "failed_at = sent_at, sent_at = NULL WHERE id = :id",
            id=mid,
        )


def _newest(env: WebEnv, n: int) -> list[int]:
    """The ids of the `n` newest messages, oldest first (the campaign's mail, whatever its count)."""
    with env.engine.connect() as connection:
        query = text("SELECT id FROM outbox ORDER BY id DESC LIMIT :n")
        return sorted(connection.execute(query, {"n": n}).scalars())


def _status(env: WebEnv, mid: int) -> tuple[str, int]:
    with env.engine.connect() as connection:
        row = connection.execute(
            text("SELECT status, attempts FROM outbox WHERE id = :id"), {"id": mid}
        ).one()
    return row[0], row[1]


def test_the_coordinator_retries_a_failed_message(web_env: WebEnv) -> None:
    first, second, last = _newest(web_env, 3)
    _fail(web_env, first, second, last)
    client = web_env.sign_in("cheng_xing")
    failed = client.get("/outbox", params={"status": "failed"}).text
    assert failed.count('<input type="checkbox" name="ids"') == 3 and "550 mailbox unavailable" in failed
    answer = web_env.post("/outbox/retry", {"ids": [str(last)]}, client=client)
    assert answer.status_code == 303 and answer.headers["location"] == "/outbox?status=failed"
    assert "已重新排队 1 封邮件" in client.get(answer.headers["location"]).text
    assert _status(web_env, last) == ("queued", 0) and _status(web_env, second)[0] == "failed"
    answer = web_env.post("/outbox/retry", {"all_failed": "1"}, client=client)
    assert "已重新排队 2 封邮件" in client.get(answer.headers["location"]).text
    assert _status(web_env, first) == _status(web_env, second) == ("queued", 0)


def test_a_leader_sees_the_outbox_but_may_not_retry(web_env: WebEnv) -> None:
    [last] = _newest(web_env, 1)
    _fail(web_env, last)
    client = web_env.sign_in("li_jinyun")
    failed = client.get("/outbox", params={"status": "failed"}).text
    assert "550 mailbox unavailable" in failed and 'action="/outbox/retry"' not in failed
    assert 'action="/outbox/retry"' not in client.get(f"/outbox/{last}").text
    assert web_env.post("/outbox/retry", {"ids": [str(last)]}, client=client).status_code == 403
    assert _status(web_env, last)[0] == "failed"
    assert refusals(web_env.engine)[0]["action"] == "administer"


def test_a_message_is_shown_as_escaped_text_and_a_sign_in_link_not_at_all(web_env: WebEnv) -> None:
    [last] = _newest(web_env, 1)
    _sql(
        web_env,
        f"UPDATE outbox SET body_text = :t, body_html = :h WHERE id = {last}",
        t="请尽快 <b>完成</b>",
        h="<p>HTML part</p><script>alert(1)</script>",
    )
    client = web_env.sign_in("cheng_xing")
    shown = client.get(f"/outbox/{last}").text
    assert "请尽快 &lt;b&gt;完成&lt;/b&gt;" in shown and "HTML part" not in shown and "<script" not in shown
    assert client.get("/outbox/99999").status_code == 404 and client.get("/outbox/x").status_code == 404
    stranger = web_env.new_client()
    stranger.post("/sign-in", data={"email": "c.news@hebcm.example", "csrf": web_env.csrf(stranger)})
    with web_env.engine.connect() as connection:
        link_id = connection.execute(text("SELECT max(id) FROM outbox WHERE kind = 'sign_in'")).scalar_one()
    mail = client.get(f"/outbox/{link_id}").text
    assert "登录链接" in mail and "token=" not in mail and "登录链接邮件的正文不在网页上显示" in mail


def _cli(env: WebEnv, *args: str):  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from cuiban.cli.main import cuiban

    variables = {"CUIBAN_PLAN": str(env.plan_file), "CUIBAN_DB": str(env.engine.url), "CUIBAN_SMTP_HOST": ""}
    return CliRunner().invoke(cuiban, list(args), env=variables, catch_exceptions=False)


def test_the_page_and_the_command_list_the_same_newest_messages_without_bodies(web_env: WebEnv) -> None:
    client = web_env.sign_in("cheng_xing")
    with web_env.engine.connect() as connection:
        counts = dict(connection.execute(text("SELECT status, count(*) FROM outbox GROUP BY status")).all())
        newest = list(connection.execute(text("SELECT id FROM outbox ORDER BY id DESC LIMIT 5")).scalars())
    found = outbox_admin.listing(web_env.engine, web_env.plan.timezone, limit=5)
    assert [m["id"] for m in found.messages] == newest and found.counts == counts
    assert found.more == sum(counts.values()) - 5
    assert not {"body_text", "body_html", "data"} & set(found.messages[0])

    page = client.get("/outbox").text
    listed = [int(i) for i in re.findall(r'<td class="num"><a href="/outbox/(\d+)">', page)]
    assert listed[:5] == newest and len(listed) == min(outbox_admin.LIMIT, sum(counts.values()))
    assert f"最新的 {len(listed)} 封（共 {sum(counts.values())} 封）" in page

    answer = _cli(web_env, "outbox", "list", "--format", "json", "--limit", "3")
    assert answer.exit_code == 0, answer.stderr
    assert [m["id"] for m in json.loads(answer.stdout)] == newest[:3][::-1]  # newest last, as before
    total = sum(counts.values())
    assert f"{total - 3} older message(s) not listed; --limit {total} lists all" in answer.stderr
    table = _cli(web_env, "outbox", "list", "--status", "sent", "--limit", str(counts["sent"]))
    assert table.exit_code == 0 and "not listed" not in table.stderr


def test_a_sign_in_links_text_is_shown_neither_on_the_page_nor_by_the_command(web_env: WebEnv) -> None:
    stranger = web_env.new_client()
    stranger.post("/sign-in", data={"email": "c.news@hebcm.example", "csrf": web_env.csrf(stranger)})
    with web_env.engine.connect() as connection:
        link_id = connection.execute(text("SELECT max(id) FROM outbox WHERE kind = 'sign_in'")).scalar_one()
    summary, body = outbox_admin.message(web_env.engine, web_env.plan.timezone, link_id)
    assert summary["kind"] == "sign_in" and body is None
    shown = _cli(web_env, "outbox", "show", str(link_id))
    assert shown.exit_code == 0 and "token=" not in shown.stdout and "is not shown" in shown.stdout
    assert "token=" not in web_env.sign_in("cheng_xing").get(f"/outbox/{link_id}").text


def test_a_moment_reads_the_same_on_every_page(web_env: WebEnv) -> None:
    from datetime import UTC, datetime

    from cuiban.web.responses import moment

    tz = web_env.plan.timezone
    assert moment(datetime(2016, 12, 16, 2, tzinfo=UTC), tz) == "2016-12-16 10:00"
    assert moment("2016-12-16T10:00:00+08:00", tz) == moment("2016-12-16T02:00:00+00:00", tz)
    assert moment("2016-12-16T02:00:00+00:00", tz) == "2016-12-16 10:00"
    assert moment(None, tz) == moment("", tz) == ""
    with web_env.engine.connect() as connection:
        last = connection.execute(text("SELECT max(id) FROM outbox")).scalar_one()
        created = connection.execute(text(f"SELECT created_at FROM outbox WHERE id = {last}")).scalar_one()
        query = text("SELECT state_changed_at FROM teacher WHERE staff_id = '000101'")
        changed = connection.execute(query).scalar_one()
    client = web_env.sign_in("cheng_xing")
    stamp = moment(datetime.fromisoformat(str(created)).replace(tzinfo=UTC), tz)
    assert f"<td>{stamp}</td>" in client.get(f"/outbox/{last}").text
    since = moment(datetime.fromisoformat(str(changed)).replace(tzinfo=UTC), tz)
    assert since in client.get("/teachers/000101").text
