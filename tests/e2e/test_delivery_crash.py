"""`cuiban outbox send` and `cuiban tick` as separate OS processes against a real SMTP server.

Two senders at once, two ticks at once (20 times each, on SQLite and PostgreSQL), and a
sender killed after the server accepted a message but before it could record it.
The processes run the `cuiban` entry point forked from one that imported it once
(`tests.delivery_support.Cuiban`): each is a real process with its own PID, database
connections and SMTP connection, started in a tenth of a second.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections import Counter
from pathlib import Path

from cuiban.services.dispatch import CLAIM_LEASE
from tests.conftest import MINIMAL_PLAN, url_of
from tests.delivery_support import (
    Cuiban,
    Provider,
    local,
    many_departments_plan,
    message,
    outbox_rows,
    queue_messages,
    serving,
    smtp_environment,
    statuses,
    wait_until,
)

REPEAT = 20
DEPARTMENTS = 7
"""A tick a day queues 2 overdue reminders per department and the coordinator's: 15 messages."""


def _sent(output: str) -> int:
    return int(re.search(r"^sent (\d+), to retry 0, failed 0", output, re.MULTILINE)[1])


def _queued(output: str) -> int:
    """Every kind the tick's line counts (`queued: 3 reminder, 0 escalation, … 2 combined, …`)."""
    line = re.search(r"queued: ([^\n]*)", output)
    assert line is not None, output
    return sum(int(n) for n in re.findall(r"(\d+) \w+", line.group(1)))


def _all_arrived_once(provider: Provider, engine) -> None:
    rows = outbox_rows(engine)
    ids = provider.message_ids()
    assert len(ids) == len(set(ids)) == len(rows)
    assert set(ids) == {r["message_id"] for r in rows}
    assert statuses(engine) == {"sent": len(rows)}


def test_two_senders_and_two_ticks_at_once_send_every_message_exactly_once(engine, tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        many_departments_plan(
            DEPARTMENTS,
            **{
                "end: 2016-12-30": "end: 2017-01-31",
                "working_days_only: true": "working_days_only: false",  # an overdue reminder every day
                "repeat_while_overdue: true}": "repeat_while_overdue: true, combine: false}",  # a mail each
                "start: 2016-12-02\n    due: 2016-12-15": "due: 2016-11-30",
                "start: 2016-12-15\n    due: 2016-12-19": "due: 2016-11-30",
            },
        ),
        encoding="utf-8",
    )
    provider = Provider()
    with serving(provider) as port:
        cuiban = Cuiban(
            tmp_path, {"CUIBAN_PLAN": str(plan), "CUIBAN_DB": url_of(engine), **smtp_environment(port)}
        )
        per_round, waited = [], 0
        for n in range(REPEAT):
            now = local(2016, 12, 1 + n, 8)  # before the digest's 08:30: the tick's reminders and escalations
            messages = [message(f"{n}-d", "digest", "coord@school.example")]
            messages += [message(f"{n}-e{i}", "escalation", f"h{i:02d}@school.example") for i in range(2)]
            messages += [message(f"{n}-r{i}", "reminder", f"x{n}.{i}@school.example") for i in range(12)]
            queue_messages(engine, messages, now)
            before = len(provider.arrived)
            at_once = [  # sending reads the plan for its time zone only: the small one will do
                cuiban.start("outbox", "send", "--now", now.isoformat(), CUIBAN_PLAN=str(MINIMAL_PLAN))
                for _ in range(2)
            ]
            at_once += [cuiban.start("tick", "--now", now.isoformat()) for _ in range(2)]
            results = [process.wait() for process in at_once]
            assert [code for code, _ in results] == [0, 0, 0, 0], results
            queued = sorted(_queued(out) for _, out in results[2:])
            arrived = len(provider.arrived) - before
            assert queued[0] == 0 and arrived == len(messages) + queued[1]  # one tick found it all decided
            assert sum(_sent(out) for _, out in results) == arrived
            assert statuses(engine) == {"sent": len(outbox_rows(engine))}  # nothing left "sending"
            per_round.append(queued[1])
            waited += any("is running; waiting" in out for _, out in results[2:])
    assert per_round == [17, 29, 43] + [15] * (REPEAT - 3)  # escalations on the first three days
    assert waited > 0  # the ticks did overlap: one said so and waited for the other
    _all_arrived_once(provider, engine)


def test_a_sender_killed_after_the_server_accepted_resends_only_that_message_with_its_message_id(
    engine, tmp_path: Path
) -> None:
    now = local(2016, 12, 16, 9)
    messages = [message("d", "digest", "coord@school.example")]
    messages += [message(f"r{i}", "reminder", f"t{i}@school.example") for i in range(7)]
    queue_messages(engine, messages, now)
    provider = Provider(hold_at=3)  # the 3rd message is accepted, and the reply held until the kill
    with serving(provider) as port:
        cuiban = Cuiban(
            tmp_path,
            {"CUIBAN_PLAN": str(MINIMAL_PLAN), "CUIBAN_DB": url_of(engine), **smtp_environment(port)},
        )
        sender = cuiban.start("outbox", "send", "--now", now.isoformat())
        wait_until(provider.held.is_set, timeout=60)
        os.kill(sender.pid, signal.SIGKILL)
        code, _ = sender.wait()
        assert code == -signal.SIGKILL
        provider.release.set()
        assert statuses(engine) == {"sent": 2, "sending": 6}  # the dead sender's claims

        began = time.monotonic()
        code, output = cuiban.run("outbox", "send", "--now", now.add(minutes=1).isoformat())
        took = time.monotonic() - began
    assert code == 0, output
    assert output.startswith("sent 6, to retry 0, failed 0 (6 given back from a sender that had died)")
    assert took < 10 < CLAIM_LEASE.total_seconds()  # at once, not when the claims would have expired
    assert statuses(engine) == {"sent": 8}
    held = outbox_rows(engine)[2]
    twice = Counter(provider.message_ids())
    assert len(provider.arrived) == 9
    assert {mid: n for mid, n in twice.items() if n > 1} == {held["message_id"]: 2}
    assert set(twice) == {r["message_id"] for r in outbox_rows(engine)}
