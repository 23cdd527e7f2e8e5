"""A scripted campaign on the minimal plan: exactly which messages go out on which day.

The plan (tests/fixtures/minimal_plan.yaml): reminders 3, 1 and 0 working days before
at 09:00 and every working day while overdue; escalation after 1 working day to the
collector, after 2 to the head and the coordinator; the digest at 08:30 to the
coordinator. 甲学院 (collector c_a) submits everything on 12-14; 乙学院 (head and
collector h_b) never does; the roster task is marked done on 11-25.

One message per task (`reminders.combine: false`): the tables below are each task's own messages,
what a person's combined mail carries as its parts (tests/e2e/test_combined_mail.py).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pendulum
import pytest

from cuiban.models import outbox_store
from cuiban.notifications.render import Renderer
from cuiban.schedules.tick import run_tick
from cuiban.services.roster_import import import_roster
from cuiban.services.status_sync import sync_statuses
from cuiban.services.tasks import mark_done
from cuiban.workflow.plan.schema import Plan
from tests.factories import roster, write_csv

TZ = "Asia/Shanghai"

EXPECTED: dict[str, set[tuple[str, str, str, str]]] = {
    "11-23": {("reminder", "roster/tdc", "coord", "before-3")},
    "11-25": {("reminder", "roster/tdc", "coord", "before-1")},
    "12-12": {
        ("reminder", "filling/dept_a", "c_a", "before-3"),
        ("reminder", "filling/dept_b", "h_b", "before-3"),
    },
    "12-14": {
        ("reminder", "filling/dept_a", "c_a", "before-1"),
        ("reminder", "filling/dept_b", "h_b", "before-1"),
    },
    "12-15": {("reminder", "filling/dept_b", "h_b", "before-0")},
    "12-16": {
        ("reminder", "filling/dept_b", "h_b", "overdue-2016-12-16"),
        ("escalation", "filling/dept_b", "h_b", "level-1"),
        ("reminder", "audit/dept_a", "c_a", "before-1"),
        ("reminder", "audit/dept_b", "h_b", "before-1"),
    },
    "12-19": {
        ("reminder", "filling/dept_b", "h_b", "overdue-2016-12-19"),
        ("escalation", "filling/dept_b", "h_b", "level-2"),
        ("escalation", "filling/dept_b", "coord", "level-2"),
        ("reminder", "audit/dept_a", "c_a", "before-0"),
        ("reminder", "audit/dept_b", "h_b", "before-0"),
    },
    "12-20": {
        ("reminder", "filling/dept_b", "h_b", "overdue-2016-12-20"),
        ("reminder", "audit/dept_a", "c_a", "overdue-2016-12-20"),
        ("reminder", "audit/dept_b", "h_b", "overdue-2016-12-20"),
        ("escalation", "audit/dept_a", "c_a", "level-1"),
        ("escalation", "audit/dept_b", "h_b", "level-1"),
    },
}
EMAIL_TO_ID = {
    "coord@school.example": "coord",
    "c.a@school.example": "c_a",
    "h.b@school.example": "h_b",
    "h.a@school.example": "h_a",
    "lead@school.example": "lead",
}


def one_mail_per_task(plan: Plan) -> Plan:
    """The plan with `reminders.combine: false`: a message per task and person, as before combined mails."""
    return plan.model_copy(update={"reminders": plan.reminders.model_copy(update={"combine": False})})


def at(day: str, clock: str = "09:30") -> pendulum.DateTime:
    return pendulum.parse(f"2016-{day}T{clock}:00", tz=TZ)


@pytest.fixture
def campaign(engine, tmp_path: Path, minimal_plan):
    plan, calendar = minimal_plan
    plan = one_mail_per_task(plan)
    rows = [[r[0], r[1], r[4], "36"] for r in roster(["甲学院", "乙学院"], 3)]
    write_csv(tmp_path / "roster.csv", ["工号", "姓名", "所属部门", "合同期限(月)"], rows)
    import_roster(engine, plan, calendar, tmp_path / "roster.csv", at("11-21"))
    write_csv(tmp_path / "export.csv", ["工号", "填报状态"], [[f"{n:06d}", "已提交"] for n in (1, 2, 3)])
    return engine, plan, calendar, tmp_path


def _day_messages(engine, known: set[int]) -> set[tuple[str, str, str, str]]:
    with engine.connect() as connection:
        rows = [r for r in outbox_store.rows(connection) if r["id"] not in known]
    known.update(r["id"] for r in rows)
    return {(r["kind"], r["task_key"] or "", EMAIL_TO_ID[r["recipient"]], r["slot"]) for r in rows}


def _play(campaign, days: list[date], twice: bool = False) -> dict[str, set]:
    engine, plan, calendar, folder = campaign
    renderer = Renderer("zh")
    seen: set[int] = set()
    sent: dict[str, set] = {}
    for day in days:
        label = day.strftime("%m-%d")
        run_tick(engine, plan, calendar, renderer, at(label))
        if twice:
            run_tick(engine, plan, calendar, renderer, at(label))
            run_tick(engine, plan, calendar, renderer, at(label, "18:00"))
        if label == "11-25":
            mark_done(engine, plan, calendar, "roster", "tdc", at(label, "10:00"))
        if label == "12-14":
            sync_statuses(engine, plan, calendar, folder / "export.csv", at(label, "10:00"))
        sent[label] = _day_messages(engine, seen)
    return sent


def _days(first: str, last: str) -> list[date]:
    start, end = at(first).date(), at(last).date()
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def _without_digests(sent: dict[str, set]) -> dict[str, set]:
    return {day: {m for m in messages if m[0] != "digest"} for day, messages in sent.items()}


def test_every_day_sends_exactly_what_the_plan_says(campaign) -> None:
    sent = _play(campaign, _days("11-23", "12-20"))
    assert {d: m for d, m in _without_digests(sent).items() if m} == EXPECTED
    assert all(("digest", "", "coord", f"2016-{d}") in m for d, m in sent.items())  # one digest a day


def test_ticking_again_the_same_day_changes_nothing(campaign) -> None:
    sent = _play(campaign, _days("11-23", "12-20"), twice=True)
    assert {d: m for d, m in _without_digests(sent).items() if m} == EXPECTED
    engine = campaign[0]
    with engine.connect() as connection:
        keys = [r["key"] for r in outbox_store.rows(connection)]
    assert len(keys) == len(set(keys)) == sum(len(m) for m in sent.values())


def test_three_days_down_then_each_still_relevant_message_once(campaign) -> None:
    days = [d for d in _days("11-23", "12-20") if d.strftime("%m-%d") not in ("12-12", "12-13", "12-14")]
    engine, plan, calendar, folder = campaign
    sync_statuses(
        engine, plan, calendar, folder / "export.csv", at("12-14", "10:00")
    )  # progress still arrives
    sent = _play(campaign, days)
    assert "12-12" not in sent and "12-14" not in sent
    # the missed "3 days before" and "1 day before" are skipped: only "on the day" goes out, once
    assert _without_digests(sent)["12-15"] == {("reminder", "filling/dept_b", "h_b", "before-0")}
    assert {m for m in sent["12-15"] if m[0] == "digest"} == {("digest", "", "coord", "2016-12-15")}
    later = {d: m for d, m in _without_digests(sent).items() if d > "12-15" and m}
    assert later == {d: m for d, m in EXPECTED.items() if d > "12-15"}
