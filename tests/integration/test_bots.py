"""企业微信 and 钉钉 group bots against a real HTTP server on 127.0.0.1 that stands in for both platforms.

The server checks what each platform checks — the JSON shape, the size limit, 钉钉's signature
(recomputed from the secret) — records every post with the campaign moment it arrived at, and
answers as a test scripts it: OK, a rate limit (45009, 130101), HTTP 500, an invalid webhook.
Campaign time is a fake clock (`dispatch(..., now=clock, sleep=clock.sleep)`), so the pacing of a
burst and the pauses run in a fraction of a second, with every moment exact.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pendulum
import pytest

from cuiban.cli.bootstrap import Application
from cuiban.cli.settings import Settings
from cuiban.models import outbox_store
from cuiban.notifications.bots import (
    DINGTALK_BODY_BYTES,
    WECOM_CONTENT_BYTES,
    BotTarget,
    BotTransport,
    markdown,
)
from cuiban.notifications.render import Renderer
from cuiban.notifications.transports import FileTransport
from cuiban.services.dispatch import BOT_TURN, bot_pause, dispatch
from cuiban.services.roster_import import import_roster
from cuiban.services.tick_and_send import tick_and_send
from tests.conftest import MINIMAL_PLAN
from tests.delivery_support import Clock, free_port, local, outbox_rows, queue_messages
from tests.factories import roster, write_csv

WECOM_KEY = "wk-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
DINGTALK_TOKEN = "dt-9c8b7a6f5e4d3c2b1a09f8e7d6c5b4a3"
DINGTALK_SECRET = "SECd1ngta1k-s1gn1ng-s3cret-0123456789abcdef"
OTHER_KEY = "wk-other-group-key-77777777"
SECRETS = (WECOM_KEY, DINGTALK_TOKEN, DINGTALK_SECRET, OTHER_KEY)


# ── the platforms' stand-in ──


@dataclass
class Post:
    bot: str
    """`wecom:<key>` or `dingtalk:<access_token>`: which webhook was posted to."""
    at: datetime
    payload: dict[str, Any]
    accepted: bool


@dataclass
class Platforms:
    """Both webhooks on one server. `script[bot]`: the answers to give that bot's next posts, in
    order (then errcode 0)."""

    clock: Callable[[], datetime]
    script: dict[str, list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)
    posts: list[Post] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, path: str, query: dict[str, list[str]], raw: bytes) -> tuple[int, dict[str, Any]]:
        try:
            payload = json.loads(raw.decode("utf-8"))
        except ValueError:
            self.problems.append(f"not JSON: {raw[:80]!r}")
            return 200, {"errcode": 40035, "errmsg": "invalid json"}
        if path == "/cgi-bin/webhook/send":
            bot = f"wecom:{query['key'][0]}"
            problem = _wecom_problem(payload)
        elif path == "/robot/send":
            bot = f"dingtalk:{query['access_token'][0]}"
            problem = _dingtalk_problem(payload, raw, query)
        else:
            return 404, {"errcode": 404, "errmsg": "no such path"}
        if problem:
            self.problems.append(f"{bot}: {problem}")
            return 200, {"errcode": 40035 if "sign" not in problem else 310000, "errmsg": problem}
        with self.lock:
            scripted = self.script.get(bot) or []
            status, body = scripted.pop(0) if scripted else (200, {"errcode": 0, "errmsg": "ok"})
            accepted = status == 200 and body.get("errcode") == 0
            self.posts.append(Post(bot, self.clock(), payload, accepted))
        return status, body

    def accepted(self, bot: str | None = None) -> list[Post]:
        return [p for p in self.posts if p.accepted and (bot is None or p.bot == bot)]


def _wecom_problem(payload: dict[str, Any]) -> str | None:
    if set(payload) != {"msgtype", "markdown"} or payload["msgtype"] != "markdown":
        return f"not a markdown message: {sorted(payload)}"
    content = payload["markdown"].get("content")
    if set(payload["markdown"]) != {"content"} or not isinstance(content, str) or not content:
        return "markdown.content missing"
    if len(content.encode("utf-8")) > WECOM_CONTENT_BYTES:
        return "markdown.content exceed max length 4096"
    return None


def _dingtalk_problem(payload: dict[str, Any], raw: bytes, query: dict[str, list[str]]) -> str | None:
    timestamp, sign = query.get("timestamp", [""])[0], query.get("sign", [""])[0]
    string_to_sign = f"{timestamp}\n{DINGTALK_SECRET}".encode()
    expected = base64.b64encode(hmac.new(DINGTALK_SECRET.encode(), string_to_sign, hashlib.sha256).digest())
    if not timestamp.isdigit() or sign != expected.decode():
        return "sign not match"
    if set(payload) != {"msgtype", "markdown"} or payload["msgtype"] != "markdown":
        return f"not a markdown message: {sorted(payload)}"
    text, title = payload["markdown"].get("text"), payload["markdown"].get("title")
    if set(payload["markdown"]) != {"title", "text"} or not (isinstance(text, str) and text and title):
        return "markdown.title or text missing"
    if len(raw) > DINGTALK_BODY_BYTES:
        return "message too long, exceed 20000 bytes"
    return None


@contextmanager
def serving(platforms: Platforms) -> Iterator[int]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            parts = urlsplit(self.path)
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, body = platforms.answer(parts.path, parse_qs(parts.query), raw)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def wecom(port: int, key: str = WECOM_KEY) -> BotTransport:
    return BotTransport("wecom", BotTarget(f"http://127.0.0.1:{port}/cgi-bin/webhook/send?key={key}"))


def dingtalk(port: int) -> BotTransport:
    url = f"http://127.0.0.1:{port}/robot/send?access_token={DINGTALK_TOKEN}"
    return BotTransport("dingtalk", BotTarget(url, DINGTALK_SECRET))


def bot_message(n: int, bot: str, due_at: datetime | None = None) -> dict[str, Any]:
    """A bot's message as a tick queues it."""
    platform = bot.partition(":")[0]
    context = {
        "task": {
            "title": "填报",
            "unit_name": "乙学院" if bot.endswith("dept_b") else "甲学院",
            "due": "2016-12-15 23:59",
            "overdue": False,
            "overdue_days": 0,
            "working_days_left": 3,
            "deliverable": "填报完成",
            "owners": "甲采集",
            "next_step": "请督促本单位教职工登录系统填报",
        },
        "teachers": [{"staff_id": f"{n:06d}", "name": "王伟", "state": "未填报"}],
        "more": 0,
        "counts": None,
        "link": None,
    }
    title, text = markdown(platform, context)
    return {
        "key": f"bot|{bot}|filling|dept_a|{n}",
        "kind": "bot",
        "task_key": f"filling|dept_a|{n}",
        "unit_id": "dept_a",
        "recipient": bot,
        "recipient_name": "甲学院 群",
        "slot": f"before-{n}",
        "subject": title,
        "body_text": text,
        "body_html": "",
        "due_at": due_at,
    }


