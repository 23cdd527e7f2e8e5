"""The outbox's contract, run over SQLite and PostgreSQL alike (the `engine` fixture).

What `models/outbox_store.py` promises its callers — the tick that queues, the sender that
claims, sends and records outcomes — one behaviour per test: unique keys, Message-IDs fixed
at queueing, send order, atomic claims, leases (renewal, expiry, dead holders), outcomes
applied only by the claim's holder, the sender-wide pause. The last section holds the
dispatcher to the parts of the contract it keeps itself (reading the pause, giving back
dead and expired claims), through the file transport, so no SMTP server is needed.

Time is a parameter everywhere: a claim's expiry is whatever moment the test passes, so a
lease "expires" by passing a later moment, never by sleeping.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pendulum
import pytest
from sqlalchemy import Engine, insert, update
from sqlalchemy.exc import IntegrityError

from cuiban.models import cycle_store, outbox_store
from cuiban.models.outbox_store import OUTBOX, Outcomes
from cuiban.models.unit_of_work import transaction
from cuiban.notifications.transports import OUTAGE_COOL_DOWN, FileTransport
from cuiban.services.dispatch import SENDER, dispatch
from cuiban.services.holders import holder_is_dead, holder_name
from cuiban.services.outbox_admin import retry
from cuiban.services.rejection import Refusal

NOW = pendulum.datetime(2016, 12, 16, 9, tz="Asia/Shanghai")
LEASE = timedelta(minutes=2)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
A, B = "host-a.example:101:aaaa0001", "host-b.example:202:bbbb0002"
"""Two senders on other hosts: only their claims' expiry can free what they hold."""


# ── helpers: the outbox as the tick fills it and the sender reads it ──


def message(key: str, kind: str = "reminder", **extra: Any) -> dict[str, Any]:
    """An outbox message as a tick hands it to `queue`."""
    return {
        "key": key,
        "kind": kind,
        "task_key": None if kind == "digest" else f"filling/dept_{key}",
        "recipient": f"{key}@school.example",
        "recipient_name": "某老师",
        "slot": "before-0",
        "subject": f"【催办】{kind} {key}",
        "body_text": f"请尽快完成填报。{key}",
        "body_html": f"<p>请尽快完成填报。{key}</p>",
        **extra,
    }


def queue(engine: Engine, messages: list[dict[str, Any]], now: datetime = NOW) -> int:
    with transaction(engine) as connection:
        return outbox_store.queue(connection, messages, now, domain="school.example")


def queue_keys(engine: Engine, keys: list[str], kind: str = "reminder", now: datetime = NOW) -> None:
    assert queue(engine, [message(k, kind) for k in keys], now) == len(keys)


def claim(
    engine: Engine, holder: str = A, limit: int = 100, now: datetime = NOW, expires: datetime | None = None
) -> list[dict[str, Any]]:
    with transaction(engine) as connection:
        return outbox_store.claim(connection, now, limit, holder, expires or NOW + LEASE)


def held_by(engine: Engine, holder: str, names: list[str], expires: datetime | None = None) -> None:
    """Queue these messages and let `holder` claim them: whatever else is queued must be claimed already."""
    queue_keys(engine, names)
    assert keys(claim(engine, holder, expires=expires)) == names



def keys(rows: list[dict[str, Any]]) -> list[str]:
    return [r["key"] for r in rows]


def rows(engine: Engine, **filters: str) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        return outbox_store.rows(connection, **filters)


def row(engine: Engine, key: str) -> dict[str, Any]:
    [found] = [r for r in rows(engine) if r["key"] == key]
    return found


def by_key(engine: Engine) -> dict[str, dict[str, Any]]:
    return {r["key"]: r for r in rows(engine)}


def release(engine: Engine, **whose: Any) -> int:
    with transaction(engine) as connection:
        return outbox_store.release(connection, **whose)


def finish(engine: Engine, outbox_id: int, holder: str, **values: Any) -> bool:
    outcomes = Outcomes(engine)
    try:
        return outcomes.finish(outbox_id, holder, **values)
    finally:
        outcomes.close()


def set_sql(engine: Engine, key: str, **values: Any) -> None:
    """Change a row behind the store's back (what another process, or time, would have done)."""
    with transaction(engine) as connection:
        connection.execute(update(OUTBOX).where(OUTBOX.c.key == key).values(**values))


def dead_holder() -> str:
    """A holder on this host whose process has exited."""
    process = subprocess.Popen(["true"])
    process.wait()
    return f"{socket.gethostname()}:{process.pid}:deadbeef"


# ── queueing: one row per key, its Message-ID fixed once ──


