"""Fault injection against a real SMTP server on 127.0.0.1: what each fault costs, counted exactly.

Campaign time is a fake clock (`dispatch(..., now=clock)`): days of retries and outages
run in seconds, and every moment below is exact.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pendulum
import pytest
from click.testing import CliRunner

from cuiban.cli.main import cuiban
from cuiban.models.database import open_engine
from cuiban.models.outbox_store import PRIORITY
from cuiban.notifications.render import Renderer
from cuiban.planfile.loader import load_plan
from cuiban.services.dispatch import BACKOFF, GIVE_UP_AFTER, GIVE_UP_AGE, dispatch
from cuiban.services.roster_import import import_roster
from cuiban.services.tick_and_send import tick_and_send
from tests.conftest import MINIMAL_PLAN, url_of
from tests.delivery_support import (
    GMAIL_RATE,
    MAILBOX_FULL,
    NETEASE_SFQ,
    OFFICE365_QUOTA,
    QQ_CONNECTION,
    QQ_IP,
    Clock,
    Provider,
    free_port,
    local,
    message,
    outbox_rows,
    pause_of,
    queue_messages,
    serving,
    smtp_transport,
    statuses,
)
from tests.factories import roster, write_csv

BAD = "c.a@school.example"
"""甲学院's collector: her mailbox is full."""


def test_the_rules_these_tests_count_with() -> None:
    """The figures below are worked out from these; a change of rule is a change of figures."""
    assert GIVE_UP_AFTER == 8 and GIVE_UP_AGE.total_seconds() == 24 * 3600
    assert [b.total_seconds() / 60 for b in BACKOFF] == [1, 5, 15, 60, 240]


# ── a campaign on the minimal plan, ticked and sent on a fake clock ──


@pytest.fixture
def campaign(tmp_path: Path):
    """The minimal plan, 3 unfinished teachers in each of its 2 departments, and a tick-and-send step;
    one mail per task (`reminders.combine: false`): the faults are counted message by message."""

    def start(engine):
        plan, calendar = load_plan(MINIMAL_PLAN)
        plan = plan.model_copy(update={"reminders": plan.reminders.model_copy(update={"combine": False})})
        rows = [[r[0], r[1], r[4], "36"] for r in roster(["甲学院", "乙学院"], 3)]
        write_csv(tmp_path / "r.csv", ["工号", "姓名", "所属部门", "合同期限(月)"], rows)
        import_roster(engine, plan, calendar, tmp_path / "r.csv", local(2016, 11, 21, 9))
        renderer = Renderer("zh")

        def tick(now, transport, decide: bool = True):
            """Tick (unless not `decide`), then send at `now` exactly."""
            if decide:
                tick_and_send(engine, plan, calendar, renderer, transport, now, send=False)
            return dispatch(engine, transport, lambda: now)

        return tick

    return start


def _digest(engine, day: str) -> dict:
    [row] = [r for r in outbox_rows(engine, kind="digest") if r["slot"] == day]
    return row


def _failed_lines(body: str) -> list[str]:
    """The digest's 未能送达的邮件 section: its heading, then one line per message."""
    lines = body.splitlines()
    start = [i for i, line in enumerate(lines) if line.startswith("未能送达的邮件")]
    if not start:
        return []
    section = lines[start[0] :]
    return [section[0]] + [line.strip() for line in section[1:] if line.startswith("  ")]