def mail(n: int) -> dict[str, Any]:
    return {
        "key": f"reminder|filling|m{n}",
        "kind": "reminder",
        "task_key": "filling|dept_b|0",
        "recipient": f"t{n}@school.example",
        "recipient_name": "某老师",
        "slot": "before-3",
        "subject": f"【催办】填报 {n}",
        "body_text": "请尽快完成填报。",
        "body_html": "<p>请尽快完成填报。</p>",
    }


def most_in_a_minute(moments: list[datetime]) -> int:
    """The most posts in any minute [t, t + 60 s)."""
    moments = sorted(moments)
    return max((sum(1 for m in moments if t <= m < t + timedelta(minutes=1)) for t in moments), default=0)


def no_secret_anywhere(engine) -> None:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        rows = outbox_store.rows(connection)
        pauses = [outbox_store.pause_until(connection, bot_pause(r["recipient"])) for r in rows]
    text = json.dumps([rows, pauses], default=str, ensure_ascii=False)
    for secret in SECRETS:
        assert secret not in text


# ── a campaign: the units' reminders reach their groups once ──


def bot_plan(tmp_path: Path) -> Path:
    text = MINIMAL_PLAN.read_text(encoding="utf-8")
    text = text.replace("collector: c_a}", "collector: c_a, bots: [wecom, dingtalk]}")
    text = text.replace("collector: h_b}", "collector: h_b, bots: [wecom]}")
    path = tmp_path / "plan.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_each_units_reminder_reaches_each_of_its_groups_once_signed(engine, tmp_path: Path) -> None:
    clock = Clock(local(2016, 12, 12, 9))
    platforms = Platforms(clock)
    with serving(platforms) as port:
        environment = {  # the plan names the variables; the application reads them from "the environment"
            "CUIBAN_WECOM_WEBHOOK_DEPT_A": f"http://127.0.0.1:{port}/cgi-bin/webhook/send?key={WECOM_KEY}",
            "CUIBAN_DINGTALK_WEBHOOK_DEPT_A": f"http://127.0.0.1:{port}/robot/send?access_token={DINGTALK_TOKEN}",
            "CUIBAN_DINGTALK_SECRET_DEPT_A": DINGTALK_SECRET,
            "CUIBAN_WECOM_WEBHOOK_DEPT_B": f"http://127.0.0.1:{port}/cgi-bin/webhook/send?key={OTHER_KEY}",
        }
        app = Application(Settings.from_environment(environment))
        app.plan_option = str(bot_plan(tmp_path))
        assert sorted(app.bots) == ["dingtalk:dept_a", "wecom:dept_a", "wecom:dept_b"]
        rows = [[r[0], r[1], r[4], "36"] for r in roster(["甲学院", "乙学院"], 3)]
        write_csv(tmp_path / "r.csv", ["工号", "姓名", "所属部门", "合同期限(月)"], rows)
        import_roster(engine, app.plan, app.calendar, tmp_path / "r.csv", local(2016, 11, 21, 9))
        mailbox = FileTransport(tmp_path / "mail")

        def tick(now: datetime) -> Any:
            clock.now = now
            return tick_and_send(
                engine, app.plan, app.calendar, Renderer("zh"), mailbox, now, delivery=app.delivery()
            )

        first = tick(local(2016, 12, 12, 9))
        again = tick(local(2016, 12, 12, 9, 30))  # later the same day: nothing new, nothing posted again
        later = tick(local(2016, 12, 14, 9))  # the next reminder slot (1 working day before)

    assert platforms.problems == []
    assert (first.tick.queued["bot"], again.tick.queued["bot"], later.tick.queued["bot"]) == (3, 0, 3)
    assert first.sent is not None and first.sent.sent == sum(first.tick.queued.values())  # mail and bots
    by_bot = Counter(p.bot for p in platforms.posts)
    assert by_bot == {f"wecom:{WECOM_KEY}": 2, f"dingtalk:{DINGTALK_TOKEN}": 2, f"wecom:{OTHER_KEY}": 2}
    assert all(p.accepted for p in platforms.posts)
    texts = {
        (p.bot, p.at): p.payload["markdown"].get("content") or p.payload["markdown"]["text"]
        for p in platforms.posts
    }
    dept_a = [t for (bot, _), t in texts.items() if bot != f"wecom:{OTHER_KEY}"]
    dept_b = [t for (bot, _), t in texts.items() if bot == f"wecom:{OTHER_KEY}"]
    staff_a = [r[0] for r in rows[:3]]
    assert all("甲学院" in t and "填报" in t and all(s in t for s in staff_a) for t in dept_a)
    assert all("乙学院" in t and "甲学院" not in t for t in dept_b)
    rows_sent = outbox_rows(engine, kind="bot")
    assert [(r["recipient"], r["slot"], r["status"], r["attempts"]) for r in rows_sent] == [
        ("wecom:dept_a", "before-3", "sent", 0),
        ("dingtalk:dept_a", "before-3", "sent", 0),
        ("wecom:dept_b", "before-3", "sent", 0),
        ("wecom:dept_a", "before-1", "sent", 0),
        ("dingtalk:dept_a", "before-1", "sent", 0),
        ("wecom:dept_b", "before-1", "sent", 0),
    ]
    assert {r["recipient_name"] for r in rows_sent} == {
        "甲学院 企业微信群",
        "甲学院 钉钉群",
        "乙学院 企业微信群",
    }
    no_secret_anywhere(engine)


