"""The tick in short transactions (issue 15): it commits a chunk of messages at a time, another writer
gets in between, and a tick stopped after a chunk, then run again, queues exactly what one tick that
was never stopped queues; two ticks at once queue each message and record each escalation once.
On SQLite and PostgreSQL.

The stop is a real one: a renderer that fails on its Nth message (an error that is no template's, so
the tick does not carry on), not a fake of our stores.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from bench.province_scale import NOW, province_plan, write_roster
from bench.tick_scale import TICK_AT
from cuiban.models import unit_of_work
from cuiban.models.database import open_engine
from cuiban.notifications.render import Rendered, Renderer
from cuiban.planfile.holidays import build_calendar
from cuiban.schedules.tick import run_tick
from cuiban.services.roster_import import import_roster
from cuiban.workflow.plan.schema import Plan
from tests.conftest import postgres_engine

UNITS = 40
TEACHERS = 400


class Broken(Exception):
    """What the failing renderer raises: no template's failure, so the tick stops."""


class FailingRenderer(Renderer):
    """The real renderer, which fails on its `fail_at`th message (or its first of a kind): a crash in
    the middle of a tick."""

    def __init__(self, fail_at: int | str) -> None:
        super().__init__("zh")
        self.calls, self.fail_at = 0, fail_at

    def render(self, kind: str, context: dict[str, Any]) -> Rendered:
        self.calls += 1
        if self.fail_at in (self.calls, kind):
            raise Broken(f"stopped at message {self.calls} ({kind})")
        return super().render(kind, context)


def _plan(combine: bool) -> Plan:
    plan = province_plan(UNITS)
    return plan.model_copy(update={"reminders": plan.reminders.model_copy(update={"combine": combine})})


def _twin(request: pytest.FixtureRequest, tmp_path: Path, name: str) -> Iterator[Engine]:
    """A second database of the kind the `engine` fixture is."""
    if "postgres" in request.node.callspec.id:
        yield from postgres_engine()
    else:
        engine = open_engine(f"sqlite:///{tmp_path / name}")
        yield engine
        engine.dispose()