def test_queueing_the_same_key_twice_keeps_one_row_and_the_first_version(engine) -> None:
    assert queue(engine, [message("t1"), message("t2")]) == 2
    again = message("t1", subject="changed")
    assert queue(engine, [again, message("t3")], NOW.add(hours=1)) == 1
    stored = by_key(engine)
    assert sorted(stored) == ["t1", "t2", "t3"]
    assert stored["t1"]["subject"] == "【催办】reminder t1"
    assert stored["t1"]["created_at"] == NOW


def test_a_key_repeated_within_one_call_is_queued_once(engine) -> None:
    assert queue(engine, [message("t1"), message("t1", subject="second"), message("t2")]) == 2
    assert [(r["key"], r["subject"]) for r in rows(engine)] == [
        ("t1", "【催办】reminder t1"),
        ("t2", "【催办】reminder t2"),
    ]


def test_a_key_already_sent_is_not_queued_again(engine) -> None:
    queue_keys(engine, ["t1"])
    [taken] = claim(engine)
    assert finish(engine, taken["id"], A, status="sent", sent_at=NOW)
    assert queue(engine, [message("t1")], NOW.add(days=1)) == 0
    assert [(r["key"], r["status"]) for r in rows(engine)] == [("t1", "sent")]


def test_the_database_itself_refuses_a_second_row_with_the_same_key(engine) -> None:
    with transaction(engine) as connection:  # a database in use has a cycle (the first command opens it)
        cycle_store.open_cycle(connection, 2016, "t", NOW)
    queue_keys(engine, ["t1"])
    duplicate = {k: v for k, v in row(engine, "t1").items() if k != "id"}
    with pytest.raises(IntegrityError), transaction(engine) as connection:
        connection.execute(insert(OUTBOX).values(**duplicate))


def test_attachments_are_kept_in_order_and_not_added_again_when_the_key_is_queued_again(engine) -> None:
    files = [
        {"filename": "附表4.xlsx", "content_type": XLSX, "content": b"x1", "content_id": None},
        {"filename": "chart.png", "content_type": "image/png", "content": b"\x89PNG", "content_id": "c1"},
    ]
    queue(engine, [message("d1", "digest", attachments=files), message("t1")])
    queue(engine, [message("d1", "digest", attachments=files[:1])], NOW.add(hours=1))
    with engine.connect() as connection:
        found = outbox_store.attachments(connection, ["d1", "t1"])
    assert list(found) == ["d1"]
    assert [(a["filename"], a["content"], a["content_id"]) for a in found["d1"]] == [
        ("附表4.xlsx", b"x1", None),
        ("chart.png", b"\x89PNG", "c1"),
    ]


def test_attachments_of_a_key_repeated_within_one_call_are_stored_once(engine) -> None:
    file = {"filename": "附表4.xlsx", "content_type": XLSX, "content": b"x1", "content_id": None}
    queue(engine, [message("d1", "digest", attachments=[file]), message("d1", "digest", attachments=[file])])
    with engine.connect() as connection:
        assert len(outbox_store.attachments(connection, ["d1"])["d1"]) == 1


def test_a_files_content_id_is_kept_when_an_earlier_file_leaves_it_out(engine) -> None:
    files = [
        {"filename": "附表4.xlsx", "content_type": XLSX, "content": b"x1"},
        {"filename": "chart.png", "content_type": "image/png", "content": b"\x89PNG", "content_id": "c1"},
    ]
    queue(engine, [message("d1", "digest", attachments=files)])
    with engine.connect() as connection:
        found = outbox_store.attachments(connection, ["d1"])["d1"]
    assert [a["content_id"] for a in found] == [None, "c1"]


def test_each_message_gets_its_own_message_id_at_queueing_in_the_senders_domain(engine) -> None:
    queue_keys(engine, [f"t{i}" for i in range(20)])
    ids = [r["message_id"] for r in rows(engine)]
    assert len(set(ids)) == 20
    assert all(i.startswith("<") and i.endswith(".cuiban@school.example>") for i in ids)


def test_the_message_id_never_changes_across_claims_releases_deferrals_and_the_final_send(engine) -> None:
    queue_keys(engine, ["t1"])
    queued_id = row(engine, "t1")["message_id"]
    seen = []
    [taken] = claim(engine, A)
    seen.append(taken["message_id"])
    release(engine, holder=A, error="paused")
    [taken] = claim(engine, B)
    seen.append(taken["message_id"])
    finish(engine, taken["id"], B, status="queued", attempts=1, next_attempt_at=NOW.add(minutes=1))
    [taken] = claim(engine, A, now=NOW.add(minutes=1))
    seen.append(taken["message_id"])
    release(engine, expired_before=NOW.add(hours=1))
    [taken] = claim(engine, B, now=NOW.add(minutes=5))
    finish(engine, taken["id"], B, status="sent", sent_at=NOW.add(minutes=5))
    seen.append(row(engine, "t1")["message_id"])
    assert seen == [queued_id] * 4