# ── the rate: a burst waits for its turns ──


def test_45_messages_for_one_group_arrive_never_more_than_20_a_minute_and_mail_goes_on(sqlite_engine) -> None:
    engine = sqlite_engine
    start = local(2016, 12, 12, 9)
    clock = Clock(start)
    platforms = Platforms(clock)
    messages = [bot_message(n, "wecom:dept_a") for n in range(45)] + [
        bot_message(n, "dingtalk:dept_a") for n in range(45)
    ]
    queue_messages(engine, [*messages, *(mail(n) for n in range(10))], start)
    with serving(platforms) as port:
        bots = {"wecom:dept_a": wecom(port), "dingtalk:dept_a": dingtalk(port)}
        report = dispatch(
            engine,
            FileTransport(Path(engine.url.database).parent / "mail"),
            clock,
            sleep=clock.sleep,
            bots=bots,
        )

    assert platforms.problems == []
    assert (report.sent, report.failed, report.paused) == (100, 0, None)
    for bot in (f"wecom:{WECOM_KEY}", f"dingtalk:{DINGTALK_TOKEN}"):
        moments = [p.at for p in platforms.accepted(bot)]
        assert len(moments) == 45  # each once
        assert most_in_a_minute(moments) == 20
        assert min(b - a for a, b in zip(moments, moments[1:], strict=False)) == BOT_TURN
    # the two groups take turns side by side: 45 posts each in 44 turns of 3.1 s, not 89
    assert clock.now - start == 44 * BOT_TURN
    assert Counter(r["status"] for r in outbox_rows(engine)) == {"sent": 100}


