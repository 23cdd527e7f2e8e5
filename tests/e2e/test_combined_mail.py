"""One mail per person per day (issue 14, acceptance 1), on the demo campaign.

The shipped 2016 sample is replayed from 11-28 to 12-30 twice, once as shipped (mails combined per
person) and once with `reminders.combine: false`. With mails combined nobody gets more than one
mail a day besides escalations of level 3 and higher (the digest aside), and the total drops;
`combine: false` sends one message per task and person as before; and both runs tell exactly the
same things: every task reminder or escalation of the one-per-task run is, in the combined run,
the same message (a person with only that item due) or a part of that person's combined mail
whose section says the same facts.
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
from cuiban.services.replay import progress_by_day, read_done, replay
from cuiban.services.roster_import import import_roster
from cuiban.workflow.plan.schema import Plan
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