@pytest.fixture
def twin(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    yield from _twin(request, tmp_path, "twin.sqlite3")


def _campaign(engine: Engine, plan: Plan, folder: Path) -> None:
    """Every department behind on 12-16: reminders and escalations to each of them."""
    roster = folder / "roster.csv"
    if not roster.exists():
        write_roster(roster, TEACHERS, UNITS)
    import_roster(engine, plan, build_calendar(plan.calendar), roster, NOW)


def _tick(engine: Engine, plan: Plan, renderer: Renderer, chunk: int) -> Any:
    return run_tick(engine, plan, build_calendar(plan.calendar), renderer, TICK_AT, chunk=chunk)


def _written(engine: Engine) -> dict[str, list[tuple]]:
    """What ticks wrote, without what differs between two databases (ids, Message-IDs, xlsx bytes)."""
    queries = {
        "outbox": "SELECT key, kind, task_key, unit_id, recipient, recipient_name, slot, subject, body_text, "
        "body_html, data, status, priority, due_at, created_at, last_error FROM outbox ORDER BY id",
        "parts": "SELECT key, outbox_key, kind, task_key, slot, due_at FROM outbox_part ORDER BY key",
        "files": "SELECT outbox_key, filename, content_type FROM outbox_attachment ORDER BY outbox_key, id",
        "tasks": "SELECT milestone_id, unit_id, occurrence, state, escalation_level, completed_at FROM task "
        "ORDER BY id",
        "log": "SELECT record_key, from_state, to_state, event, source, at, note FROM transition_log "
        "WHERE record_kind = 'task' ORDER BY record_key, id",
        "mark": "SELECT name, at FROM tick_mark",
    }
    with engine.connect() as connection:
        return {name: [tuple(row) for row in connection.execute(text(sql))] for name, sql in queries.items()}


@pytest.mark.parametrize(("combine", "chunk"), [(False, 50), (True, 10)], ids=["one-per-task", "combined"])
def test_a_tick_stopped_after_a_chunk_then_run_again_queues_what_one_tick_would(
    engine: Engine, twin: Engine, tmp_path: Path, combine: bool, chunk: int
) -> None:
    plan = _plan(combine)
    for database in (engine, twin):
        _campaign(database, plan, tmp_path)
    whole = _tick(twin, plan, Renderer("zh"), chunk)
    expected = _written(twin)
    messages = sum(whole.queued.values())
    assert messages > 4 * chunk and whole.escalated > 0  # several chunks, escalations among them

    # the first stop: in the middle of the messages; the second: at the digest (the task messages and
    # the tasks' transitions committed, the digest and the tick's mark not)
    for fail_at in (chunk + chunk // 2, "digest"):
        with pytest.raises(Broken):
            _tick(engine, plan, FailingRenderer(fail_at), chunk)
        stopped = _written(engine)
        assert 0 < len(stopped["outbox"]) < len(expected["outbox"])
        assert stopped["mark"] != expected["mark"]  # the next tick decides from the same mark
        if fail_at != "digest":
            assert stopped["tasks"] != expected["tasks"]  # transitions come after their messages
            assert [row[0] for row in stopped["outbox"]] == [row[0] for row in expected["outbox"]][
                : len(stopped["outbox"])
            ]  # whole chunks, in the order the uninterrupted tick queued them

    again = _tick(engine, plan, Renderer("zh"), chunk)
    assert _written(engine) == expected
    assert 0 < sum(again.queued.values()) < messages
    assert sum(_tick(engine, plan, Renderer("zh"), chunk).queued.values()) == 0  # and nothing twice


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Iterator[Engine]:
    engine = open_engine(f"sqlite:///{tmp_path / 'cuiban.sqlite3'}")
    yield engine
    engine.dispose()


def test_the_tick_commits_chunk_by_chunk_and_another_writer_gets_in_between(
    sqlite_file: Engine, tmp_path: Path
) -> None:
    plan = _plan(combine=False)
    _campaign(sqlite_file, plan, tmp_path)
    commits: list[float] = []
    begun: dict[int, float] = {}
    held: list[float] = []

    @event.listens_for(sqlite_file, "begin")
    def _begin(connection: Any) -> None:
        begun[id(connection)] = time.perf_counter()

    @event.listens_for(sqlite_file, "commit")
    def _commit(connection: Any) -> None:
        commits.append(time.perf_counter())
        held.append(commits[-1] - begun.pop(id(connection), commits[-1]))

    other = _OtherWriter(tmp_path / "cuiban.sqlite3")
    before = unit_of_work.commits()
    with other.writing():
        report = _tick(sqlite_file, plan, Renderer("zh"), 50)
    queued = sum(report.queued.values())
    assert queued > 200
    assert unit_of_work.commits() - before >= queued // 50  # a transaction per chunk of 50, at least
    first, last = min(commits), max(commits)
    between = [t for t in other.committed if first < t < last]
    assert between, "no write of another connection committed while the tick was writing"
    assert max(held) < 2.0, f"a transaction of the tick lasted {max(held):.2f} s"
    assert max(other.waits) < 2.0, f"another writer waited {max(other.waits):.2f} s"


class _OtherWriter:
    """Another connection writing one row every 10 ms while a tick runs: when each committed, and how
    long each write took (waiting for the tick's write lock included)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.committed: list[float] = []
        self.waits: list[float] = []

    def _run(self, stop: threading.Event) -> None:
        import sqlite3

        connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        while not stop.is_set():
            start = time.perf_counter()
            connection.execute("BEGIN IMMEDIATE")
            connection.execute(
                "INSERT INTO access_log (at, action, method, path, client, outcome, why) "
                "VALUES ('2016-12-16 01:30:00', 'test', 'GET', '/', 'test', 'refused', 'during a tick')"
            )
            connection.execute("COMMIT")
            self.committed.append(time.perf_counter())
            self.waits.append(self.committed[-1] - start)
            time.sleep(0.01)
        connection.close()

    def writing(self) -> Any:
        from contextlib import contextmanager

        @contextmanager
        def running() -> Iterator[None]:
            stop = threading.Event()
            thread = threading.Thread(target=self._run, args=(stop,))
            thread.start()
            try:
                yield
            finally:
                stop.set()
                thread.join()

        return running()


def test_two_ticks_at_once_queue_each_message_and_record_each_escalation_once(
    engine: Engine, twin: Engine, tmp_path: Path
) -> None:
    plan = _plan(combine=False)
    for database in (engine, twin):
        _campaign(database, plan, tmp_path)
    _tick(twin, plan, Renderer("zh"), 25)
    expected = _written(twin)

    reports: list[Any] = []
    errors: list[BaseException] = []

    def one() -> None:
        try:
            reports.append(_tick(engine, plan, Renderer("zh"), 25))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    written = _written(engine)
    assert sorted(written["outbox"]) == sorted(expected["outbox"])  # each once, whoever queued it
    assert written["tasks"] == expected["tasks"] and written["log"] == expected["log"]
    for kind in ("reminder", "escalation", "digest"):  # each message counted by the tick that queued it
        assert sum(r.queued[kind] for r in reports) == sum(1 for row in expected["outbox"] if row[1] == kind)
    assert sum(r.escalated for r in reports) == sum(1 for row in expected["log"] if row[3] == "escalate")