def test_a_message_queued_already_failed_is_kept_with_its_reason_and_never_claimed(engine) -> None:
    broken = message("t1", status="failed", last_error="template error: 'name' is undefined")
    assert queue(engine, [broken, message("t2")]) == 2
    failed = row(engine, "t1")
    assert (failed["status"], failed["failed_at"], failed["attempts"]) == ("failed", NOW, 0)
    assert failed["last_error"] == "template error: 'name' is undefined"
    assert keys(claim(engine, now=NOW.add(days=2))) == ["t2"]


def test_count_counts_all_messages_or_those_in_one_status(engine) -> None:
    held_by(engine, A, ["t1"])
    queue_keys(engine, ["t2", "t3"])
    with engine.connect() as connection:
        counted = [outbox_store.count(connection, s) for s in (None, "queued", "sending", "sent")]
    assert counted == [3, 2, 1, 0]


# ── send order ──


def test_claims_take_digests_then_escalations_and_reports_then_reminders_each_in_queue_order(
    engine,
) -> None:
    queue(
        engine,
        [
            message("r1"),
            message("p1", "report"),
            message("d1", "digest"),
            message("e1", "escalation"),
            message("r2"),
            message("x1", "notice"),  # a kind not named in PRIORITY goes with the reminders
            message("d2", "digest"),
        ],
    )
    assert [(r["key"], r["priority"]) for r in rows(engine)] == [
        ("r1", 2),
        ("p1", 1),
        ("d1", 0),
        ("e1", 1),
        ("r2", 2),
        ("x1", 2),
        ("d2", 0),
    ]
    assert keys(claim(engine)) == ["d1", "d2", "p1", "e1", "r1", "r2", "x1"]


def test_a_claim_with_a_limit_takes_the_first_in_send_order(engine) -> None:
    queue(
        engine, [message("r1"), message("p1", "report"), message("d1", "digest"), message("e1", "escalation")]
    )
    queue(engine, [message("r2"), message("d2", "digest")], NOW.add(minutes=1))
    assert keys(claim(engine, limit=3)) == ["d1", "d2", "p1"]
    assert keys(claim(engine, limit=3)) == ["e1", "r1", "r2"]


def test_a_digest_queued_later_goes_before_the_reminders_still_waiting(engine) -> None:
    queue_keys(engine, [f"r{i}" for i in range(5)])
    assert keys(claim(engine, limit=2)) == ["r0", "r1"]
    queue(engine, [message("d1", "digest"), message("e1", "escalation")], NOW.add(minutes=1))
    assert keys(claim(engine, limit=3, now=NOW.add(minutes=1))) == ["d1", "e1", "r2"]


# ── claims ──


def test_a_claim_takes_at_most_its_limit_and_marks_them_sending_for_its_holder_until_its_expiry(
    engine,
) -> None:
    queue_keys(engine, [f"t{i}" for i in range(7)])
    expires = datetime(2030, 1, 1, 8, tzinfo=UTC)
    taken = claim(engine, A, limit=5, expires=expires)
    assert keys(taken) == ["t0", "t1", "t2", "t3", "t4"]
    assert {(r["status"], r["claimed_by"], r["claim_expires_at"]) for r in taken} == {("sending", A, expires)}
    stored = by_key(engine)
    assert [stored[k]["status"] for k in sorted(stored)] == ["sending"] * 5 + ["queued"] * 2
    assert {stored[k]["claimed_by"] for k in ("t5", "t6")} == {None}
    assert keys(claim(engine, B, limit=5)) == ["t5", "t6"]
    assert claim(engine, B, limit=5) == []


def test_a_claim_returns_whole_rows_with_aware_utc_times(engine) -> None:
    queue(engine, [message("t1", due_at=NOW.subtract(hours=1), data={"n": 1})])
    [taken] = claim(engine)
    assert taken["created_at"] == NOW and taken["created_at"].utcoffset() == timedelta(0)
    assert taken["due_at"] == NOW.subtract(hours=1)
    assert (taken["recipient"], taken["attempts"], json.loads(taken["data"])) == (
        "t1@school.example",
        0,
        {"n": 1},
    )


def test_a_claim_takes_only_messages_whose_next_attempt_has_come(engine) -> None:
    queue_keys(engine, ["t1", "t2", "t3"])
    set_sql(engine, "t1", next_attempt_at=NOW.add(minutes=5))
    set_sql(engine, "t2", next_attempt_at=NOW)
    assert keys(claim(engine, A, now=NOW)) == ["t2", "t3"]
    assert claim(engine, A, now=NOW.add(minutes=5).subtract(seconds=1)) == []
    assert keys(claim(engine, A, now=NOW.add(minutes=5))) == ["t1"]


def test_a_claim_never_takes_messages_that_are_sending_sent_or_failed(engine) -> None:
    queue_keys(engine, ["t1", "t2", "t3", "t4"])
    for key, status in (("t1", "sending"), ("t2", "sent"), ("t3", "failed")):
        set_sql(engine, key, status=status)
    assert keys(claim(engine, B, now=NOW.add(days=30))) == ["t4"]


