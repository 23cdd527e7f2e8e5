"""A template that fails at tick time fails only the messages that use it; the tick goes on.

The failed messages are kept (status failed, the problem named with file and line), the
digest lists them, and a broken digest template falls back to the built-in one.
"""

from __future__ import annotations

from pathlib import Path

from cuiban.models import outbox_store
from cuiban.notifications.render import Renderer
from cuiban.notifications.transports import FileTransport
from cuiban.planfile.loader import load_plan
from cuiban.services.tick_and_send import tick_and_send
from tests.conftest import MINIMAL_PLAN
from tests.integration.test_catch_up_tick import _setup
from tests.integration.test_tick_campaign import at


def _with_override(tmp_path: Path, files: dict[str, str]):
    folder = tmp_path / "my-templates"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    text = MINIMAL_PLAN.read_text(encoding="utf-8") + "templates: my-templates\n"
    path = tmp_path / "plan.yaml"
    path.write_text(text, encoding="utf-8")
    return text


def test_a_broken_reminder_template_fails_only_reminders_and_the_digest_says_so(
    sqlite_engine, tmp_path: Path
) -> None:
    text = _with_override(tmp_path, {"reminder.txt": "您好 {{ recipient.name }}\n{{ task.titel }}\n"})
    plan, calendar = _setup(sqlite_engine, tmp_path, text)
    renderer = Renderer("zh", tmp_path / "my-templates")
    done = tick_and_send(
        sqlite_engine, plan, calendar, renderer, FileTransport(tmp_path / "outbox"), at("12-16", "09:30")
    )
    failed = done.tick.template_failures
    assert failed == done.tick.queued["reminder"] == 4  # overdue filling ×2, audit due tomorrow ×2
    with sqlite_engine.connect() as connection:
        rows = outbox_store.rows(connection)
    by_kind = {kind: [r for r in rows if r["kind"] == kind] for kind in ("reminder", "escalation", "digest")}
    assert {r["status"] for r in by_kind["reminder"]} == {"failed"}
    assert all("reminder.txt:2" in r["last_error"] for r in by_kind["reminder"])
    assert {r["status"] for r in by_kind["escalation"] + by_kind["digest"]} == {"sent"}
    assert done.sent.sent == len(by_kind["escalation"]) + len(by_kind["digest"])
    digest = by_kind["digest"][0]["body_text"]
    assert f"未能送达的邮件（{failed}）" in digest and "reminder.txt:2" in digest


def test_a_broken_digest_template_falls_back_to_the_built_in_one(sqlite_engine, tmp_path: Path) -> None:
    text = _with_override(tmp_path, {"digest.subject.txt": "{{ ''.__class__.__mro__ }}"})
    plan, calendar = _setup(sqlite_engine, tmp_path, text)
    renderer = Renderer("zh", tmp_path / "my-templates")
    done = tick_and_send(
        sqlite_engine, plan, calendar, renderer, FileTransport(tmp_path / "outbox"), at("12-16", "09:30")
    )
    assert done.tick.queued["digest"] == 1 and done.tick.template_failures == 0
    with sqlite_engine.connect() as connection:
        digest = outbox_store.rows(connection, kind="digest")[0]
    assert digest["status"] == "sent" and digest["subject"].startswith("【进度日报】")
    assert "digest.subject.txt:1" in digest["body_text"]
    assert load_plan(tmp_path / "plan.yaml")[0].templates == "my-templates"
