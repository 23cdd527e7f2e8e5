"""Delivery through a real SMTP server on 127.0.0.1 (aiosmtpd): contents, and what faults leave behind."""

from __future__ import annotations

import email
import re
import socket
from datetime import UTC
from email import policy
from pathlib import Path

import pendulum
import pytest
from aiosmtpd.controller import Controller

from cuiban.cli.settings import Settings
from cuiban.models import outbox_store
from cuiban.notifications.render import Renderer
from cuiban.notifications.transports import SmtpTransport
from cuiban.planfile.loader import load_plan
from cuiban.schedules.tick import run_tick
from cuiban.services.dispatch import dispatch
from cuiban.services.roster_import import import_roster
from tests.conftest import MINIMAL_PLAN
from tests.delivery_support import Clock
from tests.factories import roster, write_csv

NOW = pendulum.datetime(2016, 12, 16, 9, 30, tz="Asia/Shanghai")
ID_CARD = "11010519491231002X"
PHONE = "13812345678"


class Recorder:
    """An SMTP server's handler that keeps what it accepts and can be told to refuse."""

    def __init__(self) -> None:
        self.accepted: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse_rcpt: dict[str, str] = {}
        self.data_replies: list[str] = []
        self.drop_after: int | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse_rcpt:
            return self.refuse_rcpt[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.drop_after is not None and len(self.accepted) >= self.drop_after:
            self.drop_after = None
            server.transport.close()
            return "421 closing"
        if self.data_replies:
            return self.data_replies.pop(0)
        self.accepted.append(email.message_from_bytes(envelope.content, policy=policy.default))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield recorder, controller.port
    controller.stop()


def _transport(port: int) -> SmtpTransport:
    smtp = Settings.from_environment(
        {
            "CUIBAN_SMTP_HOST": "127.0.0.1",
            "CUIBAN_SMTP_PORT": str(port),
            "CUIBAN_SMTP_SECURITY": "none",
            "CUIBAN_MAIL_FROM": "cuiban@school.example",
        }
    ).smtp
    assert smtp is not None
    return SmtpTransport(smtp)


@pytest.fixture
def queued(sqlite_engine, tmp_path: Path):
    """The minimal plan with ID-card and phone columns mapped, a roster carrying them, one tick queued."""
    text = MINIMAL_PLAN.read_text(encoding="utf-8").replace(
        "合同期限(月)}", "合同期限(月), id_card: 身份证号, phone: 手机}"
    ).replace("repeat_while_overdue: true}", "repeat_while_overdue: true, combine: false}")  # a mail each
    plan_path = tmp_path / "plan.yaml"
    plan_path.write_text(text, encoding="utf-8")
    plan, calendar = load_plan(plan_path)
    rows = [
        [r[0], "张\r\nBcc: evil@x.example", r[4], "36", ID_CARD, PHONE]
        for r in roster(["甲学院", "乙学院"], 2)
    ]
    write_csv(tmp_path / "r.csv", ["工号", "姓名", "所属部门", "合同期限(月)", "身份证号", "手机"], rows)
    import_roster(sqlite_engine, plan, calendar, tmp_path / "r.csv", NOW.subtract(days=20))
    run_tick(sqlite_engine, plan, calendar, Renderer("zh"), NOW)
    with sqlite_engine.connect() as connection:
        count = outbox_store.count(connection, "queued")
    assert count >= 5
    return sqlite_engine, plan, calendar, count


def _statuses(engine) -> dict[str, int]:
    with engine.connect() as connection:
        rows = outbox_store.rows(connection)
    found: dict[str, int] = {}
    for row in rows:
        found[row["status"]] = found.get(row["status"], 0) + 1
    return found


def test_messages_arrive_decodable_with_both_parts_to_exactly_their_recipient(queued, smtp) -> None:
    engine, _, _, count = queued
    recorder, port = smtp
    report = dispatch(engine, _transport(port), NOW)
    assert (report.sent, report.failed) == (count, 0)
    assert len(recorder.accepted) == count
    with engine.connect() as connection:
        rows = {r["message_id"]: r for r in outbox_store.rows(connection)}
    for message, (mail_from, rcpt) in zip(recorder.accepted, recorder.envelopes, strict=True):
        row = rows[message["Message-ID"]]
        assert rcpt == [row["recipient"]] and mail_from == "cuiban@school.example"
        assert message["To"].addresses[0].addr_spec == row["recipient"]
        assert message["Subject"] == row["subject"] and re.search(r"[\u4e00-\u9fff]", message["Subject"])
        assert message["Bcc"] is None
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        assert text == row["body_text"] and "<br>" not in text and html.startswith("<html>")
        raw = message.as_string()
        assert ID_CARD not in raw and PHONE not in raw and ID_CARD[:10] not in raw
    assert len(set(rows)) == count  # one Message-ID each


def test_server_down_keeps_everything_queued_then_sends_once(queued) -> None:
    engine, _, _, count = queued
    port = _free_port()  # nothing listens here yet
    report = dispatch(engine, _transport(port), NOW)
    assert report.sent == 0 and "could not connect" in report.paused
    assert _statuses(engine) == {"queued": count}
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        assert dispatch(engine, _transport(port), NOW).sent == 0  # the sender is paused
        later = dispatch(engine, _transport(port), NOW.add(minutes=3))
    finally:
        controller.stop()
    assert later.sent == count and len(recorder.accepted) == count
    assert _statuses(engine) == {"sent": count}


def test_451_defers_that_message_only_and_retries_it_later_without_duplicates(queued, smtp) -> None:
    engine, _, _, count = queued
    recorder, port = smtp
    recorder.data_replies = ["451 4.7.1 Try again later"]
    first = dispatch(engine, _transport(port), NOW)
    assert (first.sent, first.retried, first.paused) == (count - 1, 1, None)
    assert _statuses(engine) == {"sent": count - 1, "queued": 1}
    second = dispatch(engine, _transport(port), NOW.add(minutes=2))
    assert second.sent == 1
    subjects = [m["Message-ID"] for m in recorder.accepted]
    assert len(subjects) == len(set(subjects)) == count


def test_550_user_unknown_fails_that_message_only_and_the_digest_says_so(queued, smtp) -> None:
    engine, plan, calendar, count = queued
    recorder, port = smtp
    recorder.refuse_rcpt["h.b@school.example"] = "550 5.1.1 User unknown"
    report = dispatch(engine, _transport(port), NOW)
    with engine.connect() as connection:
        failed = outbox_store.rows(connection, "failed")
    assert failed and all(r["recipient"] == "h.b@school.example" for r in failed)
    assert all(r["last_error"].startswith("550 5.1.1 User unknown") for r in failed)
    assert report.sent == count - len(failed) == len(recorder.accepted)
    run_tick(engine, plan, calendar, Renderer("zh"), NOW.add(days=1).set(hour=8, minute=45))
    with engine.connect() as connection:
        digest = [r for r in outbox_store.rows(connection, kind="digest") if r["slot"] == "2016-12-17"][0]
    assert "未能送达的邮件" in digest["body_text"] and "550 5.1.1 User unknown" in digest["body_text"]


def test_connection_dropped_mid_batch_reconnects_and_resends_nothing_twice(queued, smtp) -> None:
    engine, _, _, count = queued
    recorder, port = smtp
    recorder.drop_after = 2
    first = dispatch(engine, _transport(port), NOW)
    assert (first.sent, first.retried, first.paused) == (count, 0, None)
    assert _statuses(engine) == {"sent": count}
    ids = [m["Message-ID"] for m in recorder.accepted]
    assert len(ids) == len(set(ids)) == count


def test_rate_limit_spaces_the_batch(queued, smtp) -> None:
    engine, _, _, count = queued
    _, port = smtp
    clock = Clock(NOW)
    dispatch(engine, _transport(port), clock, per_minute=30, sleep=clock.sleep, pace_clock=clock)
    assert clock.waits == [2.0] * (count - 1)


def test_a_copy_goes_once_after_its_recipient_took_the_message(smtp) -> None:
    """A teacher's reminder with the collector in Cc: while the teacher's server says "try later", the
    collector gets nothing (no copy at every retry); once it is taken, one copy; a refused copy
    does not fail the message; the recipient is never also a copy of its own."""
    from datetime import datetime

    from cuiban.notifications.message import Outgoing
    from cuiban.notifications.transports import TemporaryFailure

    recorder, port = smtp
    transport = _transport(port)
    transport.open()
    sent_at = datetime(2016, 12, 12, 1, tzinfo=UTC)
    message = Outgoing(
        7, "cuiban@school.example", "催办", "t1@school.example", "张三", "提醒", "正文", "<p>正文</p>",
        cc=("c.news@school.example", "T1@school.example"),
    )
    recorder.refuse_rcpt["t1@school.example"] = "452 4.2.2 Mailbox full"
    with pytest.raises(TemporaryFailure):
        transport.send(message, sent_at, "7-teacher.eml")
    assert recorder.envelopes == []
    del recorder.refuse_rcpt["t1@school.example"]
    recorder.refuse_rcpt["c.news@school.example"] = "550 5.1.1 User unknown"
    transport.send(message, sent_at, "7-teacher.eml")  # the copy refused: the message is still sent
    del recorder.refuse_rcpt["c.news@school.example"]
    transport.send(message, sent_at, "7-teacher.eml")
    transport.close()
    assert recorder.envelopes == [
        ("cuiban@school.example", ["t1@school.example"]),
        ("cuiban@school.example", ["t1@school.example"]),
        ("cuiban@school.example", ["c.news@school.example"]),
    ]
    copied = recorder.accepted[-1]["Cc"]
    assert copied is not None and "c.news@school.example" in str(copied)