def test_a_claim_rolled_back_leaves_the_messages_queued(engine) -> None:
    queue_keys(engine, ["t1", "t2"])
    with pytest.raises(RuntimeError), transaction(engine) as connection:
        assert len(outbox_store.claim(connection, NOW, 10, A, NOW + LEASE)) == 2
        raise RuntimeError("the sender stopped before committing its claim")
    assert keys(claim(engine, B)) == ["t1", "t2"]


@pytest.mark.parametrize("limit", [1, 7])
def test_four_senders_claiming_at_once_never_take_the_same_message(engine, limit: int) -> None:
    """4 threads, each with its own connection, claim in a loop until the queue is empty."""
    total = 500
    queue_keys(engine, [f"t{i:03d}" for i in range(total)])
    holders = [f"host-{n}.example:{n}:{n:08x}" for n in range(4)]
    start = threading.Barrier(len(holders))
    taken: dict[str, list[int]] = {h: [] for h in holders}
    errors: list[BaseException] = []

    def sender(holder: str) -> None:
        try:
            start.wait(10)
            while batch := claim(engine, holder, limit=limit):
                taken[holder].extend(r["id"] for r in batch)
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=sender, args=(h,)) for h in holders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and not any(t.is_alive() for t in threads)
    counts = Counter(i for ids in taken.values() for i in ids)
    assert len(counts) == total and set(counts.values()) == {1}
    stored = rows(engine)
    assert {r["status"] for r in stored} == {"sending"}
    assert {r["id"]: r["claimed_by"] for r in stored} == {i: h for h, ids in taken.items() for i in ids}


# ── outcomes: applied only by the claim's holder ──


def test_a_sent_outcome_marks_the_message_sent_and_frees_the_claim(engine) -> None:
    queue_keys(engine, ["t1"])
    [taken] = claim(engine, A)
    assert finish(
        engine, taken["id"], A, status="sent", sent_at=NOW.add(seconds=3), last_error=None, late=True
    )
    sent = row(engine, "t1")
    assert (sent["status"], sent["sent_at"], sent["late"], sent["attempts"]) == (
        "sent",
        NOW.add(seconds=3),
        True,
        0,
    )
    assert (sent["claimed_by"], sent["claim_expires_at"]) == (None, None)


def test_a_permanent_failure_marks_the_message_failed_with_when_and_why(engine) -> None:
    queue_keys(engine, ["t1"])
    [taken] = claim(engine, A)
    error = "550 5.1.1 <t1@school.example>: Recipient address rejected: User unknown"
    assert finish(
        engine, taken["id"], A, status="failed", last_error=error, failed_at=NOW, next_attempt_at=None
    )
    failed = row(engine, "t1")
    assert (failed["status"], failed["failed_at"], failed["last_error"]) == ("failed", NOW, error)
    assert (failed["claimed_by"], failed["claim_expires_at"]) == (None, None)
    assert claim(engine, B, now=NOW.add(days=30)) == []


def test_a_deferral_charges_one_attempt_and_the_message_waits_for_its_next_attempt(engine) -> None:
    queue_keys(engine, ["t1"])
    [taken] = claim(engine, A)
    later = NOW.add(minutes=1)
    assert finish(
        engine,
        taken["id"],
        A,
        status="queued",
        attempts=1,
        last_error="452 Mailbox full",
        next_attempt_at=later,
    )
    deferred = row(engine, "t1")
    assert (deferred["status"], deferred["attempts"], deferred["next_attempt_at"]) == ("queued", 1, later)
    assert (deferred["last_error"], deferred["claimed_by"]) == ("452 Mailbox full", None)
    assert claim(engine, B, now=later.subtract(microseconds=1)) == []
    [again] = claim(engine, B, now=later)
    assert (again["attempts"], again["message_id"]) == (1, taken["message_id"])


def test_an_outcome_is_committed_at_once_without_a_transaction_around_it(engine) -> None:
    queue_keys(engine, ["t1"])
    [taken] = claim(engine, A)
    outcomes = Outcomes(engine)
    try:
        assert outcomes.finish(taken["id"], A, status="sent", sent_at=NOW)
        assert row(engine, "t1")["status"] == "sent"  # read on another connection, before close()
    finally:
        outcomes.close()


def test_a_claim_by_one_holder_cannot_be_finished_released_or_renewed_by_another(engine) -> None:
    queue_keys(engine, ["t1"])
    [taken] = claim(engine, A, expires=NOW + LEASE)
    assert not finish(engine, taken["id"], B, status="sent", sent_at=NOW)
    assert release(engine, holder=B) == 0
    with transaction(engine) as connection:
        outbox_store.renew(connection, B, NOW.add(hours=1))
    held = row(engine, "t1")
    assert (held["status"], held["claimed_by"], held["claim_expires_at"]) == ("sending", A, NOW + LEASE)
    assert finish(engine, taken["id"], A, status="sent", sent_at=NOW)


