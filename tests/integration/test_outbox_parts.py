"""The parts of combined mails (migration 0012, `outbox_part`): each task's reminder or escalation in a
person's combined mail is kept under the key its own message would have had, and the outbox's
questions — which keys are queued, which were decided lately, which reminder slot a task was last
sent — read the parts as they read messages. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pendulum
from alembic import command
from sqlalchemy import inspect, text

from cuiban.models import outbox_store
from cuiban.models.database import alembic_config

TZ = "Asia/Shanghai"
NOW = pendulum.datetime(2016, 12, 16, 9, 5, tz=TZ)
SLOT = pendulum.datetime(2016, 12, 16, 9, 0, tz=TZ)


def _combined(key: str, parts: list[tuple[str, str, str]]) -> dict:
    return {
        "key": key,
        "kind": "combined",
        "recipient": "c.a@school.example",
        "recipient_name": "甲采集",
        "slot": "2016-12-16 09:00",
        "subject": "催办：您今天有 2 项待办",
        "body_text": "…",
        "body_html": "<p>…</p>",
        "due_at": SLOT,
        "parts": [
            {"key": k, "kind": kind, "task_key": task, "slot": "before-0", "due_at": SLOT}
            for k, kind, task in parts
        ],
    }


PARTS = [
    ("reminder|filling/dept_a|c.a@school.example|before-0", "reminder", "filling/dept_a"),
    ("escalation|audit/dept_a|c.a@school.example|level-1", "escalation", "audit/dept_a"),
]


def test_migration_0012_adds_the_parts_table_and_takes_it_away_again(engine) -> None:
    config = alembic_config()
    assert "outbox_part" in inspect(engine).get_table_names()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0011")
    assert "outbox_part" not in inspect(engine).get_table_names()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    columns = {c["name"] for c in inspect(engine).get_columns("outbox_part")}
    assert {"cycle", "key", "outbox_key", "kind", "task_key", "slot", "due_at", "created_at"} <= columns


def test_a_combined_mails_parts_are_the_memory_of_what_was_sent(engine) -> None:
    with engine.begin() as connection:
        message = _combined("combined|c.a@school.example|2016-12-16 09:00", PARTS)
        assert outbox_store.queue(connection, [message], NOW, cycle=2016) == 1
        assert outbox_store.queue(connection, [message], NOW, cycle=2016) == 0  # again: nothing
        keys = [k for k, _, _ in PARTS]
        assert outbox_store.existing_keys(connection, [*keys, "reminder|x|y|z"], 2016) == set(keys)
        assert outbox_store.existing_keys(connection, keys, 2017) == set()  # next year's are its own
        since = NOW - timedelta(days=60)
        assert set(keys) | {message["key"]} == outbox_store.keys_since(connection, since, 2016)
        reminded = outbox_store.reminded(connection, since, 2016)
        assert set(reminded) == {"filling/dept_a"}  # the escalation is no reminder
        assert reminded["filling/dept_a"][0] == SLOT
        parts = connection.execute(text("SELECT count(*) FROM outbox_part")).scalar()
        assert parts == 2 and outbox_store.count(connection) == 1


def test_the_newest_reminder_counts_whether_alone_or_in_a_combined_mail(engine) -> None:
    later = SLOT.add(days=1)
    alone = {
        **_combined("reminder|filling/dept_a|h.a@school.example|overdue-2016-12-17", []),
        "kind": "reminder",
        "task_key": "filling/dept_a",
        "due_at": later,
    }
    del alone["parts"]
    with engine.begin() as connection:
        outbox_store.queue(
            connection, [_combined("combined|c.a@school.example|2016-12-16 09:00", PARTS)], NOW, cycle=2016
        )
        outbox_store.queue(connection, [alone], NOW.add(days=1), cycle=2016)
        reminded = outbox_store.reminded(connection, NOW - timedelta(days=60), 2016)
    assert reminded["filling/dept_a"] == (later, NOW.add(days=1))


def test_teacher_mails_are_counted_for_the_digest_and_kept_out_of_the_tasks_memory(engine) -> None:
    teacher = {
        **_combined("teacher|000101|2016-12-16", []),
        "kind": "teacher",
        "recipient": "t101@school.example",
        "data": {"cc": ["c.a@school.example"]},
    }
    del teacher["parts"]
    with engine.begin() as connection:
        outbox_store.queue(connection, [teacher], NOW, cycle=2016)
        assert outbox_store.queued_between(connection, "teacher", NOW - timedelta(days=1), NOW, 2016) == 1
        assert outbox_store.queued_between(connection, "teacher", NOW, NOW.add(days=1), 2016) == 0
        assert outbox_store.keys_since(connection, NOW - timedelta(days=1), 2016) == set()
        assert outbox_store.existing_keys(connection, ["teacher|000101|2016-12-16"], 2016)
        row = outbox_store.rows(connection, kind="teacher", cycle=2016)[0]
        assert row["priority"] == 3 and '"cc"' in row["data"]