def test_one_full_mailbox_for_days_delays_nobody_else_and_is_given_up_after_8_attempts_and_24_hours(
    sqlite_engine, campaign
) -> None:
    engine = sqlite_engine
    tick = campaign(engine)
    provider = Provider(by_recipient={BAD: MAILBOX_FULL})
    steps = []  # ticks at the digest's 08:30, the reminders' 09:00 and midnight; sending hourly as well
    for day in range(12, 16):
        first = local(2016, 12, day, 8, 30)
        steps += [first, first.add(minutes=30)] + [first.add(minutes=90 + 60 * h) for h in range(23)]
    steps.append(local(2016, 12, 16, 8, 30))
    wrong_order = []
    with serving(provider) as port:
        transport = smtp_transport(port)
        for now in steps:
            before = len(provider.arrived)
            report = tick(now, transport, decide=now.minute == 30 or now.hour in (0, 9))
            assert report.paused is None and report.failed == (
                now in (local(2016, 12, 13, 9), local(2016, 12, 15, 9))
            )
            kinds = [_kind_of(engine, a.message_id) for a in provider.arrived[before:]]
            if [PRIORITY.get(k, 2) for k in kinds] != sorted(PRIORITY.get(k, 2) for k in kinds):
                wrong_order.append((now, kinds))
    assert wrong_order == []

    rows = outbox_rows(engine)
    others = [r for r in rows if r["recipient"] != BAD]
    # the roster task, overdue since 11-28, gets 12-09's slot at the first tick (12-12 08:30), which
    # stands for 12-12's too: its next reminder is 12-13 09:00, not a drifted one at midnight
    assert len(others) == len(provider.arrived) == 14
    assert Counter(r["kind"] for r in others) == {"digest": 5, "escalation": 2, "reminder": 7}
    assert all(r["status"] == "sent" and r["attempts"] == 0 for r in others)
    assert [r for r in others if r["sent_at"] != r["created_at"]] == []  # each sent the moment it was due
    digests = [r for r in others if r["kind"] == "digest"]
    assert [r["sent_at"] for r in digests] == [local(2016, 12, d, 8, 30) for d in range(12, 17)]
    firsts = {a.message_id for a in _first_of_each_step(provider, engine)}
    assert {r["message_id"] for r in digests} <= firsts  # the first to leave, every morning

    bad = [r for r in rows if r["recipient"] == BAD]
    assert [(r["slot"], r["status"], r["attempts"]) for r in bad] == [
        ("before-3", "failed", 10),  # attempts at 09, 10, 11, 12, 13, 17, 21, 01, 05 (16 h: kept) and 09
        ("before-1", "failed", 10),
        ("before-0", "queued", 9),  # 9 attempts, but only 23.5 hours old: not given up
    ]
    assert provider.rcpts[BAD] == 29 and not [a for a in provider.arrived if a.recipient == BAD]
    assert [r["failed_at"] for r in bad[:2]] == [local(2016, 12, 13, 9), local(2016, 12, 15, 9)]
    assert [r["failed_at"] - r["created_at"] for r in bad[:2]] == [timedelta(hours=24)] * 2
    assert bad[0]["last_error"] == "gave up after 10 attempts: 452 4.2.2 Mailbox full"
    assert (bad[2]["last_error"], bad[2]["next_attempt_at"]) == (MAILBOX_FULL, local(2016, 12, 16, 9))

    listed = {
        day: _failed_lines(_digest(engine, day)["body_text"])
        for day in ("2016-12-13", "2016-12-14", "2016-12-15", "2016-12-16")
    }
    line = "甲采集 <c.a@school.example>：{} —— gave up after 10 attempts: 452 4.2.2 Mailbox full"
    assert listed == {
        "2016-12-13": [],
        "2016-12-14": ["未能送达的邮件（1）：", line.format(bad[0]["subject"])],
        "2016-12-15": [],
        "2016-12-16": ["未能送达的邮件（1）：", line.format(bad[1]["subject"])],
    }


def _kind_of(engine, message_id: str) -> str:
    [row] = [r for r in outbox_rows(engine) if r["message_id"] == message_id]
    return row["kind"]


def _first_of_each_step(provider: Provider, engine) -> list:
    """The first message of each sending moment (rows sent at the same campaign moment)."""
    sent_at = {r["message_id"]: r["sent_at"] for r in outbox_rows(engine)}
    firsts, seen = [], set()
    for arrival in provider.arrived:
        if sent_at[arrival.message_id] not in seen:
            seen.add(sent_at[arrival.message_id])
            firsts.append(arrival)
    return firsts


def test_a_failure_30_hours_after_queueing_is_in_the_next_digest(engine, campaign) -> None:
    tick = campaign(engine)
    provider = Provider(by_recipient={BAD: MAILBOX_FULL})
    queued_at = local(2016, 12, 12, 9)
    with serving(provider) as port:
        transport = smtp_transport(port)
        tick(queued_at, transport)
        for hours in (1, 2, 3, 4, 8, 12, 16):  # attempts 2-8; the 8th is 16 h after queueing: kept
            assert dispatch(engine, transport, lambda h=hours: queued_at.add(hours=h)).failed == 0
        tick(local(2016, 12, 13, 8, 30), transport)  # the 9th: 23.5 h after queueing, kept
        # the 10th, 30 h after queueing: given up
        report = dispatch(engine, transport, lambda: queued_at.add(hours=30))
        tick(local(2016, 12, 14, 8, 30), transport)
    assert report.failed == 1
    [failed] = outbox_rows(engine, status="failed")
    assert (failed["recipient"], failed["attempts"]) == (BAD, 10)
    assert (failed["created_at"], failed["failed_at"]) == (queued_at, local(2016, 12, 13, 15))
    assert _failed_lines(_digest(engine, "2016-12-13")["body_text"]) == []  # still being retried then
    assert _failed_lines(_digest(engine, "2016-12-14")["body_text"]) == [
        "未能送达的邮件（1）：",
        f"甲采集 <c.a@school.example>：{failed['subject']} —— gave up after 10 attempts: {MAILBOX_FULL}",
    ]