def test_the_turns_are_shared_through_the_database_not_one_senders_memory(
    sqlite_engine, tmp_path: Path
) -> None:
    """Two runs one after the other at the same moment: the second waits for the first's turn."""
    start = local(2016, 12, 12, 9)
    clock = Clock(start)
    platforms = Platforms(clock)
    queue_messages(sqlite_engine, [bot_message(1, "wecom:dept_a")], start)
    with serving(platforms) as port:
        bots = {"wecom:dept_a": wecom(port)}
        dispatch(sqlite_engine, FileTransport(tmp_path / "mail"), clock, sleep=clock.sleep, bots=bots)
        queue_messages(sqlite_engine, [bot_message(2, "wecom:dept_a")], start)
        dispatch(sqlite_engine, FileTransport(tmp_path / "mail"), clock, sleep=clock.sleep, bots=bots)
    assert [p.at for p in platforms.accepted()] == [start, start + BOT_TURN]
    assert clock.waits == [BOT_TURN.total_seconds()]


# ── a bot answering errors: retried later, never twice, nobody else held up ──


@pytest.mark.parametrize(
    ("platform", "answer", "paused_for"),
    [
        ("dingtalk", (200, {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}), 10),
        ("wecom", (200, {"errcode": 45009, "errmsg": "api freq out of limit"}), 1),
        ("wecom", (500, {"errcode": -1, "errmsg": "system busy"}), 2),
        ("dingtalk", (429, {"errcode": 130101, "errmsg": "too many requests"}), 10),
    ],
    ids=["dingtalk-130101", "wecom-45009", "wecom-500", "dingtalk-429"],
)
def test_a_limited_or_failing_bot_pauses_alone_and_its_messages_go_later_once(
    engine, tmp_path: Path, platform: str, answer: tuple[int, dict[str, Any]], paused_for: int
) -> None:
    start = local(2016, 12, 12, 9)
    clock = Clock(start)
    platforms = Platforms(clock)
    failing = f"{platform}:dept_a"
    messages = [bot_message(n, failing) for n in range(3)] + [
        bot_message(n, "wecom:dept_b") for n in range(3)
    ]
    queue_messages(engine, [*messages, *(mail(n) for n in range(5))], start)
    with serving(platforms) as port:
        bots = {
            "wecom:dept_a": wecom(port),
            "dingtalk:dept_a": dingtalk(port),
            "wecom:dept_b": wecom(port, OTHER_KEY),
        }
        server_name = f"wecom:{WECOM_KEY}" if platform == "wecom" else f"dingtalk:{DINGTALK_TOKEN}"
        platforms.script[server_name] = [answer]
        mailbox = FileTransport(tmp_path / "mail")
        first = dispatch(engine, mailbox, clock, sleep=clock.sleep, bots=bots)
        assert clock.now - start == 2 * BOT_TURN  # the other group's 3 turns; none for the paused bot
        statuses = Counter(
            (r["recipient"].split("@")[0], r["status"], r["attempts"]) for r in outbox_rows(engine)
        )
        clock.now = start + timedelta(minutes=paused_for) - timedelta(seconds=1)
        early = dispatch(engine, mailbox, clock, sleep=clock.sleep, bots=bots)
        clock.now = start + timedelta(minutes=paused_for)
        late = dispatch(engine, mailbox, clock, sleep=clock.sleep, bots=bots)

    assert platforms.problems == []
    # first run: mail and the other group all sent; the failing bot posted once, then paused
    assert (first.sent, first.failed, first.paused) == (8, 0, None)
    assert set(first.bots_paused) == {failing}
    assert statuses == {
        **{(f"t{n}", "sent", 0): 1 for n in range(5)},
        ("wecom:dept_b", "sent", 0): 3,
        (failing, "queued", 0): 3,  # uncharged: the bot's trouble, not the messages'
    }
    assert early.sent == 0 and len(platforms.posts) == 7  # still paused: nothing posted
    assert late.sent == 3
    rows = outbox_rows(engine, kind="bot")
    assert all(r["status"] == "sent" for r in rows)
    accepted = Counter(
        p.payload["markdown"].get("content") or p.payload["markdown"]["text"] for p in platforms.accepted()
    )
    assert set(accepted.values()) == {1} and len(accepted) == 6  # every message once: no duplicates
    assert [p.accepted for p in platforms.posts if p.bot == server_name] == [False, True, True, True]
    no_secret_anywhere(engine)


