"""`plan diff` (issue 13, acceptance 3): the shipped plan against a copy with one deadline moved by two
working days, one milestone removed and one department added lists exactly those message changes.

The expected messages are written out here from the plan's rules (December 2016 has no public
holiday, so its working days are Monday to Friday), not from the code under test. A second test
holds the forecast to the real tick: the same messages at the same moments as `run_tick` queues
on a real SQLite file, and the database read through the service gives the same diff as no
database when nothing was sent.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pendulum
import pytest
from sqlalchemy import text

from cuiban.models import outbox_store
from cuiban.models.database import open_engine
from cuiban.models.unit_of_work import transaction
from cuiban.notifications.render import Renderer
from cuiban.planfile.loader import load_plan
from cuiban.schedules.digest_mail import digest_due
from cuiban.schedules.tick import run_tick
from cuiban.services.plan_diff import diff_plans
from cuiban.workflow.plan_diff import Situation, forecast, fresh
from tests.conftest import SHIPPED_PLAN

TZ = "Asia/Shanghai"
NOW = pendulum.datetime(2016, 12, 1, 8, tz=TZ)
DAYS = 30
DEPARTMENTS = [
    "news",
    "broadcast",
    "film",
    "drama",
    "music",
    "art",
    "dance",
    "animation",
    "literature",
    "foreign",
    "politics",
    "basics",
]
HEADS = {d: f"h_{d}" for d in DEPARTMENTS}


def at(month_day: str, clock: str = "09:00") -> pendulum.DateTime:
    return pendulum.parse(f"2016-{month_day}T{clock}:00", tz=TZ)


def working_days(first: str, last: str) -> list[date]:
    """Monday to Friday from `first` to `last` (December 2016 has no holiday and no 调休)."""
    day, end = date.fromisoformat(f"2016-{first}"), date.fromisoformat(f"2016-{last}")
    days = []
    while day <= end:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def edited_plan(tmp_path: Path) -> Path:
    """The shipped plan with dept_collector due two working days later (Mon 12-05 → Wed 12-07),
    hr_tables removed and a department `design` added."""
    text = SHIPPED_PLAN.read_text(encoding="utf-8")

    def edit(old: str, new: str) -> None:
        nonlocal text
        assert text.count(old) == 1, old
        text = text.replace(old, new)

    edit("    owners: [head]\n    due: 2016-12-05\n", "    owners: [head]\n    due: 2016-12-07\n")
    start, end = text.index("  hr_tables:\n"), text.index("  dept_audit_report:\n")
    text = text[:start] + text[end:]
    edit(
        "  c_basics:     {name: 宋倩, email: c.basics@hebcm.example, unit: basics}\n",
        "  c_basics:     {name: 宋倩, email: c.basics@hebcm.example, unit: basics}\n"
        "  h_design:     {name: 设计院长, email: h.design@hebcm.example, unit: design}\n"
        "  c_design:     {name: 设计采集员, email: c.design@hebcm.example, unit: design}\n",
    )
    edit(
        "  basics:    {name: 公共基础教研室,",
        "  design:    {name: 设计学院, kind: department, head: h_design, collector: c_design}\n"
        "  basics:    {name: 公共基础教研室,",
    )
    path = tmp_path / "plan-edited.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def messages(
    task: str, reminders: list[tuple[str, pendulum.DateTime]], owners: list[str], levels: list[tuple]
) -> set[tuple]:
    """(kind, task, person, slot, time) of a task's reminders to its owners and its escalations."""
    found = {("reminder", task, person, slot, when) for slot, when in reminders for person in owners}
    for level, when, people in levels:
        found |= {("escalation", task, person, f"level-{level}", when) for person in people}
    return found


def slots(before: dict[str, str], overdue_from: str) -> list[tuple[str, pendulum.DateTime]]:
    """The `before-N` slots given, then one overdue slot every working day until reminders end (12-30)."""
    found = [(f"before-{n}", at(day)) for n, day in before.items()]
    return found + [
        (f"overdue-{d.isoformat()}", at(d.isoformat()[5:])) for d in working_days(overdue_from, "12-30")
    ]


def expected_added() -> set[tuple]:
    """Every message of the new department's tasks (its dept_collector already on the new date);
    teacher_confirmation is undated, so it sends nothing."""
    lead, coordinator = "li_jinyun", "cheng_xing"
    head, collector = "h_design", "c_design"
    return (
        messages(
            "dept_collector/design",
            slots({"3": "12-02", "1": "12-06", "0": "12-07"}, "12-08"),
            [head],
            [(1, at("12-08"), [head, coordinator]), (2, at("12-12"), [lead])],
        )
        | messages(
            "dept_filling/design",
            slots({"3": "12-12", "1": "12-14", "0": "12-15"}, "12-16"),
            [collector],
            [(1, at("12-16"), [collector]), (2, at("12-19"), [head, coordinator]), (3, at("12-21"), [lead])],
        )
        | messages(  # its window opens 12-15: the 3-days-before slot (12-14) is dropped
            "dept_audit_report/design",
            slots({"1": "12-16", "0": "12-19"}, "12-20"),
            [collector],
            [(1, at("12-20"), [collector]), (2, at("12-21"), [head, coordinator]), (3, at("12-23"), [lead])],
        )
        | messages(
            "dept_audit_paper/design",
            slots({"3": "12-14", "1": "12-16", "0": "12-19"}, "12-20"),
            [collector],
            [(1, at("12-20"), [collector]), (2, at("12-21"), [head, coordinator]), (3, at("12-23"), [lead])],
        )
    )


