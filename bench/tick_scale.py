"""Province scale, day to day: the digest's figures and a full tick (rendering included) at N teachers,
on SQLite or PostgreSQL.

The database is built the way a campaign builds it — the roster imported, then a
status export synced (not timed here; `bench.province_scale` times those) — then,
each in its own forked process (its peak memory its own; what it loads first is not timed):
  digest        — schedules.digest.digest_data, against the raw baseline
                  SELECT unit_id, state, count(*) FROM teacher GROUP BY unit_id, state
                  on the same database (sqlite3, or psycopg), best of 3 runs of each taken
                  in turn; on PostgreSQL again after VACUUM ANALYZE (what autovacuum does
                  some time after the bulk load);
  tick          — a whole tick on 2016-12-16 09:30 (tasks opened and marked overdue,
                  reminders and escalations to every department with its unfinished
                  teachers, the digest), every message rendered and queued; meanwhile
                  another process writes one row (an access_log entry) every 0.2 s, and
                  the longest of those writes is the longest another writer waited.

    .venv/bin/python -m bench.tick_scale                       # 1,000,000 teachers over 2,000 units
    .venv/bin/python -m bench.tick_scale --teachers 5000 --units 50
    .venv/bin/python -m bench.tick_scale --db postgres         # $CUIBAN_TEST_PG_URL, or --url

Each step's wall and CPU seconds (user + system of its process, over the timed work only) and
peak memory; on PostgreSQL also the server's CPU seconds meanwhile (every process of a server on
this machine, the step's setup included). On PostgreSQL the run gets a schema of its own (the
connections' search_path), dropped after.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pendulum

from bench.province_scale import (
    NOW,
    libpq_url,
    postgres_cpu,
    province_plan,
    warm_up,
    write_export,
    write_roster,
)

TICK_AT = pendulum.datetime(2016, 12, 16, 9, 30, tz="Asia/Shanghai")
WRITE_EVERY = 0.2
"""Seconds between the other process's one-row writes during the tick."""
RAW_DIGEST = "SELECT unit_id, state, count(*) FROM teacher GROUP BY unit_id, state"
DIGEST_RUNS = 3
"""The digest and its baseline are measured this many times each, in turn; the best of each counts."""


@dataclass(frozen=True)
class Figure:
    step: str
    seconds: float
    cpu: float
    """CPU seconds (user + system) of the step's process over the timed work."""
    peak_mb: float
    result: Any = None
    server_cpu: float | None = None
    """CPU seconds of the PostgreSQL server meanwhile (all its processes, setup included), when local."""


def measured(
    step: str, prepare: Callable[[], Callable[[], Any]], server: Callable[[], float] | None = None
) -> Figure:
    """In a forked child: `prepare()` (untimed: the plan, the engine, a connection), then the work it
    returns, timed (wall and CPU seconds); the child's peak resident memory, setup included.
    `server`: a reading of the database server's CPU seconds, taken before and after."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    served = server() if server else None

    def child() -> None:
        work = prepare()
        start, cpu = time.perf_counter(), _cpu()
        result = work()
        seconds, cpu = time.perf_counter() - start, _cpu() - cpu
        queue.put((seconds, cpu, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, result))

    process = context.Process(target=child)
    process.start()
    seconds, cpu, peak, result = queue.get()
    process.join()
    if process.exitcode:
        raise RuntimeError(f"{step} failed in its process")
    server_cpu = server() - served if server and served is not None else None
    return Figure(step, seconds, cpu, peak, result, server_cpu)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# ── where it runs ────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Database:
    """A SQLite file, or a schema of its own on a PostgreSQL server."""

    url: str
    schema: str | None = None

    def server(self) -> Callable[[], float] | None:
        """The PostgreSQL server's CPU seconds so far, when it runs on this machine."""
        return None if self.schema is None else postgres_cpu(self.url)

    @property
    def label(self) -> str:
        return "SQLite file, WAL" if self.schema is None else "PostgreSQL, a schema of its own"

    def engine(self) -> Any:
        from cuiban.models.database import open_engine

        if self.schema is None:
            return open_engine(self.url)
        return open_engine(self.url, connect_args={"options": f"-csearch_path={self.schema}"})

    def raw(self) -> Any:
        """A DB-API connection of the driver itself, outside cuiban and SQLAlchemy."""
        if self.schema is None:
            return sqlite3.connect(self.url.removeprefix("sqlite:///"), timeout=60, isolation_level=None)
        import psycopg

        return psycopg.connect(libpq_url(self.url), options=f"-csearch_path={self.schema}", autocommit=True)


