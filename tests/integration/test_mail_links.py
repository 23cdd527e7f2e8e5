"""Reminders, escalations and the digest carry a link to the web pages when CUIBAN_BASE_URL is set.

The same tick on two copies of a campaign, one with a base URL and one without: with it, each
reminder and escalation links to its task's unit's page (`<base>/units/<unit>`) and the digest
to the dashboard, in the text and as an `<a href>` in the HTML; without it there is no link,
and taking the link's line out of the first gives the second, byte for byte.
"""

from __future__ import annotations

from pathlib import Path

import pendulum
import pytest
from click.testing import CliRunner

from cuiban.cli.main import cuiban
from cuiban.models import outbox_store
from cuiban.models.database import open_engine
from cuiban.notifications.render import Renderer
from cuiban.schedules.tick import run_tick
from cuiban.services.roster_import import import_roster
from cuiban.workflow.links import Links
from tests.conftest import MINIMAL_PLAN
from tests.factories import roster, write_csv

TZ = "Asia/Shanghai"
BASE = "https://cuiban.example.edu.cn"
ACT, FIGURES = "在网页上查看并办理：", "在网页上查看实时进度："
WORDS = {"reminder": ACT, "escalation": ACT, "digest": FIGURES}


def at(day: str, clock: str = "09:30") -> pendulum.DateTime:
    return pendulum.parse(f"2016-{day}T{clock}:00", tz=TZ)


def _campaign(path: Path, plan, calendar, folder: Path):  # type: ignore[no-untyped-def]
    """The minimal plan's two departments with three teachers each, nobody submitted."""
    engine = open_engine(f"sqlite:///{path}")
    rows = [[r[0], r[1], r[4], "36"] for r in roster(["甲学院", "乙学院"], 3)]
    write_csv(folder / "roster.csv", ["工号", "姓名", "所属部门", "合同期限(月)"], rows)
    import_roster(engine, plan, calendar, folder / "roster.csv", at("11-21"))
    return engine


def _messages(engine, links: Links, plan, calendar) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    """The outbox after ticks on 12-12 and 12-16 (reminders, an escalation, the digests), by key."""
    for day in ("12-12", "12-16"):
        run_tick(engine, plan, calendar, Renderer(plan.language), at(day), links=links)
    with engine.connect() as connection:
        return {row["key"]: row for row in outbox_store.rows(connection)}


def _link(row: dict) -> str:
    return f"{BASE}/dashboard" if row["kind"] == "digest" else f"{BASE}/units/{row['unit_id']}"


def test_each_message_links_to_its_page_and_says_nothing_else_new(minimal_plan, tmp_path: Path) -> None:
    """One mail per task (`combine: false`), each compared with its plain twin; combined mails carry
    each section's link (the next test)."""
    plan, calendar = minimal_plan
    plan = plan.model_copy(update={"reminders": plan.reminders.model_copy(update={"combine": False})})
    linked_engine = _campaign(tmp_path / "linked.sqlite3", plan, calendar, tmp_path)
    plain_engine = _campaign(tmp_path / "plain.sqlite3", plan, calendar, tmp_path)
    linked = _messages(linked_engine, Links(BASE), plan, calendar)
    plain = _messages(plain_engine, Links(None), plan, calendar)
    linked_engine.dispose()
    plain_engine.dispose()

    assert linked.keys() == plain.keys()
    assert {row["kind"] for row in linked.values()} == {"reminder", "escalation", "digest"}
    assert {row["unit_id"] for row in linked.values() if row["kind"] == "reminder"} >= {"dept_a", "dept_b"}
    for key, row in linked.items():
        link, line = _link(row), f"{WORDS[row['kind']]}{_link(row)}"
        anchor = f'<a href="{link}">{link}</a>'
        assert f"{line}\n" in row["body_text"], key
        assert anchor in row["body_html"], key
        other = plain[key]
        assert BASE not in other["body_text"] and BASE not in other["body_html"], key
        assert row["subject"] == other["subject"], key
        alone = f"\n{line}\n" if row["kind"] == "digest" else f"{line}\n"  # the digest's after a blank line
        assert row["body_text"].replace(alone, "", 1) == other["body_text"], key
        paragraph = f"<p>{WORDS[row['kind']]}{anchor}</p>\n"
        assert row["body_html"].replace(paragraph, "", 1) == other["body_html"], key


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_link_is_a_line_of_its_own_in_either_language(
    minimal_plan, tmp_path: Path, language: str
) -> None:
    plan, calendar = minimal_plan
    engine = _campaign(tmp_path / "c.sqlite3", plan, calendar, tmp_path)
    run_tick(engine, plan, calendar, Renderer(language), at("12-12"), links=Links(BASE))
    with engine.connect() as connection:
        reminders = [r for r in outbox_store.rows(connection) if r["kind"] == "reminder"]
    engine.dispose()
    assert reminders
    words = {"zh": "在网页上查看并办理：", "en": "See it and act on the web: "}[language]
    for row in reminders:
        shown = [line for line in row["body_text"].splitlines() if _link(row) in line]
        assert shown == [f"{words}{_link(row)}"]


def test_cuiban_tick_and_digest_take_the_address_from_cuiban_base_url(minimal_plan, tmp_path: Path) -> None:
    """Through the composition root: CUIBAN_BASE_URL (a trailing slash dropped) reaches every message."""
    plan, calendar = minimal_plan
    database = tmp_path / "cli.sqlite3"
    _campaign(database, plan, calendar, tmp_path).dispose()
    env = {"CUIBAN_BASE_URL": f"{BASE}/", "CUIBAN_OUTBOX_DIR": str(tmp_path / "outbox")}
    common = ["--db", f"sqlite:///{database}", "--plan", str(MINIMAL_PLAN), "--now", "2016-12-16T09:30+08:00"]

    ticked = CliRunner().invoke(cuiban, ["tick", "--no-send", *common], env=env)
    digest = CliRunner().invoke(cuiban, ["digest", *common], env=env)

    assert ticked.exit_code == 0, ticked.output
    assert digest.exit_code == 0 and f"在网页上查看实时进度：{BASE}/dashboard\n" in digest.stdout
    engine = open_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        rows = outbox_store.rows(connection)
    engine.dispose()
    assert {row["kind"] for row in rows} >= {"combined", "digest"}
    for row in rows:
        if row["kind"] == "combined":  # one person's tasks: a link to each task's unit page
            unit_page = f"{BASE}/units/"
            assert unit_page in row["body_text"] and f'href="{unit_page}' in row["body_html"]
            continue
        assert _link(row) in row["body_text"] and f'href="{_link(row)}"' in row["body_html"]