def expected_moved() -> set[tuple]:
    """dept_collector two working days later for each department; its 3-days-before reminder went
    out on 11-30 (before now) and is not sent again on 12-02."""
    moved = set()
    for d in DEPARTMENTS:
        task, head = f"dept_collector/{d}", HEADS[d]
        moved |= {
            ("reminder", task, head, "before-1", at("12-02"), at("12-06")),
            ("reminder", task, head, "before-0", at("12-05"), at("12-07")),
            ("escalation", task, head, "level-1", at("12-06"), at("12-08")),
            ("escalation", task, "cheng_xing", "level-1", at("12-06"), at("12-08")),
            ("escalation", task, "li_jinyun", "level-2", at("12-08"), at("12-12")),
        }
    return moved


def expected_cancelled() -> set[tuple]:
    """dept_collector's overdue reminders of 12-06 and 12-07 (before its new deadline now), and every
    message of hr_tables (hr: 陈岚, tdc: 程兴; due Thu 12-15, default ladder)."""
    cancelled = {
        ("reminder", f"dept_collector/{d}", HEADS[d], f"overdue-2016-12-{day}", at(f"12-{day}"))
        for d in DEPARTMENTS
        for day in ("06", "07")
    }
    for unit, owner, head in (("hr", "chen_lan", "zhao_min"), ("tdc", "cheng_xing", "qian_hong")):
        cancelled |= messages(
            f"hr_tables/{unit}",
            slots({"3": "12-12", "1": "12-14", "0": "12-15"}, "12-16"),
            [owner],
            [
                (1, at("12-16"), [owner]),
                (2, at("12-19"), [head, "cheng_xing"]),
                (3, at("12-21"), ["li_jinyun"]),
            ],
        )
    return cancelled


def _plain(p) -> tuple:
    return (p.kind, p.task_key, p.recipient.person_id, p.slot, p.at)


def test_moved_deadline_removed_milestone_and_new_department_change_exactly_their_messages(
    tmp_path: Path,
) -> None:
    old, new = load_plan(SHIPPED_PLAN), load_plan(edited_plan(tmp_path))

    diff = diff_plans(old, new, NOW, DAYS)

    added = {_plain(p) for p in diff.added}
    moved = {_plain(m.old)[:4] + (m.old.at, m.new.at) for m in diff.moved}
    cancelled = {_plain(p) for p in diff.cancelled}
    assert (len(diff.added), len(diff.moved), len(diff.cancelled)) == (72, 60, 24 + 36)
    assert added == expected_added()
    assert moved == expected_moved()
    assert cancelled == expected_cancelled()
    assert len(added) == len(diff.added) and len(cancelled) == len(diff.cancelled)  # no message twice


def test_task_changes_name_the_deadline_moved_the_tasks_removed_and_the_tasks_added(tmp_path: Path) -> None:
    old, new = load_plan(SHIPPED_PLAN), load_plan(edited_plan(tmp_path))

    changes = {(c.task_key, c.change): c for c in diff_plans(old, new, NOW, DAYS).tasks}

    design = [
        "dept_collector",
        "dept_filling",
        "dept_audit_report",
        "dept_audit_paper",
        "teacher_confirmation",
    ]
    assert set(changes) == (
        {(f"dept_collector/{d}", "changed") for d in DEPARTMENTS}
        | {("hr_tables/hr", "removed"), ("hr_tables/tdc", "removed")}
        | {(f"{m}/design", "added") for m in design}
    )
    news = changes[("dept_collector/news", "changed")]
    end = {"hour": 23, "minute": 59, "second": 59, "microsecond": 999999}
    assert (news.old_due, news.new_due) == (at("12-05").set(**end), at("12-07").set(**end))
    assert (
        [r.name for r in news.new_to["reminder"]] == ["王立新"] == [r.name for r in news.old_to["reminder"]]
    )
    added = changes[("dept_filling/design", "added")]
    assert [r.name for r in added.new_to["reminder"]] == ["设计采集员"] and added.old_to == {}


@pytest.mark.parametrize("days", [1, 14, 30])
def test_the_same_plan_changes_nothing(days: int) -> None:
    plan = load_plan(SHIPPED_PLAN)
    assert diff_plans(plan, plan, NOW, days).empty