@contextmanager
def database(folder: Path, url: str | None) -> Iterator[Database]:
    """A fresh database for the run: a file in `folder`, or a schema on `url`, dropped after."""
    if url is None:
        yield Database(f"sqlite:///{folder / 'cuiban.sqlite3'}")
        return
    import psycopg

    schema = f"bench_tick_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(libpq_url(url), autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    try:
        yield Database(url, schema)
    finally:
        with psycopg.connect(libpq_url(url), autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


# ── the steps ────────────────────────────────────────────────────────────────────


def build(db: Database, roster: Path, export: Path, units: int) -> Callable[[], Any]:
    """The campaign's database: the roster imported, the export synced (both timed in province_scale)."""
    from cuiban.planfile.holidays import build_calendar
    from cuiban.services.roster_import import import_roster
    from cuiban.services.status_sync import sync_statuses

    plan = province_plan(units)
    calendar = build_calendar(plan.calendar)
    engine = db.engine()

    def work() -> dict[str, int]:
        imported = import_roster(engine, plan, calendar, roster, NOW)
        synced = sync_statuses(engine, plan, calendar, export, NOW.add(days=1))
        engine.dispose()
        if db.schema is None:  # the sync's hundreds of MB of WAL copied into the file now, not by
            connection = db.raw()  # whichever writer commits first during the tick
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            connection.close()
        return {"imported": imported.imported, "synced": synced.changed}

    return work


def cuiban_digest(db: Database, units: int) -> Callable[[], int]:
    from cuiban.planfile.holidays import build_calendar
    from cuiban.schedules.digest import digest_data

    plan = province_plan(units)
    calendar = build_calendar(plan.calendar)
    connection = db.engine().connect()
    return lambda: digest_data(connection, plan, calendar, TICK_AT)["totals"]["teachers"]


def raw_digest(db: Database) -> Callable[[], int]:
    connection = db.raw()

    def work() -> int:
        rows = connection.execute(RAW_DIGEST).fetchall()
        return sum(n for _, state, n in rows if state not in ("excluded", "left"))

    return work


def cuiban_tick(db: Database, units: int) -> Callable[[], dict[str, int]]:
    from cuiban.notifications.render import Renderer
    from cuiban.planfile.holidays import build_calendar
    from cuiban.schedules.tick import run_tick

    plan = province_plan(units)
    calendar = build_calendar(plan.calendar)
    engine = db.engine()
    return lambda: dict(run_tick(engine, plan, calendar, Renderer("zh"), TICK_AT).queued)


@dataclass(frozen=True)
class Waits:
    """The other process's one-row writes during the tick: for each, how long it waited for the write
    lock (its BEGIN), and how long it took in all (BEGIN to the end of its COMMIT)."""

    writes: list[tuple[float, float]]

    @property
    def longest(self) -> tuple[float, float]:
        return max(self.writes, key=lambda w: w[1], default=(0.0, 0.0))

    @property
    def median(self) -> float:
        return statistics.median(total for _, total in self.writes) if self.writes else 0.0


def _write_one_row(db: Database, stop: Any, found: Any) -> None:
    """Every WRITE_EVERY seconds until `stop`: one access_log row in a transaction of its own
    (a SQLite writer waits for the lock up to 60 s)."""
    connection = db.raw()
    mark = "?" if db.schema is None else "%s"
    statement = (
        "INSERT INTO access_log (at, action, method, path, client, outcome, why) "
        f"VALUES ({mark}, 'bench', 'GET', '/', 'bench', 'refused', 'one-row write during a tick')"
    )
    writes = []
    while not stop.is_set():
        start = time.perf_counter()
        connection.execute("BEGIN IMMEDIATE" if db.schema is None else "BEGIN")
        locked = time.perf_counter()
        connection.execute(statement, (pendulum.now("UTC").to_iso8601_string(),))
        connection.execute("COMMIT")
        writes.append((locked - start, time.perf_counter() - start))
        time.sleep(WRITE_EVERY)
    connection.close()
    found.put(writes)


def tick_with_writer(db: Database, units: int) -> tuple[Figure, Waits]:
    """The tick, while another process writes one row every WRITE_EVERY seconds."""
    context = multiprocessing.get_context("fork")
    stop, found = context.Event(), context.Queue()
    writer = context.Process(target=_write_one_row, args=(db, stop, found))
    writer.start()
    try:
        tick = measured("tick", lambda: cuiban_tick(db, units), db.server())
    finally:
        stop.set()
    waits = Waits(found.get())
    writer.join()
    return tick, waits


# ── the run ──────────────────────────────────────────────────────────────────────


def run(teachers: int, units: int, folder: Path, url: str | None = None) -> dict[str, Any]:
    warm_up()
    import cuiban.schedules.tick  # noqa: F401  (imported before forking, like the rest)

    roster, export = folder / "roster.csv", folder / "export.csv"
    write_roster(roster, teachers, units)
    write_export(export, teachers)
    with database(folder, url) as db:
        measured("build", lambda: build(db, roster, export, units))
        figures: dict[str, Any] = _digests(db, units)
        if db.schema is not None:
            _vacuum(db)
            figures |= _digests(db, units, ", vacuumed")
        figures["tick"], figures["waits"] = tick_with_writer(db, units)
        figures["label"] = db.label
    return figures


def _digests(db: Database, units: int, after: str = "") -> dict[str, Figure]:
    """The digest and its raw baseline, each the best of DIGEST_RUNS runs taken in turn (the first
    run of either reads the index from the disk, the next ones from the page cache)."""
    runs = []
    for _ in range(DIGEST_RUNS):
        ours = measured("digest", lambda: cuiban_digest(db, units), db.server())
        runs.append((ours, measured("digest (raw)", lambda: raw_digest(db), db.server())))
    best = lambda figures: min(figures, key=lambda f: f.seconds)  # noqa: E731
    return {f"digest{after}": best(r[0] for r in runs), f"digest (raw){after}": best(r[1] for r in runs)}


def _vacuum(db: Database) -> None:
    """What autovacuum does some time after a bulk load (when, depends on its naptime and thresholds):
    the sync's million dead row versions cleared, the visibility map set for index-only scans, the
    statistics fresh. The digest is measured before and after."""
    connection = db.raw()
    connection.execute("VACUUM ANALYZE teacher")
    connection.close()


def report(figures: dict[str, Any], teachers: int, units: int) -> str:
    tick, waits = figures["tick"], figures["waits"]
    lines = [
        f"tick and digest at {teachers:,} teachers over {units:,} units ({figures['label']}), {TICK_AT}",
        f"{'step':<24}{'seconds':>10}{'CPU s':>9}{'peak MB':>10}"
        + (f"{'server CPU s':>14}" if tick.server_cpu is not None else ""),
    ]
    for after in ("", ", vacuumed"):
        if f"digest{after}" in figures:
            digest, raw = figures[f"digest{after}"], figures[f"digest (raw){after}"]
            lines += [
                _line(f"digest{after}", digest, f"{digest.seconds / raw.seconds:.1f}× raw"),
                _line(f"digest (raw){after}", raw),
            ]
    return "\n".join(
        [
            *lines,
            _line("tick", tick, f"queued {tick.result}"),
            f"one-row writes by another process during the tick: {len(waits.writes)}, longest "
            f"{waits.longest[1]:.3f} s ({waits.longest[0]:.3f} s of it waiting for the write lock), "
            f"median {waits.median:.3f} s",
        ]
    )


def _line(step: str, figure: Figure, note: str = "") -> str:
    server = f"{figure.server_cpu:>14.2f}" if figure.server_cpu is not None else ""
    figures = f"{figure.seconds:>10.2f}{figure.cpu:>9.2f}{figure.peak_mb:>10.0f}{server}"
    return f"{step:<24}{figures}   {note}".rstrip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--teachers", type=int, default=1_000_000)
    parser.add_argument("--units", type=int, default=2_000)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--url", help="PostgreSQL server (default: $CUIBAN_TEST_PG_URL)")
    args = parser.parse_args(argv)
    url = None
    if args.db == "postgres":
        url = args.url or os.environ.get("CUIBAN_TEST_PG_URL")
        if not url:
            parser.error("--db postgres needs --url or CUIBAN_TEST_PG_URL")
    with tempfile.TemporaryDirectory(prefix="cuiban-bench-") as folder:
        figures = run(args.teachers, args.units, Path(folder), url)
    print(report(figures, args.teachers, args.units))
    return 0


if __name__ == "__main__":
    sys.exit(main())
