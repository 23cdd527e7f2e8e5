"""Year after year on one database (issue 13, acceptance 1): the 2016 demo campaign, `plan roll` to
2017, `cycle start`, the 2017 roster, November–December 2017 replayed. The 2017 campaign must go
exactly as it goes on a fresh database (every task opened and reminded the same day, the same
outbox), and 2016's tasks and messages stay as they were, labelled 2016.

Three replays, shared by the module: 2016 then 2017 on one database, 2017 alone on a fresh one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pendulum
import pytest
from sqlalchemy import text

from cuiban.cli.bootstrap import packaged_plan
from cuiban.models.database import open_engine
from cuiban.notifications.render import Renderer
from cuiban.notifications.transports import FileTransport
from cuiban.planfile.loader import load_plan, read_plan
from cuiban.planfile.roll import shift_years
from cuiban.schedules.digest import digest_data
from cuiban.services.plan_roll import roll_plan
from cuiban.services.replay import DayRow, progress_by_day, read_done, replay
from cuiban.services.reports import dept_audits
from cuiban.services.roster_import import import_roster
from tests.web_support import campaign_file

ROOT = Path(__file__).resolve().parent.parent.parent
SAMPLE = ROOT / "samples" / "2016"
TZ = "Asia/Shanghai"


@dataclass
class Years:
    folder: Path
    url: str
    plan_2017: Path
    rows_2017: list[DayRow]
    fresh_2017: list[DayRow]
    fresh_url: str
    before_start: dict[str, list[tuple]]
    """The 2016 tasks and outbox rows as they were before `cycle start`."""
    start_output: str
    again_output: str


def _cuiban(*args: str, db: str, plan: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CUIBAN_DB": db, "CUIBAN_PLAN": str(plan)}
    command = [sys.executable, "-m", "cuiban.cli.main", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def _inputs_2017(folder: Path) -> tuple[dict[date, list[Path]], list]:
    """The 2016 status exports and tasks done by hand, re-dated a year later."""
    status = folder / "status-2017"
    status.mkdir()
    for path in sorted((SAMPLE / "status").glob("status-*.csv")):
        day = date.fromisoformat(path.stem.removeprefix("status-"))
        shutil.copy(path, status / f"status-{shift_years(day, 1).isoformat()}.csv")
    done = [
        type(d)(shift_years(d.day, 1), d.milestone, d.unit, d.by) for d in read_done(SAMPLE / "tasks.csv")
    ]
    return progress_by_day(sorted(status.glob("status-*.csv"))), done


def _campaign(url: str, plan_file: Path, first: date, last: date, progress, done, mail: Path) -> list[DayRow]:
    plan, calendar = load_plan(plan_file)
    engine = open_engine(url)
    start = pendulum.datetime(first.year, 11, 28, 8, tz=TZ)
    import_roster(engine, plan, calendar, SAMPLE / "roster.csv", start, actor="人事处")
    rows = replay(
        engine, plan, calendar, Renderer(plan.language), FileTransport(mail), first, last, progress, done
    )
    engine.dispose()
    return rows


def _labelled(url: str, cycle: int) -> dict[str, list[tuple]]:
    engine = open_engine(url)
    with engine.connect() as connection:
        found = {
            table: [
                tuple(r)
                for r in connection.execute(
                    text(f"SELECT * FROM {table} WHERE cycle = :c ORDER BY id"), {"c": cycle}
                )
            ]
            for table in ("task", "outbox", "sync_export")
        }
    engine.dispose()
    return found


@pytest.fixture(scope="module")
def years(tmp_path_factory) -> Years:
    folder = tmp_path_factory.mktemp("cycles")
    plan_2016 = packaged_plan()
    url = f"sqlite:///{folder / 'years.sqlite3'}"
    shutil.copyfile(campaign_file(folder, date(2016, 12, 30)), folder / "years.sqlite3")  # the 2016 demo
    shutil.copyfile(folder / "years.sqlite3", folder / "only-2016.sqlite3")  # kept as it is, to compare
    plan_2017 = folder / "plan-2017.yaml"
    roll_plan(plan_2016, read_plan(plan_2016), 2017, plan_2017)
    before = _labelled(url, 2016)
    started = _cuiban(
        "cycle", "start", "--now", "2017-11-20T09:00+08:00", "--by", "教师发展中心", db=url, plan=plan_2017
    )
    assert started.returncode == 0, started.stderr
    again = _cuiban("cycle", "start", "--now", "2017-11-21T09:00+08:00", db=url, plan=plan_2017)
    assert again.returncode == 0, again.stderr
    progress_2017, done_2017 = _inputs_2017(folder)
    first, last = date(2017, 11, 28), date(2017, 12, 30)
    rows_2017 = _campaign(url, plan_2017, first, last, progress_2017, done_2017, folder / "mail-2017")
    fresh_url = f"sqlite:///{folder / 'fresh-2017.sqlite3'}"
    fresh = _campaign(fresh_url, plan_2017, first, last, progress_2017, done_2017, folder / "mail-fresh")
    return Years(
        folder, url, plan_2017, rows_2017, fresh, fresh_url, before, started.stdout, again.stdout
    )


def test_the_2017_campaign_goes_as_on_a_fresh_database(years: Years) -> None:
    assert years.rows_2017 == years.fresh_2017
    assert sum(r.reminders for r in years.rows_2017) > 0
    assert sum(r.escalations for r in years.rows_2017) > 0
    assert sum(r.digests for r in years.rows_2017) > 0


def test_every_2017_task_opens_and_is_reminded_as_in_2016(years: Years) -> None:
    """The same inputs a year later: the same tasks as 2016, every one opened, the tasks reminded those
    of a fresh 2017 database (the rolled plan keeps month and day, so weekends and holidays fall
    elsewhere and which reminders fall due differs from 2016's, as it would for any new year)."""
    engine = open_engine(years.url)
    with engine.connect() as connection:
        tasks = {
            cycle: sorted(
                (m, u, o[5:] if o else "", s)
                for m, u, o, s in connection.execute(
                    text("SELECT milestone_id, unit_id, occurrence, state FROM task WHERE cycle = :c"),
                    {"c": cycle},
                )
            )
            for cycle in (2016, 2017)
        }
    engine.dispose()
    assert len(tasks[2017]) == len(tasks[2016]) > 0
    assert [t[:3] for t in tasks[2017]] == [t[:3] for t in tasks[2016]]
    assert all(state != "upcoming" for *_, state in tasks[2017])
    assert _reminded_tasks(years.url, 2017) == _reminded_tasks(years.fresh_url, 2017) != set()


def _reminded_tasks(url: str, cycle: int) -> set[str]:
    engine = open_engine(url)
    with engine.connect() as connection:
        query = text("SELECT DISTINCT task_key FROM outbox WHERE kind = 'reminder' AND cycle = :c")
        found = set(connection.execute(query, {"c": cycle}).scalars())
    engine.dispose()
    return found


def test_no_2016_message_is_counted_or_resent_in_2017(years: Years) -> None:
    def kinds(url: str, cycle: int | None) -> Counter:
        engine = open_engine(url)
        where = "" if cycle is None else f"WHERE cycle = {cycle}"
        with engine.connect() as connection:
            found = Counter(
                dict(
                    connection.execute(text(f"SELECT kind, count(*) FROM outbox {where} GROUP BY kind")).all()
                )
            )
        engine.dispose()
        return found

    assert kinds(years.url, 2017) == kinds(years.fresh_url, None)
    assert kinds(years.url, 2016) == Counter(row[kind_column(years)] for row in years.before_start["outbox"])


def kind_column(years: Years) -> int:
    engine = open_engine(years.url)
    with engine.connect() as connection:
        names = list(connection.execute(text("SELECT * FROM outbox LIMIT 1")).keys())
    engine.dispose()
    return names.index("kind")


def test_2016_tasks_and_messages_stay_as_they_were(years: Years) -> None:
    after = _labelled(years.url, 2016)
    assert after == years.before_start
    assert len(after["task"]) > 0 and len(after["outbox"]) > 0 and len(after["sync_export"]) > 0


def test_cycle_start_closes_2016_and_starts_every_teacher_afresh(years: Years) -> None:
    assert "cycle 2016 closed" in years.start_output and "cycle 2017 started" in years.start_output
    assert "already the current cycle" in years.again_output
    listed = _cuiban("cycle", "list", db=years.url, plan=years.plan_2017)
    lines = listed.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["2016", "2017"]
    assert "closed" in lines[0] and lines[1].endswith("current")
    engine = open_engine(years.url)
    with engine.connect() as connection:
        entries = connection.execute(
            text("SELECT count(*), min(actor), min(note) FROM transition_log WHERE event = 'new_cycle'")
        ).one()
        teachers = connection.execute(text("SELECT count(*) FROM teacher WHERE state <> 'left'")).scalar()
    engine.dispose()
    assert entries[0] > 0 and entries[1] == "教师发展中心" and entries[2] == "cycle 2017"
    assert entries[0] <= teachers


def test_the_2016_plan_is_refused_for_writing_and_still_reads(years: Years) -> None:
    ticked = _cuiban("tick", "--now", "2016-12-30T18:00+08:00", db=years.url, plan=packaged_plan())
    assert ticked.returncode == 2
    assert "moved on to cycle 2017" in ticked.stderr and "cycle 2016" in ticked.stderr
    assert "Traceback" not in ticked.stderr
    tasks = _cuiban("task", "list", "--now", "2016-12-30T18:00+08:00", db=years.url, plan=packaged_plan())
    assert tasks.returncode == 0, tasks.stderr


def test_a_newer_plan_must_be_started_first(years: Years, tmp_path: Path) -> None:
    plan_2018 = tmp_path / "plan-2018.yaml"
    roll_plan(years.plan_2017, read_plan(years.plan_2017), 2018, plan_2018)
    copy = tmp_path / "copy.sqlite3"
    shutil.copy(years.url.removeprefix("sqlite:///"), copy)
    ticked = _cuiban("tick", "--now", "2018-11-28T18:00+08:00", db=f"sqlite:///{copy}", plan=plan_2018)
    assert ticked.returncode == 2
    assert "start it first: cuiban cycle start --plan" in ticked.stderr


def test_simulate_counts_only_what_it_sent(years: Years) -> None:
    """The 2017 database simulated for two more days of its own campaign: the count is those days'
    messages, not the whole outbox of both years."""
    out = _cuiban(
        "simulate", "--from", "2017-12-29", "--to", "2017-12-30", db=years.url, plan=years.plan_2017
    )
    assert out.returncode == 0, out.stderr
    total = [line for line in out.stdout.splitlines() if "messages written to" in line]
    assert total and int(total[0].split()[0]) < 50, out.stdout


def test_the_2016_digest_of_a_past_day_reads_2016(years: Years) -> None:
    """Reading the 2016 cycle with its plan is allowed (figures as of the day come from the log)."""
    shown = _cuiban(
        "digest", "--now", "2016-12-16T18:00+08:00", "--format", "json", db=years.url, plan=packaged_plan()
    )
    assert shown.returncode == 0, shown.stderr
    json.loads(shown.stdout)


MOMENTS_2016 = ["2016-12-02T09:30+08:00", "2016-12-16T18:00+08:00", "2016-12-30T18:00+08:00"]


@pytest.mark.parametrize("moment", MOMENTS_2016)
def test_2016s_figures_read_the_same_after_2017_as_before_it(years: Years, moment: str) -> None:
    """The 2016 digest and 附表6 on the database that went on to 2017 equal those of a database that
    stopped at 2016: the 2017 cycle's progress, tasks and messages do not leak into 2016's figures."""
    plan, calendar = load_plan(packaged_plan())
    at = pendulum.parse(moment)
    found = {}
    for name in ("years", "only-2016"):
        engine = open_engine(f"sqlite:///{years.folder / f'{name}.sqlite3'}")
        with engine.connect() as connection:
            digest = digest_data(connection, plan, calendar, at)
            audits = [(a.unit_id, a.entry, a.review) for a in dept_audits(connection, plan, at)]
        engine.dispose()
        digest.pop("generated_at")
        found[name] = (digest, audits)
    assert found["years"] == found["only-2016"]
    assert found["years"][0]["totals"]["teachers"] > 0
