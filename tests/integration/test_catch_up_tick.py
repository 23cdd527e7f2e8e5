"""Catch-up after downtime, as `(ticks, now) → messages` tables on the minimal plan (see test_tick_campaign).

After downtime a task gets at most one reminder a day, for the latest slot that has come,
never for a slot older than one already sent; a message sent well after its slot is
marked late and counted in the next digest; after the campaign's end nobody is reminded
or told (a plan may extend reminders with `campaign.remind_until`).

One message per task (`reminders.combine: false`): the tables are each task's own messages; the
catch-up rule reads a combined mail's parts the same way (tests/e2e/test_combined_mail.py).
"""

from __future__ import annotations

from pathlib import Path

import pendulum
import pytest

from cuiban.models import outbox_store
from cuiban.notifications.render import Renderer
from cuiban.notifications.transports import FileTransport
from cuiban.planfile.loader import load_plan
from cuiban.services.status_sync import sync_statuses
from cuiban.services.tasks import mark_done
from cuiban.services.tick_and_send import tick_and_send
from tests.conftest import MINIMAL_PLAN
from tests.factories import import_minimal_roster, write_csv
from tests.integration.test_tick_campaign import EMAIL_TO_ID, at


def _setup(engine, tmp_path: Path, plan_text: str | None = None):
    path = tmp_path / "plan.yaml"
    text = plan_text or MINIMAL_PLAN.read_text(encoding="utf-8")
    text = text.replace("repeat_while_overdue: true}", "repeat_while_overdue: true, combine: false}", 1)
    path.write_text(text, encoding="utf-8")
    plan, calendar = load_plan(path)
    import_minimal_roster(engine, plan, calendar, tmp_path, ["甲学院", "乙学院"], 3, at("11-21"))
    write_csv(tmp_path / "export.csv", ["工号", "填报状态"], [[f"{n:06d}", "已提交"] for n in (1, 2, 3)])
    mark_done(engine, plan, calendar, "roster", "tdc", at("11-25", "10:00"))
    return plan, calendar


def _tick(engine, plan, calendar, folder: Path, moment) -> set[tuple[str, str, str, str]]:
    with engine.connect() as connection:
        before = {r["id"] for r in outbox_store.rows(connection)}
    tick_and_send(engine, plan, calendar, Renderer("zh"), FileTransport(folder / "outbox"), moment)
    with engine.connect() as connection:
        rows = [r for r in outbox_store.rows(connection) if r["id"] not in before]
    return {
        (r["kind"], r["task_key"] or "", EMAIL_TO_ID[r["recipient"]], r["slot"])
        for r in rows
        if r["kind"] != "digest"
    }


def test_down_across_nine_then_one_reminder_a_day_and_it_is_counted_late(engine, tmp_path: Path) -> None:
    plan, calendar = _setup(engine, tmp_path)
    assert _tick(engine, plan, calendar, tmp_path, at("12-14", "09:05")) == {
        ("reminder", "filling/dept_a", "c_a", "before-1"),
        ("reminder", "filling/dept_b", "h_b", "before-1"),
    }
    sync_statuses(engine, plan, calendar, tmp_path / "export.csv", at("12-14", "10:00"))
    # down from 12-14 10:00 to 12-16 08:00: 12-15's slot went by unsent
    assert _tick(engine, plan, calendar, tmp_path, at("12-16", "08:00")) == {
        ("reminder", "filling/dept_b", "h_b", "before-0"),  # the latest slot that came: late, once
    }
    assert _tick(engine, plan, calendar, tmp_path, at("12-16", "09:05")) == {
        ("escalation", "filling/dept_b", "h_b", "level-1"),  # no second reminder today for filling
        ("reminder", "audit/dept_a", "c_a", "before-1"),
        ("reminder", "audit/dept_b", "h_b", "before-1"),
    }
    assert ("reminder", "filling/dept_b", "h_b", "overdue-2016-12-19") in _tick(
        engine, plan, calendar, tmp_path, at("12-19", "09:05")
    )
    with engine.connect() as connection:
        rows = outbox_store.rows(connection)
    late = [(r["task_key"], r["slot"]) for r in rows if r["late"]]
    assert late == [("filling/dept_b", "before-0")]  # sent 23 hours after its 09:00 slot
    digest = next(r for r in rows if r["kind"] == "digest" and r["slot"] == "2016-12-16")
    assert "迟发的邮件：1 封" in digest["body_text"]


def test_a_clock_stepped_back_after_a_skipped_day_sends_no_older_slot(engine, tmp_path: Path) -> None:
    plan, calendar = _setup(engine, tmp_path)
    _tick(engine, plan, calendar, tmp_path, at("12-14", "09:30"))
    # 12-15 skipped; 12-16 ticks; then someone replays 12-15
    assert ("reminder", "filling/dept_b", "h_b", "overdue-2016-12-16") in _tick(
        engine, plan, calendar, tmp_path, at("12-16", "09:30")
    )
    assert _tick(engine, plan, calendar, tmp_path, at("12-15", "09:30")) == set()


@pytest.mark.parametrize(
    ("remind_until", "expected"),
    [
        (None, set()),
        ("2017-01-06", {("reminder", "audit/dept_b", "h_b", "overdue-2017-01-03")}),
    ],
)
def test_after_the_campaign_nobody_is_reminded_or_told(
    engine, tmp_path: Path, remind_until: str | None, expected: set
) -> None:
    text = MINIMAL_PLAN.read_text(encoding="utf-8")
    if remind_until:
        text = text.replace("end: 2016-12-30}", f"end: 2016-12-30, remind_until: {remind_until}}}")
    plan, calendar = _setup(engine, tmp_path, text)
    _tick(engine, plan, calendar, tmp_path, at("12-30", "09:30"))
    sent = _tick(engine, plan, calendar, tmp_path, pendulum.datetime(2017, 1, 3, 9, 30, tz=plan.timezone))
    assert {m for m in sent if m[1] == "audit/dept_b"} == expected
    assert not [m for m in sent if m[0] == "escalation"]
    with engine.connect() as connection:
        digests = {r["slot"] for r in outbox_store.rows(connection, kind="digest")}
    assert max(digests) == "2016-12-30"  # the final digest is the campaign's last day's