def test_the_outcome_of_a_claim_that_was_given_back_and_taken_by_another_is_not_applied(engine) -> None:
    queue_keys(engine, ["t1"])
    [first] = claim(engine, A, expires=NOW + LEASE)
    assert release(engine, expired_before=NOW + LEASE + timedelta(seconds=1)) == 1  # A's lease ran out
    [second] = claim(engine, B, expires=NOW.add(minutes=10))
    assert not finish(engine, first["id"], A, status="queued", attempts=1, next_attempt_at=NOW.add(minutes=1))
    held = row(engine, "t1")
    assert (held["status"], held["claimed_by"], held["attempts"]) == ("sending", B, 0)
    assert finish(engine, second["id"], B, status="sent", sent_at=NOW)
    assert row(engine, "t1")["status"] == "sent"


def test_the_outcome_of_a_claim_given_back_to_the_queue_is_not_applied(engine) -> None:
    queue_keys(engine, ["t1"])
    [taken] = claim(engine, A)
    release(engine, holder=A, error="paused")
    assert not finish(engine, taken["id"], A, status="sent", sent_at=NOW)
    assert row(engine, "t1")["status"] == "queued"


def test_an_outcome_is_recorded_once(engine) -> None:
    queue_keys(engine, ["t1"])
    [taken] = claim(engine, A)
    assert finish(engine, taken["id"], A, status="sent", sent_at=NOW)
    assert not finish(engine, taken["id"], A, status="failed", failed_at=NOW, last_error="late echo")
    assert (row(engine, "t1")["status"], row(engine, "t1")["failed_at"]) == ("sent", None)


# ── leases: renewal, expiry, dead holders ──


def test_renewing_extends_only_the_holders_own_claims(engine) -> None:
    held_by(engine, A, ["a1", "a2"])
    held_by(engine, B, ["b1"])
    held_by(engine, A, ["a3"])
    finish(engine, row(engine, "a3")["id"], A, status="sent", sent_at=NOW)
    later = NOW.add(minutes=30)
    with transaction(engine) as connection:
        outbox_store.renew(connection, A, later)
    stored = by_key(engine)
    assert {k: stored[k]["claim_expires_at"] for k in stored} == {
        "a1": later,
        "a2": later,
        "b1": NOW + LEASE,
        "a3": None,
    }


def test_renewing_a_claim_already_given_back_does_not_take_it_again(engine) -> None:
    held_by(engine, A, ["t1"], expires=NOW + LEASE)
    release(engine, expired_before=NOW.add(hours=1))
    with transaction(engine) as connection:
        outbox_store.renew(connection, A, NOW.add(hours=2))
    again = row(engine, "t1")
    assert (again["status"], again["claimed_by"], again["claim_expires_at"]) == ("queued", None, None)


def test_an_expired_claim_is_given_back_uncharged_with_its_message_id_and_the_reason(engine) -> None:
    held_by(engine, A, ["t1"], expires=NOW.add(minutes=1))
    held_by(engine, B, ["t2"], expires=NOW.add(minutes=3))
    queue_keys(engine, ["t3"])
    before = by_key(engine)
    reason = "given back: the sender holding it stopped before recording the outcome"
    assert release(engine, expired_before=NOW.add(minutes=2), error=reason) == 1
    after = by_key(engine)
    assert (after["t1"]["status"], after["t1"]["claimed_by"], after["t1"]["claim_expires_at"]) == (
        "queued",
        None,
        None,
    )
    assert (after["t1"]["attempts"], after["t1"]["last_error"]) == (0, reason)
    assert after["t1"]["message_id"] == before["t1"]["message_id"]
    assert (after["t2"]["status"], after["t2"]["claimed_by"]) == ("sending", B)
    assert keys(claim(engine, B)) == ["t1", "t3"]


def test_a_claim_expiring_exactly_now_is_still_its_holders(engine) -> None:
    queue_keys(engine, ["t1"])
    claim(engine, A, expires=NOW)
    assert release(engine, expired_before=NOW) == 0
    assert release(engine, expired_before=NOW.add(microseconds=1)) == 1


def test_giving_back_without_saying_whose_gives_back_nothing(engine) -> None:
    queue_keys(engine, ["t1"])
    claim(engine, A)
    assert release(engine) == 0 and release(engine, dead=[]) == 0
    assert (row(engine, "t1")["status"], row(engine, "t1")["claimed_by"]) == ("sending", A)


def test_holders_lists_each_sender_holding_a_claim_once(engine) -> None:
    held_by(engine, A, ["t1", "t2"])
    held_by(engine, B, ["t3"])
    queue_keys(engine, ["t4"])
    with engine.connect() as connection:
        assert sorted(outbox_store.holders(connection)) == [A, B]
    finish(engine, row(engine, "t3")["id"], B, status="sent", sent_at=NOW)
    with engine.connect() as connection:
        assert outbox_store.holders(connection) == [A]


