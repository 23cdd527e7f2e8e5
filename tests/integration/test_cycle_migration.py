"""A 2016 database made before cycles (migration 0008) keeps every row through migration 0009, and
the first command with the 2016 plan labels them all 2016; after that, `cycle start` and a 2017 tick
work on it as on any other (issue 13, acceptance 1's last sentence).

The pre-change database: the demo campaign replayed, then downgraded to 0008 (the schema and rows a
database of the old code has)."""

from __future__ import annotations

import shutil
from datetime import date

import pendulum
from alembic import command
from sqlalchemy import create_engine, text

from cuiban.cli.bootstrap import packaged_plan
from cuiban.models.database import alembic_config, open_engine
from cuiban.notifications.render import Renderer
from cuiban.notifications.transports import FileTransport
from cuiban.planfile.loader import load_plan, read_plan
from cuiban.services.cycles import start_cycle
from cuiban.services.plan_roll import roll_plan
from cuiban.services.tasks import list_tasks
from cuiban.services.tick_and_send import tick_and_send
from tests.web_support import campaign_file

TABLES = ("task", "outbox", "sync_export", "transition_log", "teacher", "outbox_attachment", "tick_mark")


def _downgraded_copy(tmp_path) -> str:
    path = tmp_path / "before-cycles.sqlite3"
    shutil.copy(campaign_file(tmp_path, date(2016, 12, 30), combine=False), path)  # as before 0012
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0008")
    engine.dispose()
    return url


def _contents(url: str) -> dict[str, list[tuple]]:
    engine = create_engine(url)
    with engine.connect() as connection:
        found = {}
        for table in TABLES:
            columns = [
                c for c in connection.execute(text(f"SELECT * FROM {table} LIMIT 0")).keys() if c != "cycle"  # noqa: SIM118
            ]
            found[table] = [
                tuple(r) for r in connection.execute(text(f"SELECT {', '.join(columns)} FROM {table}"))
            ]
    engine.dispose()
    return found


def test_a_2016_database_from_before_cycles_keeps_every_row_labelled_2016(tmp_path) -> None:
    url = _downgraded_copy(tmp_path)
    before = _contents(url)
    assert before["task"] and before["outbox"] and before["sync_export"]
    engine = open_engine(url)  # migrated to the newest revision: nothing labelled, no cycle yet
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM cycle")).scalar() == 0
        assert connection.execute(text("SELECT count(*) FROM task WHERE cycle IS NOT NULL")).scalar() == 0
    plan, calendar = load_plan(packaged_plan())
    list_tasks(engine, plan, calendar, pendulum.datetime(2016, 12, 31, 9, tz=plan.timezone))  # adopts
    after = _contents(url)
    assert {t: sorted(map(repr, rows)) for t, rows in after.items()} == {
        t: sorted(map(repr, rows)) for t, rows in before.items()
    }
    with engine.connect() as connection:
        for table in ("task", "outbox", "sync_export"):
            cycles = connection.execute(text(f"SELECT DISTINCT cycle FROM {table}")).scalars().all()
            assert cycles == [2016], table
        assert connection.execute(text("SELECT cycle, closed_at FROM cycle")).all() == [(2016, None)]
        assert connection.execute(text("SELECT name FROM tick_mark")).scalars().all() == ["tick:2016"]
    # the 2016 campaign's last tick again: nothing new (no message of 2016 resent after the upgrade)
    last = pendulum.datetime(2016, 12, 30, 18, 5, tz=plan.timezone)
    transport = FileTransport(tmp_path / "mail")
    again = tick_and_send(engine, plan, calendar, Renderer(plan.language), transport, last).tick
    assert sum(again.queued.values()) == 0
    # and the next year starts on it
    plan_2017_file = tmp_path / "plan-2017.yaml"
    roll_plan(packaged_plan(), read_plan(packaged_plan()), 2017, plan_2017_file)
    plan_2017, calendar_2017 = load_plan(plan_2017_file)
    started = start_cycle(engine, plan_2017, pendulum.datetime(2017, 11, 20, 9, tz=plan.timezone))
    assert started.closed == 2016 and started.teachers > 0
    first = pendulum.datetime(2017, 11, 28, 18, 5, tz=plan.timezone)
    ticked = tick_and_send(engine, plan_2017, calendar_2017, Renderer("zh"), transport, first).tick
    assert ticked.opened > 0
    engine.dispose()
