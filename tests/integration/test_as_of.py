"""Figures as of any moment (issue 13, acceptance 2): the demo campaign replayed once; for every day,
the digest and 附表6 as of that day's tick moment equal what that day's tick computed and stored in the
outbox (the digest message's `data`); before the roster import everything is zero. Also on
PostgreSQL for a few days, and `cuiban digest --now` as a command on a database replayed to the end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pendulum
import pytest
from sqlalchemy import select

from cuiban.models import as_of_store, report_store, teacher_store
from cuiban.models.database import open_engine
from cuiban.models.tables import Outbox
from cuiban.notifications.render import Renderer
from cuiban.notifications.transports import FileTransport
from cuiban.planfile.loader import load_plan
from cuiban.schedules.digest import digest_data
from cuiban.services.replay import progress_by_day, read_done, replay
from cuiban.services.reports import dept_audits, monthly
from cuiban.services.roster_import import import_roster
from cuiban.workflow.forms import ENTERED, REVIEWED
from tests.conftest import SHIPPED_PLAN, url_of

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "2016"
TZ = "Asia/Shanghai"
FIRST, LAST = date(2016, 11, 28), date(2016, 12, 30)
BEFORE_ROSTER = pendulum.datetime(2016, 11, 28, 7, 59, tz=TZ)


def _replay(engine, plan, calendar, folder: Path, last: date) -> None:  # type: ignore[no-untyped-def]
    """The demo's campaign (services/demo.py): the roster at 11-28 08:00, then every day to `last`."""
    import_roster(engine, plan, calendar, SAMPLE / "roster.csv", pendulum.datetime(2016, 11, 28, 8, tz=TZ),
                  actor="人事处")
    progress = progress_by_day(sorted((SAMPLE / "status").glob("status-*.csv")))
    replay(engine, plan, calendar, Renderer(plan.language), FileTransport(folder / "outbox"),
           FIRST, last, progress, read_done(SAMPLE / "tasks.csv"))


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):  # type: ignore[no-untyped-def]
    """The whole demo campaign on one SQLite file, replayed once for this module."""
    folder = tmp_path_factory.mktemp("as-of")
    plan, calendar = load_plan(SHIPPED_PLAN)
    engine = open_engine(f"sqlite:///{folder / 'campaign.sqlite3'}")
    _replay(engine, plan, calendar, folder, LAST)
    yield engine, plan, calendar
    engine.dispose()


def stored_digests(engine) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    """Each day's digest figures as the tick stored them (one per recipient per day: all alike)."""
    outbox = Outbox.__table__
    query = select(outbox.c.slot, outbox.c.data).where(outbox.c.kind == "digest").order_by(outbox.c.id)
    with engine.connect() as connection:
        by_day: dict[str, list[dict]] = {}
        for slot, data in connection.execute(query):
            by_day.setdefault(slot, []).append(json.loads(data))
    for copies in by_day.values():
        assert all(c == copies[0] for c in copies)
    return {day: copies[0] for day, copies in by_day.items()}


def moment_of(stored: dict) -> pendulum.DateTime:
    """The tick's moment, as the digest recorded it (`generated_at`)."""
    return pendulum.parse(stored["generated_at"])


def assert_as_of(engine, plan, calendar, stored: dict) -> None:  # type: ignore[no-untyped-def]
    at = moment_of(stored)
    with engine.connect() as connection:
        assert digest_data(connection, plan, calendar, at) == stored, stored["date"]
        audits = {a.unit_id: a for a in dept_audits(connection, plan, at)}
    for unit in stored["units"]:
        audit = audits[unit["unit_id"]]
        assert (audit.entry.total, audit.entry.done, audit.entry.missing) == (
            unit["teachers"], unit["filled"], unit["not_filled"]
        ), (stored["date"], unit["unit_id"])
        assert (audit.review.total, audit.review.done, audit.review.missing) == (
            unit["teachers"], unit["reviewed"], unit["not_reviewed"]
        ), (stored["date"], unit["unit_id"])
        assert len(audit.entry.missing_names) == unit["not_filled"]
        assert len(audit.review.missing_names) == unit["not_reviewed"]
        assert audit.report_date.isoformat() == stored["date"]