def test_a_dead_holder_on_this_host_is_given_back_at_once_and_a_live_one_is_not(engine) -> None:
    dead, alive = dead_holder(), holder_name()
    far = NOW.add(days=1)  # no claim has expired
    held_by(engine, dead, ["t1", "t2"], expires=far)
    held_by(engine, alive, ["t3"], expires=far)
    held_by(engine, B, ["t4"], expires=far)  # another host: judged by expiry alone
    with engine.connect() as connection:
        found = [h for h in outbox_store.holders(connection) if holder_is_dead(h)]
    assert found == [dead]
    assert release(engine, dead=found, expired_before=NOW) == 2
    assert {k: (r["status"], r["claimed_by"]) for k, r in by_key(engine).items()} == {
        "t1": ("queued", None),
        "t2": ("queued", None),
        "t3": ("sending", alive),
        "t4": ("sending", B),
    }


def test_a_holder_gives_back_only_its_own_claims_when_it_stops(engine) -> None:
    held_by(engine, A, ["t1", "t2"])
    held_by(engine, B, ["t3"])
    assert release(engine, holder=A, error="421 4.7.0 Try again later") == 2
    stored = by_key(engine)
    assert [(stored[k]["status"], stored[k]["attempts"], stored[k]["last_error"]) for k in ("t1", "t2")] == [
        ("queued", 0, "421 4.7.0 Try again later")
    ] * 2
    assert (stored["t3"]["status"], stored["t3"]["last_error"]) == ("sending", None)


def test_giving_back_without_a_reason_keeps_the_last_error(engine) -> None:
    queue_keys(engine, ["t1"])
    [taken] = claim(engine, A)
    finish(
        engine,
        taken["id"],
        A,
        status="queued",
        attempts=1,
        last_error="452 Mailbox full",
        next_attempt_at=NOW,
    )
    claim(engine, A)
    release(engine, holder=A)
    assert (row(engine, "t1")["status"], row(engine, "t1")["last_error"]) == ("queued", "452 Mailbox full")


# ── queueing a failed message again (what `cuiban outbox retry` does with the store) ──


def test_a_failed_message_marked_queued_again_is_claimable_at_once_with_its_message_id(engine) -> None:
    held_by(engine, A, ["t1"])
    failed = row(engine, "t1")
    finish(engine, failed["id"], A, status="failed", failed_at=NOW, last_error="550 User unknown")
    with transaction(engine) as connection:
        outbox_store.mark(connection, failed["id"], status="queued", attempts=0, next_attempt_at=None)
        assert outbox_store.failed_since(connection, NOW) == []
    [again] = claim(engine, B, now=NOW.add(minutes=1))
    assert (again["key"], again["attempts"], again["message_id"]) == ("t1", 0, failed["message_id"])


def test_retry_by_hand_starts_a_failed_message_afresh_and_hurries_a_waiting_one(engine) -> None:
    held_by(engine, A, ["t1", "t2"])
    failed, waiting = row(engine, "t1"), row(engine, "t2")
    finish(engine, failed["id"], A, status="failed", failed_at=NOW, last_error="550 User unknown")
    later = NOW.add(hours=1)
    finish(engine, waiting["id"], A, status="queued", attempts=3, next_attempt_at=later, last_error="451")
    assert retry(engine, [failed["id"], waiting["id"]]) == 2
    again = {r["key"]: r for r in claim(engine, B, now=NOW.add(minutes=1))}
    assert {k: (r["attempts"], r["message_id"]) for k, r in again.items()} == {
        "t1": (0, failed["message_id"]),
        "t2": (3, waiting["message_id"]),
    }


@pytest.mark.parametrize("status", ["sending", "sent"])
def test_retry_by_hand_refuses_a_message_being_sent_or_sent_and_changes_nothing(engine, status) -> None:
    held_by(engine, A, ["t1", "t2"])
    failed, other = row(engine, "t1"), row(engine, "t2")
    finish(engine, failed["id"], A, status="failed", failed_at=NOW, last_error="550 User unknown")
    if status == "sent":
        finish(engine, other["id"], A, status="sent", sent_at=NOW)
    said = f"being sent now \\(by {A}\\)" if status == "sending" else "already sent"
    with pytest.raises(Refusal, match=f"message {other['id']} is {said}"):
        retry(engine, [failed["id"], other["id"]])
    assert (row(engine, "t1")["status"], row(engine, "t2")["status"]) == ("failed", status)  # all or nothing


# ── the sender-wide pause ──