def test_the_forecast_is_what_the_real_tick_queues(tmp_path: Path) -> None:
    """Ticks at every time of day the plan names (and midnight), on a database with no teachers
    (every task stays open), queue exactly the forecast's messages at the same moments."""
    plan, calendar = load_plan(SHIPPED_PLAN)
    engine = open_engine(f"sqlite:///{tmp_path / 'tick.sqlite3'}")
    first, until = pendulum.datetime(2016, 11, 23, tz=TZ), pendulum.datetime(2016, 12, 9, 23, tz=TZ)
    moment, renderer = first, Renderer(plan.language)
    while moment <= until:
        for clock in ((0, 0), (8, 30), (9, 0)):
            run_tick(engine, plan, calendar, renderer, moment.set(hour=clock[0], minute=clock[1]))
        moment = moment.add(days=1)
    with transaction(engine, dry_run=True) as connection:
        queued = {
            (r["kind"], r["task_key"] or "", r["recipient"], r["slot"], pendulum.instance(r["created_at"]))
            for r in outbox_store.rows(connection)
            if r["kind"] != "combined"
        }
        # a combined mail's items keep their own keys (kind|task|recipient|slot) in outbox_part
        parts = connection.execute(text("SELECT key, created_at FROM outbox_part")).all()
    queued |= {(*key.split("|"), pendulum.instance(outbox_store._moment(at))) for key, at in parts}

    predicted = forecast(plan, calendar, fresh(plan, calendar), first, until, digest_due)

    assert {(p.kind, p.task_key, p.recipient.email, p.slot, p.at) for p in predicted} == queued
    assert len(predicted) == len(queued) > 200


def test_a_database_where_nothing_was_sent_gives_the_fresh_campaign_s_diff(tmp_path: Path) -> None:
    """Read through the service (tasks, outbox, tick mark, teachers' counts) and rolled back: the
    database is unchanged afterwards, and its answer matches the one without a database once the
    first tick has created the tasks at the campaign's start."""
    old, new = load_plan(SHIPPED_PLAN), load_plan(edited_plan(tmp_path))
    engine = open_engine(f"sqlite:///{tmp_path / 'campaign.sqlite3'}")
    start = pendulum.datetime(2016, 11, 23, 0, 5, tz=TZ)
    run_tick(engine, *old, Renderer(old[0].language), start)  # tasks created, nothing due yet
    with transaction(engine, dry_run=True) as connection:
        before = outbox_store.rows(connection)

    with_db = diff_plans(old, new, start, 20, engine)
    without = diff_plans(old, new, start, 20)

    assert before == [] and outbox_store_rows(engine) == []
    assert [_plain(p) for p in with_db.added] == [_plain(p) for p in without.added]
    assert [(_plain(m.old), _plain(m.new)) for m in with_db.moved] == [
        (_plain(m.old), _plain(m.new)) for m in without.moved
    ]
    assert [_plain(p) for p in with_db.cancelled] == [_plain(p) for p in without.cancelled]
    assert with_db.added and with_db.moved and with_db.cancelled


def outbox_store_rows(engine) -> list:
    with transaction(engine, dry_run=True) as connection:
        return outbox_store.rows(connection)


def test_finished_tasks_send_nothing() -> None:
    plan, calendar = load_plan(SHIPPED_PLAN)
    situation = fresh(plan, calendar)
    done = Situation(dict(situation.tasks.items()))
    for key, task in done.tasks.items():
        if task.milestone_id == "dept_collector":
            done.tasks[key] = type(task)(**{**task.__dict__, "state": "done"})
    left = forecast(plan, calendar, done, NOW, NOW.add(days=10), digest_due)
    assert not [p for p in left if p.task_key.startswith("dept_collector/")]
    assert [
        p
        for p in forecast(plan, calendar, situation, NOW, NOW.add(days=10), digest_due)
        if p.task_key.startswith("dept_collector/")
    ]


def test_with_a_database_only_the_old_plan_s_cycle_is_read(tmp_path: Path) -> None:
    """Last year's tasks, mail and tick mark say nothing about this year's: a database holding only
    2016's campaign answers for 2017's plans as an empty one does (the tasks not yet created)."""
    (plan_2016, calendar), new = load_plan(SHIPPED_PLAN), load_plan(edited_plan(tmp_path))
    engine = open_engine(f"sqlite:///{tmp_path / 'campaign.sqlite3'}")
    renderer = Renderer(plan_2016.language)
    for day in (23, 28, 30):  # 2016's tasks, reminders and digests
        run_tick(engine, plan_2016, calendar, renderer, pendulum.datetime(2016, 11, day, 9, 30, tz=TZ))
    assert outbox_store_rows(engine)
    old_2017 = (plan_2016.model_copy(update={"cycle": 2017}), calendar)
    new_2017 = (new[0].model_copy(update={"cycle": 2017}), new[1])
    empty = open_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    start = pendulum.datetime(2016, 11, 30, 10, tz=TZ)

    with_2016 = diff_plans(old_2017, new_2017, start, 20, engine)
    with_nothing = diff_plans(old_2017, new_2017, start, 20, empty)

    for side in ("added", "cancelled"):
        found, expected = getattr(with_2016, side), getattr(with_nothing, side)
        assert [_plain(p) for p in found] == [_plain(p) for p in expected], side
    assert [(_plain(m.old), _plain(m.new)) for m in with_2016.moved] == [
        (_plain(m.old), _plain(m.new)) for m in with_nothing.moved
    ]