def test_an_invalid_webhook_fails_its_messages_and_says_so_without_the_key(
    sqlite_engine, tmp_path: Path
) -> None:
    start = local(2016, 12, 12, 9)
    clock = Clock(start)
    platforms = Platforms(clock)
    queue_messages(sqlite_engine, [bot_message(n, "wecom:dept_a") for n in range(2)] + [mail(1)], start)
    invalid = (200, {"errcode": 93000, "errmsg": f"invalid webhook url, hint: [key={WECOM_KEY}]"})
    with serving(platforms) as port:
        platforms.script[f"wecom:{WECOM_KEY}"] = [invalid, invalid]
        report = dispatch(
            sqlite_engine,
            FileTransport(tmp_path / "mail"),
            clock,
            sleep=clock.sleep,
            bots={"wecom:dept_a": wecom(port)},
        )
    assert (report.sent, report.failed) == (1, 2)
    failed = outbox_rows(sqlite_engine, status="failed")
    assert [r["recipient"] for r in failed] == ["wecom:dept_a"] * 2
    assert "errcode 93000" in failed[0]["last_error"] and "key=***" in failed[0]["last_error"]
    no_secret_anywhere(sqlite_engine)


def test_a_bot_that_does_not_answer_pauses_and_the_mail_goes_on(sqlite_engine, tmp_path: Path) -> None:
    start = local(2016, 12, 12, 9)
    clock = Clock(start)
    queue_messages(sqlite_engine, [bot_message(1, "wecom:dept_a"), mail(1)], start)
    closed = BotTransport(
        "wecom", BotTarget(f"http://127.0.0.1:{free_port()}/cgi-bin/webhook/send?key={WECOM_KEY}")
    )
    report = dispatch(
        sqlite_engine,
        FileTransport(tmp_path / "mail"),
        clock,
        sleep=clock.sleep,
        bots={"wecom:dept_a": closed},
    )
    assert (report.sent, report.failed, report.retried) == (1, 0, 1)
    [row] = outbox_rows(sqlite_engine, kind="bot")
    assert (row["status"], row["attempts"], row["next_attempt_at"]) == (
        "queued",
        0,
        start + timedelta(minutes=2),
    )
    assert "did not answer" in row["last_error"]
    no_secret_anywhere(sqlite_engine)


def test_the_markdown_fits_each_platform_and_counts_the_teachers_left_out() -> None:
    teachers = [{"staff_id": f"{n:06d}", "name": "司马欧阳娜娜", "state": "待开通账号"} for n in range(100)]
    context = {
        "task": {
            "title": "填报",
            "unit_name": "甲学院",
            "due": "2016-12-15 23:59",
            "overdue": True,
            "overdue_days": 2,
            "working_days_left": 0,
            "deliverable": "填报完成",
            "owners": "甲采集",
            "next_step": "督促填报",
        },
        "teachers": teachers,
        "more": 250,
        "counts": {"total": 400, "done": 50, "missing": 350},
        "link": None,
    }
    _, wecom_text = markdown("wecom", context)
    title, dingtalk_text = markdown("dingtalk", context)
    assert len(wecom_text.encode()) <= WECOM_CONTENT_BYTES
    shown = wecom_text.count("- 0")
    assert 0 < shown < 100 and f"……另有 {100 - shown + 250} 人" in wecom_text
    assert dingtalk_text.count("- 0") == 100 and "……另有 250 人" in dingtalk_text  # 20000 bytes hold them all
    assert "逾期 2 个工作日" in wecom_text and title == "【催办】甲学院：填报"