def test_every_day_as_of_its_tick_equals_what_the_tick_computed(campaign) -> None:  # type: ignore[no-untyped-def]
    engine, plan, calendar = campaign
    stored = stored_digests(engine)
    campaign_days = (plan.campaign.end - plan.campaign.start).days + 1
    assert len(stored) == min(campaign_days, (LAST - max(FIRST, plan.campaign.start)).days + 1)
    assert any(u["filled_change"] for day in stored.values() for u in day["units"])  # the change is compared
    assert any(day["overdue"] for day in stored.values())  # tasks as of then are compared
    for day in stored.values():
        assert_as_of(engine, plan, calendar, day)


def test_before_the_roster_import_every_figure_is_zero(campaign) -> None:  # type: ignore[no-untyped-def]
    engine, plan, calendar = campaign
    with engine.connect() as connection:
        data = digest_data(connection, plan, calendar, BEFORE_ROSTER)
        audits = dept_audits(connection, plan, BEFORE_ROSTER)
        school = monthly(connection, plan, BEFORE_ROSTER)
        chart = report_store.progress(connection, plan, BEFORE_ROSTER)
    assert set(chart.totals.values()) == {0} and all(set(v) <= {0} for v in chart.entered.values())
    assert data["totals"] == {"teachers": 0, "filled": 0, "reviewed": 0, "filled_percent": 0,
                              "reviewed_percent": 0}
    assert all(u["teachers"] == 0 and u["filled"] == 0 and u["reviewed"] == 0 for u in data["units"])
    assert data["due_today"] == data["due_this_week"] == data["overdue"] == data["behind"] == []
    assert all((a.entry.total, a.entry.done, a.review.total, a.review.done) == (0, 0, 0, 0) for a in audits)
    assert (school.entry.total, school.entry.done, school.review.done) == (0, 0, 0)


@pytest.mark.postgres
def test_a_few_days_as_of_on_each_backend(engine, plan_and_calendar, tmp_path) -> None:  # type: ignore[no-untyped-def]
    plan, calendar = plan_and_calendar
    _replay(engine, plan, calendar, tmp_path, date(2016, 12, 6))
    stored = stored_digests(engine)
    assert len(stored) >= 3
    for day in stored.values():
        assert_as_of(engine, plan, calendar, day)


def test_the_digest_command_as_of_a_past_day(campaign, tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine, plan, calendar = campaign
    stored = stored_digests(engine)["2016-12-16"]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CUIBAN_")}
    done = subprocess.run(
        [sys.executable, "-m", "cuiban.cli.main", "digest", "--format", "json", "--plan", str(SHIPPED_PLAN),
         "--db", url_of(engine), "--now", "2016-12-16T10:00+08:00"],
        capture_output=True, text=True, env=environment, cwd=tmp_path, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown["date"] == "2016-12-16"
    # 10:00 is before that day's tick: the teachers' figures are those of the morning's sync, the same
    # the tick counted at its moment (nothing changes teachers between the sync and the tick)
    assert shown["units"] == stored["units"] and shown["totals"] == stored["totals"]


def test_the_log_read_after_everything_equals_the_tables(campaign) -> None:  # type: ignore[no-untyped-def]
    """The slow path's reading of the log, at a moment after the last entry, equals the fast path's tables:
    counts per unit and state, each department's members, and each stage's completion moment."""
    engine, plan, _ = campaign
    end = pendulum.datetime(2016, 12, 31, 12, tz=TZ)
    with engine.connect() as connection:
        assert as_of_store.is_current(connection, end)
        last = as_of_store.newest_at(connection)
        assert last is not None and not as_of_store.is_current(connection, last - timedelta(seconds=1))
        counts = teacher_store.unit_state_counts(connection)
        assert as_of_store.unit_state_counts_then(connection, end) == counts
        for uid in plan.departments():
            members = as_of_store.unit_teachers_at(connection, end, uid)
            in_scope = [m for m in members if m["state"] not in ("excluded", "left")]
            missing = [m["name"] for m in in_scope if m["state"] not in ENTERED]
            assert missing == report_store.names_missing(connection, uid, sorted(ENTERED))
            for reached in (ENTERED, REVIEWED):
                ids = [m["staff_id"] for m in in_scope if m["state"] in reached]
                assert as_of_store.last_first_reached(connection, end, sorted(reached), ids) == (
                    report_store.last_reached(connection, sorted(reached), uid)
                )
        for reached in (ENTERED, REVIEWED):
            assert as_of_store.last_first_reached(connection, end, sorted(reached)) == (
                report_store.last_reached(connection, sorted(reached))
            )
