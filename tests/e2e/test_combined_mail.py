"""One mail per person per day (issue 14, acceptance 1), on the demo campaign.

The shipped 2016 sample is replayed from 11-28 to 12-30 twice, once as shipped (mails combined per
person) and once with `reminders.combine: false`. With mails combined nobody gets more than one
mail a day besides escalations of level 3 and higher (the digest aside), and the total drops;
`combine: false` sends one message per task and person as before; and both runs tell exactly the
same things: every task reminder or escalation of the one-per-task run is, in the combined run,
the same message (a person with only that item due) or a part of that person's combined mail
whose section says the same facts.

Then the scripted campaign of tests/integration/test_tick_campaign.py with mails combined, on SQLite
and PostgreSQL: each task is told exactly what its table says, in one mail a day per person; a
tick run again the same day adds nothing; a task finished before a tick is in none of its mails.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pendulum
import pytest
from sqlalchemy import text

from cuiban.cli.bootstrap import packaged_plan
from cuiban.models import outbox_store
from cuiban.models.database import open_engine
from cuiban.notifications.render import Renderer
from cuiban.notifications.transports import FileTransport
from cuiban.planfile.loader import load_plan
from cuiban.schedules.tick import run_tick
from cuiban.services.replay import progress_by_day, read_done, replay
from cuiban.services.roster_import import import_roster
from cuiban.services.status_sync import sync_statuses
from cuiban.services.tasks import mark_done
from cuiban.workflow.plan.schema import Plan
from tests.factories import roster, write_csv
from tests.integration.test_tick_campaign import EMAIL_TO_ID, EXPECTED, _play, at
from tests.web_support import SAMPLE, TZ

FIRST, LAST = date(2016, 11, 28), date(2016, 12, 30)
ALONE_FROM_LEVEL = 3


def replayed(folder: Path, plan: Plan, calendar: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The demo campaign replayed with `plan`: its outbox rows and its combined mails' parts."""
    folder.mkdir(parents=True, exist_ok=True)
    engine = open_engine(f"sqlite:///{folder / 'cuiban.sqlite3'}")
    start = pendulum.datetime(2016, 11, 28, 8, tz=TZ)
    import_roster(engine, plan, calendar, SAMPLE / "roster.csv", start, actor="人事处")
    progress = progress_by_day(sorted((SAMPLE / "status").glob("status-*.csv")))
    renderer = Renderer(plan.language)
    replay(
        engine,
        plan,
        calendar,
        renderer,
        FileTransport(folder / "mail"),
        FIRST,
        LAST,
        progress,
        read_done(SAMPLE / "tasks.csv"),
    )
    with engine.connect() as connection:
        rows = outbox_store.rows(connection, cycle=plan.cycle)
        parts = [dict(r._mapping) for r in connection.execute(text("SELECT * FROM outbox_part ORDER BY id"))]
    engine.dispose()
    return rows, parts


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Any]:
    plan, calendar = load_plan(packaged_plan())
    assert plan.reminders.combine  # the default
    apart = plan.model_copy(update={"reminders": plan.reminders.model_copy(update={"combine": False})})
    folder = tmp_path_factory.mktemp("combined")
    on_rows, on_parts = replayed(folder / "on", plan, calendar)
    off_rows, off_parts = replayed(folder / "off", apart, calendar)
    return {"plan": plan, "on": on_rows, "parts": on_parts, "off": off_rows, "off_parts": off_parts}


def _day(row: dict[str, Any]) -> str:
    return pendulum.instance(row["created_at"]).in_timezone(TZ).date().isoformat()


def _high(row: dict[str, Any]) -> bool:
    return row["kind"] == "escalation" and int(row["slot"].removeprefix("level-")) >= ALONE_FROM_LEVEL


def _per_person_day(rows: list[dict[str, Any]]) -> Counter:
    """Mails per (person, day), the digest and escalations of level 3 and higher aside."""
    return Counter((r["recipient"], _day(r)) for r in rows if r["kind"] != "digest" and not _high(r))


def test_nobody_gets_more_than_one_mail_a_day_besides_high_escalations(runs) -> None:
    combined, apart = _per_person_day(runs["on"]), _per_person_day(runs["off"])
    assert max(combined.values()) == 1
    assert max(apart.values()) > 1  # one mail per task: several a day for a collector
    collectors = {p.email for pid, p in runs["plan"].people.items() if pid.startswith("c_")}
    assert {person for person, _ in combined} & collectors  # the collectors are reminded
    assert any(r["kind"] == "combined" for r in runs["on"])