def test_a_pause_is_stored_with_its_end_and_reason_and_a_new_one_replaces_it(engine) -> None:
    with engine.connect() as connection:
        assert outbox_store.pause_until(connection, SENDER) is None
    with transaction(engine) as connection:
        outbox_store.set_pause(connection, SENDER, NOW.add(minutes=10), "550 Ip frequency limited")
        outbox_store.set_pause(connection, "other", NOW.add(hours=1), "quota")
    with transaction(engine) as connection:
        outbox_store.set_pause(connection, SENDER, NOW.add(minutes=60), "554 5.2.0 STOREDRV quota")
    with engine.connect() as connection:
        assert outbox_store.pause_until(connection, SENDER) == (
            NOW.add(minutes=60),
            "554 5.2.0 STOREDRV quota",
        )
        assert outbox_store.pause_until(connection, "other") == (NOW.add(hours=1), "quota")


def _pause(engine: Engine, until: datetime, reason: str = "550 Ip frequency limited") -> None:
    with transaction(engine) as connection:
        outbox_store.set_pause(connection, SENDER, until, reason)


def _sent_message_ids(folder: Path) -> list[str]:
    return [BytesParser().parsebytes(p.read_bytes())["Message-ID"] for p in sorted(folder.glob("*.eml"))]


def test_a_run_during_the_pause_claims_nothing_charges_nothing_and_says_until_when(engine, tmp_path) -> None:
    queue_keys(engine, ["t1", "t2", "t3"])
    until = NOW.add(minutes=10)
    _pause(engine, until)
    report = dispatch(engine, FileTransport(tmp_path / "out"), lambda: until.subtract(seconds=1))
    assert (report.sent, report.retried, report.failed) == (0, 0, 0)
    said = re.fullmatch(
        r"550 Ip frequency limited \(paused until (\S+); 3 messages wait for it\)", report.paused
    )
    assert said and datetime.fromisoformat(said[1]) == until
    assert said[1].endswith("+08:00")  # in the campaign's zone, as the run that paused said it
    assert [(r["status"], r["attempts"], r["claimed_by"]) for r in rows(engine)] == [("queued", 0, None)] * 3
    assert not (tmp_path / "out").exists()


def test_the_pause_ends_at_its_time_and_everything_goes_once_uncharged(engine, tmp_path) -> None:
    queue_keys(engine, ["t1", "t2", "t3"])
    ids = [r["message_id"] for r in rows(engine)]
    until = NOW.add(minutes=10)
    _pause(engine, until)
    report = dispatch(engine, FileTransport(tmp_path / "out"), lambda: until)
    assert (report.sent, report.retried, report.paused) == (3, 0, None)
    assert [(r["status"], r["attempts"], r["sent_at"]) for r in rows(engine)] == [("sent", 0, until)] * 3
    assert _sent_message_ids(tmp_path / "out") == ids


def test_a_pause_met_while_sending_gives_back_the_batch_uncharged_and_records_the_pause(
    engine, tmp_path
) -> None:
    queue_keys(engine, ["t1", "t2", "t3"])
    (tmp_path / "a-file").write_text("not a folder")
    folder = tmp_path / "a-file" / "out"  # cannot be made: the sender as a whole must stop
    report = dispatch(engine, FileTransport(folder), lambda: NOW)
    assert (report.sent, report.retried, report.failed) == (0, 3, 0)
    stored = rows(engine)
    assert [(r["status"], r["attempts"], r["claimed_by"]) for r in stored] == [("queued", 0, None)] * 3
    assert {r["last_error"] for r in stored} == {f"cannot write to {folder}: Not a directory"}
    with engine.connect() as connection:
        assert outbox_store.pause_until(connection, SENDER) == (
            NOW + OUTAGE_COOL_DOWN,
            f"cannot write to {folder}: Not a directory",
        )


# ── what a run gives back before it claims: dead and expired senders' claims ──


def test_a_run_gives_back_and_sends_what_a_dead_sender_on_this_host_held_with_the_same_message_ids(
    engine, tmp_path
) -> None:
    held_by(engine, dead_holder(), ["t1", "t2"], expires=datetime.now(UTC) + timedelta(days=1))
    queue_keys(engine, ["t3"])
    ids = [r["message_id"] for r in rows(engine)]
    report = dispatch(engine, FileTransport(tmp_path / "out"), lambda: NOW)
    assert (report.released, report.sent) == (2, 3)
    assert _sent_message_ids(tmp_path / "out") == ids


def test_a_run_gives_back_what_an_expired_sender_held_and_leaves_a_live_claim_alone(engine, tmp_path) -> None:
    """Claims expire on the host's clock: the run compares with real time, whatever `now` it sends at."""
    held_by(engine, A, ["t1"], expires=datetime.now(UTC) - timedelta(seconds=1))
    held_by(engine, B, ["t2"], expires=datetime.now(UTC) + timedelta(hours=1))
    queue_keys(engine, ["t3"])
    report = dispatch(engine, FileTransport(tmp_path / "out"), lambda: NOW)
    assert (report.released, report.sent) == (1, 2)
    assert {k: (r["status"], r["claimed_by"]) for k, r in by_key(engine).items()} == {
        "t1": ("sent", None),
        "t2": ("sending", B),
        "t3": ("sent", None),
    }