# ── volume and order ──


def test_2000_messages_leave_in_one_run_digests_first_within_the_rate(sqlite_engine) -> None:
    engine = sqlite_engine
    now = local(2016, 12, 16, 9)
    reminders = [message(f"r{i:04d}", "reminder", f"t{i:04d}@school.example", now) for i in range(1984)]
    escalations = [message(f"e{i:02d}", "escalation", f"h{i:02d}@school.example", now) for i in range(14)]
    digests = [message(f"d{i}", "digest", f"coord{i}@school.example", now) for i in range(2)]
    # queued the way a tick queues them: reminders and escalations mixed, the digests last
    queue_messages(
        engine, reminders[:1000] + escalations[:7] + reminders[1000:] + escalations[7:] + digests, now
    )
    clock = Clock(now)
    provider = Provider()
    with serving(provider) as port:
        report = dispatch(
            engine, smtp_transport(port), clock, per_minute=600, sleep=clock.sleep, pace_clock=clock
        )

    assert (report.sent, report.retried, report.failed, report.late, report.paused) == (2000, 0, 0, 0, None)
    assert statuses(engine) == {"sent": 2000}
    rows = {r["message_id"]: r for r in outbox_rows(engine)}
    arrived = [rows[a.message_id] for a in provider.arrived]
    assert len(arrived) == len(set(provider.message_ids())) == 2000
    assert [r["key"] for r in arrived] == [m["key"] for m in digests + escalations + reminders]
    assert [a.recipient for a in provider.arrived] == [r["recipient"] for r in arrived]
    assert clock.waits == [0.1] * 1999  # 600 a minute
    sent_at = [r["sent_at"] for r in arrived]
    assert sent_at == sorted(sent_at) and sent_at[-1] - sent_at[0] == timedelta(seconds=199.9)
    assert min(sent_at[i + 600] - sent_at[i] for i in range(1400)) == timedelta(seconds=60)


# ── the sender as a whole must stop: rate limits, outages ──


@pytest.mark.parametrize(
    ("replies", "before", "shown", "cool_down"),
    [
        ({("EHLO", 1): QQ_CONNECTION, ("HELO", 1): QQ_CONNECTION}, 0, "550 Connection frequency limited", 10),
        ({("MAIL", 4): QQ_IP}, 3, "550 Ip frequency limited", 10),
        ({("RCPT", 4): QQ_CONNECTION}, 3, "550 Connection frequency limited", 10),
        ({("DATA", 4): NETEASE_SFQ}, 3, "451 MI:SFQ", 10),
        ({("RCPT", 4): GMAIL_RATE}, 3, "421 4.7.28", 10),
        ({("DATA", 4): OFFICE365_QUOTA}, 3, "554 5.2.0 STOREDRV", 60),
    ],
    ids=[
        "qq-at-connect",
        "qq-ip-at-mail",
        "qq-at-rcpt",
        "163-sfq-at-data",
        "gmail-4.7.28-at-rcpt",
        "o365-quota",
    ],
)
def test_a_providers_rate_limit_or_quota_pauses_the_sender_charges_nobody_and_then_everything_goes_once(
    sqlite_engine, replies: dict, before: int, shown: str, cool_down: int
) -> None:
    engine = sqlite_engine
    now = local(2016, 12, 16, 9)
    messages = [
        message("d", "digest", "coord@school.example"),
        message("e", "escalation", "h@school.example"),
    ]
    messages += [message(f"r{i}", "reminder", f"t{i}@school.example") for i in range(8)]
    queue_messages(engine, messages, now)
    provider = Provider(replies=replies)  # refused at the first connection, or at the 4th message
    with serving(provider) as port:
        transport = smtp_transport(port)
        first = dispatch(engine, transport, lambda: now)
        rows = outbox_rows(engine)
        assert (first.sent, first.retried, first.failed) == (before, 10 - before, 0)
        until = now.add(minutes=cool_down)
        assert (
            first.paused.startswith(shown)
            and f"(paused until {until.isoformat()[:16]}+08:00; {10 - before} messages wait for it)"
            in first.paused
        )
        assert statuses(engine) == ({"sent": before} if before else {}) | {"queued": 10 - before}
        assert [r["attempts"] for r in rows] == [0] * 10
        assert {r["last_error"][: len(shown)] for r in rows if r["status"] == "queued"} == {shown}
        assert pause_of(engine) == (until, first.paused.partition(" (paused until")[0])

        seen = dict(provider.counts)
        early = dispatch(engine, transport, lambda: until.subtract(seconds=1))
        assert (early.sent, early.retried, early.failed) == (0, 0, 0)
        assert early.paused.startswith(shown) and "paused until" in early.paused
        assert dict(provider.counts) == seen  # not even a connection

        after = dispatch(engine, transport, lambda: until)
    assert (after.sent, after.retried, after.failed, after.paused) == (10 - before, 0, 0, None)
    assert statuses(engine) == {"sent": 10}
    assert [r["attempts"] for r in outbox_rows(engine)] == [0] * 10
    ids = provider.message_ids()
    assert len(ids) == len(set(ids)) == 10 and set(ids) == {r["message_id"] for r in outbox_rows(engine)}
    assert [a.recipient for a in provider.arrived][:2] == ["coord@school.example", "h@school.example"]