def test_a_sender_without_the_bots_leaves_their_messages_uncharged_and_a_dropped_bots_end_in_a_day(
    sqlite_engine, tmp_path: Path
) -> None:
    start = local(2016, 12, 12, 9)
    queue_messages(sqlite_engine, [bot_message(1, "wecom:dept_a"), mail(1)], start)
    mailbox = FileTransport(tmp_path / "mail")
    report = dispatch(sqlite_engine, mailbox, lambda: start)  # no bots given: the mail only
    assert (report.sent, report.failed) == (1, 0)
    [row] = outbox_rows(sqlite_engine, kind="bot")
    assert (row["status"], row["attempts"], row["next_attempt_at"]) == (
        "queued",
        0,
        start + timedelta(minutes=1),
    )
    assert not list((tmp_path / "mail").glob("*-bot.eml"))  # never mailed instead
    report = dispatch(sqlite_engine, mailbox, lambda: start + timedelta(hours=24))
    [row] = outbox_rows(sqlite_engine, kind="bot")
    assert (report.failed, row["status"], row["attempts"]) == (1, "failed", 0)
    assert row["last_error"] == "no webhook for wecom:dept_a in this sender's settings"


def test_two_senders_at_once_keep_to_one_post_every_3_seconds_per_bot(engine, tmp_path: Path) -> None:
    """Real time, two senders in parallel taking one message at a time: the turns are the database's."""
    start = pendulum.now("Asia/Shanghai")
    platforms = Platforms(lambda: pendulum.now("Asia/Shanghai"))
    queue_messages(engine, [bot_message(n, "wecom:dept_a") for n in range(4)], start)
    with serving(platforms) as port:
        bots = {"wecom:dept_a": wecom(port)}
        reports = []

        def send() -> None:
            try:
                reports.append(dispatch(engine, FileTransport(tmp_path / "mail"), start, batch=1, bots=bots))
            except BaseException as error:  # the test's thread: shown, not lost
                reports.append(error)

        senders = [threading.Thread(target=send) for _ in range(2)]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join(60)
        # on a loaded machine a sender may end before a later turn comes (the row waits, uncharged):
        # a third run at that turn posts it; the spacing and "once each" below still hold
        deadline = time.monotonic() + 60
        while any(r["status"] == "queued" for r in outbox_rows(engine)) and time.monotonic() < deadline:
            time.sleep(1)
            reports.append(dispatch(engine, FileTransport(tmp_path / "mail"), pendulum.now("Asia/Shanghai"),
                                    batch=1, bots=bots))
    moments = [p.at for p in platforms.accepted()]
    rows = [(r["status"], r["next_attempt_at"], r["last_error"]) for r in outbox_rows(engine)]
    assert len(moments) == 4 and sum(r.sent for r in reports) == 4, (rows, reports)  # each once
    gaps = [(b - a).total_seconds() for a, b in zip(moments, moments[1:], strict=False)]
    assert min(gaps) > 3, gaps  # 3.1 s apart, less the jitter between taking a turn and posting


def test_units_that_share_a_webhook_share_its_limit(sqlite_engine, tmp_path: Path) -> None:
    """Two units listing the same group: one bot, one limit, one pause (the application pairs them)."""
    start = local(2016, 12, 12, 9)
    clock = Clock(start)
    platforms = Platforms(clock)
    with serving(platforms) as port:
        url = f"http://127.0.0.1:{port}/cgi-bin/webhook/send?key={WECOM_KEY}"
        app = Application(
            Settings.from_environment(
                {"CUIBAN_WECOM_WEBHOOK_DEPT_A": url, "CUIBAN_WECOM_WEBHOOK_DEPT_B": url}
            )
        )
        text = MINIMAL_PLAN.read_text(encoding="utf-8").replace(
            "collector: c_a}", "collector: c_a, bots: [wecom]}"
        )
        (tmp_path / "plan.yaml").write_text(text.replace("collector: h_b}", "collector: h_b, bots: [wecom]}"))
        app.plan_option = str(tmp_path / "plan.yaml")
        messages = [bot_message(n, bot) for n in range(25) for bot in ("wecom:dept_a", "wecom:dept_b")]
        queue_messages(sqlite_engine, messages, start)
        report = dispatch(
            sqlite_engine, FileTransport(tmp_path / "mail"), clock, sleep=clock.sleep, bots=app.bots
        )
    moments = [p.at for p in platforms.accepted()]
    assert report.sent == len(moments) == 50 and most_in_a_minute(moments) == 20
    assert clock.now - start == 49 * BOT_TURN
