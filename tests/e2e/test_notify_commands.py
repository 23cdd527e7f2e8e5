"""tick, outbox, digest and templates through the command line, sending to the .eml folder."""

from __future__ import annotations

import email
import json
from email import policy
from pathlib import Path

import pytest
from click.testing import CliRunner

from cuiban.cli.main import cuiban
from tests.conftest import SHIPPED_PLAN
from tests.factories import ROSTER_HEADER, roster, write_csv


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    path = write_csv(tmp_path / "roster.csv", ROSTER_HEADER, roster(["新闻传播学院", "音乐学院"], 3))
    env = {
        "CUIBAN_PLAN": str(SHIPPED_PLAN),
        "CUIBAN_DB": f"sqlite:///{tmp_path / 'n.sqlite3'}",
        "CUIBAN_OUTBOX_DIR": str(tmp_path / "outbox"),
        "CUIBAN_SMTP_HOST": "",
    }
    assert run(env, "roster", "import", str(path), "--now", "2016-11-28T10:00+08:00").exit_code == 0
    return env


def run(env: dict[str, str], *args: str):
    return CliRunner().invoke(cuiban, list(args), env=env, catch_exceptions=False)


def test_tick_writes_eml_files_once(env: dict[str, str]) -> None:
    first = run(env, "tick", "--now", "2016-12-12T09:30+08:00")
    assert first.exit_code == 0, first.stderr
    sent = int(first.stdout.split("sent ")[1].split(",")[0])
    files = sorted(Path(env["CUIBAN_OUTBOX_DIR"]).glob("*.eml"))
    assert sent > 0 and len(files) == sent
    again = run(env, "tick", "--now", "2016-12-12T17:00+08:00")
    assert "queued: 0 reminder, 0 escalation, 0 digest" in again.stdout and "sent 0" in again.stdout
    reminder = next(f for f in files if "reminder" in f.name)
    message = email.message_from_bytes(reminder.read_bytes(), policy=policy.default)
    assert message.get_body(("plain",)).get_content().startswith(message["To"].addresses[0].display_name)


def test_outbox_list_show_and_retry(env: dict[str, str]) -> None:
    run(env, "tick", "--now", "2016-12-12T09:30+08:00", "--no-send")
    listed = json.loads(run(env, "outbox", "list", "--format", "json", "--kind", "digest").stdout)
    assert {m["status"] for m in listed} == {"queued"} and listed[0]["slot"] == "2016-12-12"
    shown = run(env, "outbox", "show", str(listed[0]["id"]))
    assert "进度日报" in shown.stdout
    assert "sent" in run(env, "outbox", "send", "--now", "2016-12-12T09:31+08:00").stdout
    refused = run(env, "outbox", "retry", str(listed[0]["id"]))
    assert refused.exit_code == 2 and "already sent" in refused.stderr


def test_digest_formats(env: dict[str, str]) -> None:
    doc = json.loads(run(env, "digest", "--now", "2016-12-12T09:30+08:00", "--format", "json").stdout)
    assert set(doc) == {
        "date",
        "generated_at",
        "totals",
        "units",
        "due_today",
        "due_this_week",
        "overdue",
        "behind",
        "failed_messages",
        "late_messages",
        "teacher_reminders",
    }
    news = next(u for u in doc["units"] if u["name"] == "新闻传播学院")
    assert (news["teachers"], news["filled"], news["not_filled"]) == (3, 0, 3)
    assert "附表6口径" in run(env, "digest", "--now", "2016-12-12T09:30+08:00").stdout
    assert "<svg" in run(env, "digest", "--now", "2016-12-12T09:30+08:00", "--format", "html").stdout


def test_templates_check(env: dict[str, str], tmp_path: Path) -> None:
    assert run(env, "templates", "check").stdout.startswith("OK: templates for zh")
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "digest.html").write_text("<p>\n{{ digest.date }\n</p>", encoding="utf-8")
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        SHIPPED_PLAN.read_text(encoding="utf-8").replace("language: zh\n", "language: zh\ntemplates: mine\n"),
        encoding="utf-8",
    )
    result = run(env, "templates", "check", "--plan", str(plan))
    assert result.exit_code == 2 and "digest.html:2:" in result.stderr


def test_monthly_report_reminder_on_the_first_and_departments_see_only_their_own(
    env: dict[str, str], tmp_path: Path
) -> None:
    """One mail per task (`reminders.combine: false`): each task's own reminder is looked at alone
    (tests/e2e/test_combined_mail.py shows the same sections in the combined mails)."""
    plan = tmp_path / "one-per-task.yaml"
    text = SHIPPED_PLAN.read_text(encoding="utf-8")
    one_each = text.replace("  at: \"09:00\"", "  combine: false\n  at: \"09:00\"", 1)
    plan.write_text(one_each, encoding="utf-8")
    env = {**env, "CUIBAN_PLAN": str(plan)}
    run(env, "tick", "--now", "2016-12-01T09:30+08:00", "--no-send")
    listed = json.loads(run(env, "outbox", "list", "--format", "json", "--kind", "reminder").stdout)
    monthly = [m for m in listed if m["task_key"] == "monthly_report/tdc/2016-12-01"]
    assert [(m["recipient_name"], m["slot"]) for m in monthly] == [("程兴", "before-0")]

    run(env, "tick", "--now", "2016-12-12T09:30+08:00", "--no-send")
    listed = json.loads(run(env, "outbox", "list", "--format", "json", "--kind", "reminder").stdout)
    news = next(m for m in listed if m["task_key"] == "dept_filling/news")
    text = run(env, "outbox", "show", str(news["id"])).stdout
    assert all(f"00000{n}" in text for n in (1, 2, 3))  # 新闻传播学院's three
    assert all(f"00000{n}" not in text for n in (4, 5, 6))  # 音乐学院's are not shown to it