@pytest.mark.parametrize(
    ("reply", "outcome"),
    [
        ("452 4.2.2 <t3@school.example>: Quota exceeded (mailbox for user is full)", "queued"),  # Dovecot
        ("552 5.2.2 <t3@school.example>: Quota exceeded (mailbox for user is full)", "failed"),
        ("452 4.2.2 Mailbox size limit exceeded", "queued"),  # Exchange
        ("552 5.2.2 Mailbox size limit exceeded", "failed"),
        ("552 Requested mail action aborted: mailbox is full", "failed"),
    ],
    ids=["dovecot-452", "dovecot-552", "exchange-452", "exchange-552", "no-enhanced-code"],
)
def test_a_full_mailbox_in_any_servers_words_is_that_recipients_problem_only(
    sqlite_engine, reply: str, outcome: str
) -> None:
    """ "Quota exceeded" and "limit exceeded" are also what providers say of the sender; a full mailbox
    (RFC 3463 X.2.2) is the recipient's, and must not pause everyone's mail."""
    engine = sqlite_engine
    now = local(2016, 12, 16, 9)
    queue_messages(engine, [message(f"r{i}", "reminder", f"t{i}@school.example") for i in range(8)], now)
    provider = Provider(by_recipient={"t3@school.example": reply})
    with serving(provider) as port:
        report = dispatch(engine, smtp_transport(port), lambda: now)
    assert (report.sent, report.retried + report.failed, report.paused) == (7, 1, None)
    [refused] = [r for r in outbox_rows(engine) if r["status"] != "sent"]
    assert (refused["recipient"], refused["status"], refused["attempts"]) == (
        "t3@school.example",
        outcome,
        1 if outcome == "queued" else 0,
    )
    assert refused["last_error"] == reply and pause_of(engine) is None
    assert len(set(provider.message_ids())) == 7


def test_a_day_long_outage_fails_nothing_and_everything_goes_once_when_the_server_is_back(
    sqlite_engine,
) -> None:
    engine = sqlite_engine
    start = local(2016, 12, 16, 9)
    messages = [message("d", "digest", "coord@school.example")]
    messages += [message(f"r{i}", "reminder", f"t{i}@school.example") for i in range(11)]
    queue_messages(engine, messages, start)
    port = free_port()  # nothing listens there: every connection is refused
    transport = smtp_transport(port)
    outcomes = Counter()
    for step in range(24 * 12 + 1):  # `cuiban run` every 5 minutes for 24 hours
        report = dispatch(engine, transport, lambda s=step: start.add(minutes=5 * s))
        outcomes[
            (report.sent, report.retried, report.failed, "could not connect" in (report.paused or ""))
        ] += 1
    assert outcomes == {(0, 12, 0, True): 289}
    rows = outbox_rows(engine)
    assert statuses(engine) == {"queued": 12}
    assert all(r["attempts"] == 0 and r["last_error"].startswith("could not connect") for r in rows)

    provider = Provider()
    with serving(provider, port):
        back = dispatch(engine, transport, lambda: start.add(hours=24, minutes=5))
    assert (back.sent, back.retried, back.failed, back.paused) == (12, 0, 0, None)
    assert statuses(engine) == {"sent": 12}
    ids = provider.message_ids()
    assert len(ids) == len(set(ids)) == 12 and provider.arrived[0].recipient == "coord@school.example"