def test_the_total_drops_and_high_escalations_stay_apart(runs) -> None:
    on = [r for r in runs["on"] if r["kind"] != "digest"]
    off = [r for r in runs["off"] if r["kind"] != "digest"]
    assert len(on) < len(off)
    assert sorted(r["key"] for r in on if _high(r)) == sorted(r["key"] for r in off if _high(r))
    levels = [int(p["slot"].removeprefix("level-")) for p in runs["parts"] if p["kind"] == "escalation"]
    assert levels and max(levels) < ALONE_FROM_LEVEL


def test_combine_false_is_one_message_per_task_and_person(runs) -> None:
    assert runs["off_parts"] == [] and not [r for r in runs["off"] if r["kind"] == "combined"]
    assert {r["kind"] for r in runs["off"]} <= {"reminder", "escalation", "digest", "report"}


def test_both_runs_tell_the_same_things(runs) -> None:
    """Every task reminder and escalation of the one-per-task run is sent in the combined run, alone
    (then the very same message) or as a part of the person's combined mail, and nothing else is."""
    told = {r["key"]: r for r in runs["off"] if r["kind"] in ("reminder", "escalation")}
    alone = {r["key"]: r for r in runs["on"] if r["kind"] in ("reminder", "escalation")}
    parts = {p["key"]: p for p in runs["parts"]}
    assert not set(alone) & set(parts)
    assert set(told) == set(alone) | set(parts)
    for key, row in alone.items():
        same = told[key]
        assert (row["recipient"], row["subject"], row["body_text"], row["body_html"]) == (
            same["recipient"],
            same["subject"],
            same["body_text"],
            same["body_html"],
        ), key


FACTS = re.compile(r"^(应交付：.*|下一步：.*|\s+\d{6}\s+\S+\s+\S+|\s+……另有 \d+ 人未完成。)$")
"""Lines of a task's own reminder that its section of a combined mail says word for word."""


def _sections(body: str) -> dict[str, str]:
    """A combined mail's sections by their heading (`新闻传播学院：组织教师…`)."""
    found = {}
    for chunk in re.split(r"\n(?=\d+\. )", body):
        head = chunk.split("\n", 1)[0]
        if re.match(r"\d+\. ", head):
            found[re.sub(r"^\d+\. (【[^】]*】)", "", head)] = chunk
    return found