def test_a_run_holds_nothing_when_it_ends(engine, tmp_path) -> None:
    queue_keys(engine, [f"t{i}" for i in range(5)])
    report = dispatch(engine, FileTransport(tmp_path / "out"), lambda: NOW, batch=2)
    assert report.sent == 5
    with engine.connect() as connection:
        assert outbox_store.holders(connection) == []


# ── what the tick and the digest read back ──


def test_existing_keys_finds_known_keys_among_more_than_a_thousand(engine) -> None:
    known = [f"k{i:04d}" for i in range(1500)]
    queue_keys(engine, known)
    asked = known[::2] + [f"new{i:04d}" for i in range(1000)]
    with engine.connect() as connection:
        assert outbox_store.existing_keys(connection, asked) == set(known[::2])
        assert outbox_store.existing_keys(connection, []) == set()


def test_keys_since_are_the_keys_queued_from_that_moment_on(engine) -> None:
    queue_keys(engine, ["old"], now=NOW.subtract(days=1))
    queue_keys(engine, ["now"], now=NOW)
    queue_keys(engine, ["new"], now=NOW.add(hours=1))
    with engine.connect() as connection:
        assert outbox_store.keys_since(connection, NOW) == {"now", "new"}


def test_reminded_gives_each_tasks_newest_reminder_slot_and_when_it_was_decided(engine) -> None:
    def reminder(key: str, task: str, due: datetime) -> dict[str, Any]:
        return message(key, task_key=task, due_at=due)

    queue(engine, [reminder("r0", "filling/a", NOW.subtract(days=3))], NOW.subtract(days=3))  # before `since`
    queue(engine, [reminder("r1", "filling/a", NOW.subtract(days=1))], NOW.subtract(days=1))
    queue(engine, [reminder("r2", "filling/a", NOW.subtract(hours=2))], NOW.subtract(hours=3))
    queue(engine, [reminder("r3", "filling/b", NOW.subtract(days=2))], NOW.subtract(hours=1))
    queue(engine, [message("r4", task_key="filling/c", due_at=None)], NOW)  # no slot: not counted
    queue(engine, [message("e1", "escalation", task_key="filling/d", due_at=NOW)], NOW)  # not a reminder
    queue(engine, [reminder("r5", "filling/e", NOW.subtract(days=9))], NOW.subtract(days=9))  # too old
    with engine.connect() as connection:
        found = outbox_store.reminded(connection, NOW.subtract(days=2))
    assert found == {
        "filling/a": (NOW.subtract(hours=2), NOW.subtract(hours=3)),
        "filling/b": (NOW.subtract(days=2), NOW.subtract(hours=1)),
    }
    assert all(t.utcoffset() == timedelta(0) for pair in found.values() for t in pair)


def test_failed_since_lists_messages_by_when_they_failed_however_old(engine) -> None:
    queue_keys(engine, ["t1", "t2", "t3"], now=NOW.subtract(days=5))
    queue(engine, [message("t4", status="failed", last_error="template error")], NOW)
    for key, failed_at in (("t1", NOW.subtract(days=2)), ("t2", NOW.subtract(days=1)), ("t3", None)):
        set_sql(engine, key, status="failed" if failed_at else "queued", failed_at=failed_at)
    with engine.connect() as connection:
        assert keys(outbox_store.failed_since(connection, NOW.subtract(days=1))) == ["t2", "t4"]


def test_late_since_counts_the_messages_sent_late_from_that_moment_on(engine) -> None:
    queue_keys(engine, ["t1", "t2", "t3", "t4"])
    for key, sent_at, late in (
        ("t1", NOW.subtract(days=2), True),
        ("t2", NOW.subtract(hours=1), True),
        ("t3", NOW, True),
        ("t4", NOW, False),
    ):
        set_sql(engine, key, status="sent", sent_at=sent_at, late=late)
    with engine.connect() as connection:
        assert outbox_store.late_since(connection, NOW.subtract(days=1)) == 2


def test_the_latest_digest_before_a_day_gives_its_figures(engine) -> None:
    queue(
        engine,
        [
            message("d14", "digest", slot="2016-12-14", data={"day": 14}),
            message("d15", "digest", slot="2016-12-15", data={"day": 15}),
            message("d16", "digest", slot="2016-12-16", data={"day": 16}),
            message("r15", slot="2016-12-15", data={"day": "reminder"}),
        ],
    )
    with engine.connect() as connection:
        assert outbox_store.latest_digest_before(connection, "2016-12-16") == {"day": 15}
        assert outbox_store.latest_digest_before(connection, "2016-12-14") is None