# ── two senders ──


def test_a_batch_slower_than_the_claim_lease_is_not_claimed_twice(engine) -> None:
    now = local(2016, 12, 16, 9)
    queue_messages(engine, [message(f"a{i}", "reminder", f"a{i}@school.example") for i in range(8)], now)
    other = open_engine(url_of(engine), migrate=False)
    provider = Provider(delay=0.3)  # the first sender's batch of 8 takes 2.4 s; its claim lasts 1 s
    reports = {}

    def send(name: str, engine, batch: int) -> None:
        reports[name] = dispatch(engine, smtp_transport(port), now, lease=timedelta(seconds=1), batch=batch)

    try:
        with serving(provider) as port:
            first = threading.Thread(target=send, args=("first", engine, 8))
            first.start()
            # 4 arrivals take 1.2 s: the first batch's claim would have expired, had it not been renewed
            deadline = time.monotonic() + 60
            while len(provider.arrived) < 4 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert first.is_alive() and 4 <= len(provider.arrived) < 8
            queue_messages(
                engine, [message(f"b{i}", "reminder", f"b{i}@school.example") for i in range(4)], now
            )
            second = threading.Thread(target=send, args=("second", other, 8))
            second.start()
            first.join(30)
            second.join(30)
    finally:
        other.dispose()
    assert (reports["first"].sent, reports["second"].sent, reports["second"].released) == (8, 4, 0)
    assert statuses(engine) == {"sent": 12}
    ids = provider.message_ids()
    assert len(ids) == len(set(ids)) == 12


# ── a folder that cannot be written ──


@pytest.mark.parametrize("fault", ["folder-under-a-file", "file-name-taken-by-a-folder"])
def test_an_unwritable_outbox_folder_keeps_messages_queued_with_the_reason_and_says_to_retry(
    sqlite_engine, tmp_path: Path, fault: str
) -> None:
    engine = sqlite_engine
    now = local(2016, 12, 16, 9)
    queue_messages(engine, [message(f"r{i}", "reminder", f"t{i}@school.example") for i in range(5)], now)
    if fault == "folder-under-a-file":  # root ignores chmod: a path under a regular file cannot be made
        (tmp_path / "a-file").write_text("not a folder")
        folder = tmp_path / "a-file" / "outbox"
        reason = "Not a directory"
    else:
        folder = tmp_path / "outbox"
        (folder / "000001-reminder.eml" / "in-the-way").mkdir(parents=True)
        reason = "Is a directory"
    env = {
        "CUIBAN_PLAN": str(MINIMAL_PLAN),
        "CUIBAN_DB": url_of(engine),
        "CUIBAN_OUTBOX_DIR": str(folder),
        "CUIBAN_SMTP_HOST": "",
    }
    result = CliRunner().invoke(cuiban, ["outbox", "send", "--now", now.isoformat()], env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        f"sent 0, to retry 5, failed 0 (paused: cannot write to {folder}: {reason}"
    )
    rows = outbox_rows(engine)
    assert statuses(engine) == {"queued": 5}
    assert all(r["attempts"] == 0 and reason in r["last_error"] for r in rows)

    if fault == "folder-under-a-file":
        (tmp_path / "a-file").unlink()
    else:
        (folder / "000001-reminder.eml" / "in-the-way").rmdir()
        (folder / "000001-reminder.eml").rmdir()
    later = pendulum.instance(now).add(minutes=3).isoformat()  # after the 2-minute cool-down
    result = CliRunner().invoke(cuiban, ["outbox", "send", "--now", later], env=env)
    assert result.stdout.startswith("sent 5, to retry 0, failed 0"), result.output
    assert sorted(p.name for p in folder.iterdir()) == [f"{i:06d}-reminder.eml" for i in range(1, 6)]