def test_each_section_says_what_the_tasks_own_message_says(runs) -> None:
    plan = runs["plan"]
    told = {r["key"]: r for r in runs["off"]}
    mails = {r["key"]: r for r in runs["on"] if r["kind"] == "combined"}
    checked = 0
    for part in runs["parts"]:
        own, mail = told[part["key"]], mails[part["outbox_key"]]
        assert own["recipient"] == mail["recipient"]
        milestone, unit = part["task_key"].split("/")[:2]
        heading = f"{plan.units[unit].name}：{plan.milestones[milestone].title}"
        section = _sections(mail["body_text"])[heading]
        for line in own["body_text"].splitlines():
            if FACTS.match(line):
                assert line.strip() in section, (part["key"], line)
        for when in re.findall(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", own["body_text"]):
            assert when in section, (part["key"], when)
        for days in re.findall(r"(?:逾期|还剩) ?(\d+) 个工作日", own["body_text"]):
            assert f"{days} 个工作日" in section, (part["key"], days)
        if part["kind"] == "escalation":
            assert f"第 {part['slot'].removeprefix('level-')} 级通报" in section
        checked += 1
    assert checked == len(runs["parts"]) > 0


# ── the scripted campaign of tests/integration/test_tick_campaign.py, combined, on both backends ──


@pytest.fixture
def scripted(engine, tmp_path: Path, minimal_plan):
    plan, calendar = minimal_plan
    assert plan.reminders.combine
    rows = [[r[0], r[1], r[4], "36"] for r in roster(["甲学院", "乙学院"], 3)]
    write_csv(tmp_path / "roster.csv", ["工号", "姓名", "所属部门", "合同期限(月)"], rows)
    import_roster(engine, plan, calendar, tmp_path / "roster.csv", at("11-21"))
    write_csv(tmp_path / "export.csv", ["工号", "填报状态"], [[f"{n:06d}", "已提交"] for n in (1, 2, 3)])
    return engine, plan, calendar, tmp_path


def _told(engine) -> tuple[dict[str, set], Counter]:
    """Per day what was told, task by task (a message alone, or a part of a combined mail), and the
    mails per person and day (digests aside)."""
    told: dict[str, set] = {}
    mails: Counter = Counter()
    with engine.connect() as connection:
        rows = outbox_store.rows(connection)
        parts = [dict(r._mapping) for r in connection.execute(text("SELECT * FROM outbox_part"))]
    by_key = {r["key"]: r for r in rows}
    for r in rows:
        if r["kind"] == "digest":
            continue
        day, person = _day(r)[5:], EMAIL_TO_ID[r["recipient"]]
        mails[(person, day)] += 1
        if r["kind"] != "combined":
            told.setdefault(day, set()).add((r["kind"], r["task_key"], person, r["slot"]))
    for p in parts:
        mail = by_key[p["outbox_key"]]
        told.setdefault(_day(mail)[5:], set()).add(
            (p["kind"], p["task_key"], EMAIL_TO_ID[mail["recipient"]], p["slot"])
        )
    return told, mails


def test_the_scripted_campaign_combined_tells_each_task_as_before_in_one_mail_a_day(scripted) -> None:
    engine, plan, calendar, _ = scripted
    _play(scripted, [at(day).date() for day in EXPECTED])  # the days something is due
    renderer = Renderer("zh")
    for moment in (at("12-20"), at("12-20", "18:00")):  # again the same day: nothing new
        assert sum(run_tick(engine, plan, calendar, renderer, moment).queued.values()) == 0
    told, mails = _told(engine)
    assert told == EXPECTED
    assert max(mails.values()) == 1
    assert mails[("h_b", "12-19")] == 1 and len(EXPECTED["12-19"]) == 5  # h_b: three items in one mail


def test_a_task_finished_before_the_tick_is_left_out_and_a_later_tick_adds_nothing(scripted) -> None:
    engine, plan, calendar, folder = scripted
    _play(scripted, [at(day).date() for day in ("11-25", "12-12", "12-14", "12-15")])
    mark_done(engine, plan, calendar, "audit", "dept_b", at("12-16", "09:10"))
    renderer = Renderer("zh")
    run_tick(engine, plan, calendar, renderer, at("12-16"))
    write_csv(folder / "all.csv", ["工号", "填报状态"], [[f"{n:06d}", "已提交"] for n in range(1, 7)])
    sync_statuses(engine, plan, calendar, folder / "all.csv", at("12-16", "10:00"))  # 乙学院 done too
    later = run_tick(engine, plan, calendar, renderer, at("12-16", "18:00"))
    assert sum(later.queued.values()) == 0
    told, mails = _told(engine)
    assert told["12-16"] == {
        ("reminder", "filling/dept_b", "h_b", "overdue-2016-12-16"),
        ("escalation", "filling/dept_b", "h_b", "level-1"),
        ("reminder", "audit/dept_a", "c_a", "before-1"),
    }
    with engine.connect() as connection:
        rows = [r for r in outbox_store.rows(connection) if _day(r) == "2016-12-16" and r["kind"] != "digest"]
    kinds = {EMAIL_TO_ID[r["recipient"]]: r["kind"] for r in rows}
    assert kinds == {"h_b": "combined", "c_a": "reminder"}  # one item alone: the task's own message
    combined = next(r for r in rows if r["kind"] == "combined")
    assert combined["subject"] == "催办：您今天有 1 项待办（其中 1 项已逾期）"
    assert "审核表" not in combined["body_text"] and "【逾期通报·第1级】乙学院：填报" in combined["body_text"]
    run_tick(engine, plan, calendar, renderer, at("12-19"))  # filling/dept_b done: h_b hears of audit no more
    told, _ = _told(engine)
    assert {m[1] for m in told.get("12-19", set())} <= {"audit/dept_a"}


def test_after_three_days_down_the_catch_up_rule_reads_the_parts(scripted) -> None:
    """Down 12-12 to 12-14: on 12-15 only the latest slot goes out, and the overdue reminders after
    it once a day, as each task's own table says, though they went out as parts of combined mails."""
    engine, plan, calendar, folder = scripted
    sync_statuses(
        engine, plan, calendar, folder / "export.csv", at("12-14", "10:00")
    )  # progress still arrives
    days = [day for day in EXPECTED if day not in ("12-12", "12-14")]
    _play(scripted, [at(day).date() for day in days])
    told, mails = _told(engine)
    assert told["12-15"] == {("reminder", "filling/dept_b", "h_b", "before-0")}
    assert {d: m for d, m in told.items() if d > "12-15"} == {
        d: m for d, m in EXPECTED.items() if d > "12-15"
    }
    assert max(mails.values()) == 1
