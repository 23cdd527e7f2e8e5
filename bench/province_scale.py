"""Province scale: import a roster of N teachers over M units, then sync a status export.

Each step runs in its own forked process so its peak memory and CPU time are its own, and is
timed next to a raw baseline on the same file in the same run:
  import  — SQLite: Python's csv reader + plain sqlite3 executemany in one transaction;
            PostgreSQL: the file's bytes streamed by `COPY teacher FROM STDIN (FORMAT csv)`
            (psycopg 3 `cursor.copy`), one transaction;
  sync    — SQLite: csv reader, one UPDATE per target state, executemany of the log rows;
            PostgreSQL: the export COPYed into a TEMP staging table, analysed, one
            `UPDATE teacher … FROM stage` for every target state, the log rows by one
            `INSERT … SELECT`.

    .venv/bin/python -m bench.province_scale                       # 1,000,000 teachers, 2,000 units
    .venv/bin/python -m bench.province_scale --teachers 5000 --units 50
    .venv/bin/python -m bench.province_scale --db postgres         # $CUIBAN_TEST_PG_URL, or --url

On PostgreSQL each side of each run gets a schema of its own, dropped after the run.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import multiprocessing
import os
import resource
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from queue import Empty
from typing import Any

import pendulum

from cuiban.planfile.loader import load_plan
from cuiban.services.roster_import import PARTS
from cuiban.workflow.plan.schema import Person, Plan, Unit

PLAN = Path(__file__).resolve().parent.parent / "config" / "plan.yaml"
ROSTER_HEADER = list(load_plan(PLAN)[0].roster.columns.values())
EXPORT_HEADER = ["工号", "姓名", "填报状态"]
MOVES = ("未填报", "填报中", "已提交")  # 1, 2 and 3 steps from pending
NOW = pendulum.datetime(2016, 12, 1, 9, tz="Asia/Shanghai")

NOT_RUN = float("nan")
"""The baseline's seconds and memory when it is not run (--no-baseline)."""

Db = Path | str
"""Where a step writes: a SQLite file, or a PostgreSQL URL naming its schema (search_path)."""


@dataclass(frozen=True)
class Figure:
    step: str
    rows: int
    seconds: float
    peak_mb: float
    result: Any = None
    cpu: float = 0.0
    """CPU seconds (user + system) of the step's process and of the processes it started and waited for."""
    server_cpu: float | None = None
    """CPU seconds of the PostgreSQL server meanwhile (all its processes), when it runs on this machine."""

    @property
    def per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else float("inf")

    @property
    def all_cpu(self) -> float:
        return self.cpu + (self.server_cpu or 0.0)


def province_plan(units: int) -> Plan:
    """The shipped plan with `units` synthetic departments instead of its own."""
    plan, _ = load_plan(PLAN)
    offices = {uid: u for uid, u in plan.units.items() if u.kind == "office"}
    people = dict(plan.people)
    departments = {}
    for n in range(units):
        people[f"c{n}"] = Person(name=f"采集员{n}", email=f"c{n}@school.example", unit=f"d{n}")
        departments[f"d{n}"] = Unit(name=f"第{n}学院", kind="department", collector=f"c{n}", head=f"c{n}")
    return plan.model_copy(update={"units": offices | departments, "people": people})


def write_roster(path: Path, teachers: int, units: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(ROSTER_HEADER)
        for n in range(teachers):
            writer.writerow(
                [
                    f"{n:08d}",
                    f"教师{n}",
                    "男" if n % 2 else "女",
                    f"{1960 + n % 35}-{1 + n % 12:02d}-15",
                    f"第{n % units}学院",
                    "教师岗位",
                    "合同",
                    "36",
                    "否",
                    f"t{n}@school.example",
                ]
            )


def write_export(path: Path, teachers: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(EXPORT_HEADER)
        for n in range(teachers):
            writer.writerow([f"{n:08d}", f"教师{n}", MOVES[n % 3]])


# ── measuring ────────────────────────────────────────────────────────────────────


def _cpu(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def measured(
    step: str, rows: int, work: Callable[[], Any], helpers: int = 0, server: Callable[[], float] | None = None
) -> Figure:
    """Run `work` in a forked child: its wall time, CPU time and peak resident memory.

    CPU: the child's user + system seconds and those of the processes it waited for (the import's
    checkers). Peak: the child's own; with `helpers`, the work runs that many processes of its own
    at once, and the peak is the child's plus that many times the largest of them, an upper bound
    of what they held together. `server`: a reading of the database server's CPU seconds, taken
    before and after (the server's memory is not counted)."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()

    def child() -> None:
        start = time.perf_counter()
        result = work()
        seconds = time.perf_counter() - start
        own, waited = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        largest_helper = waited.ru_maxrss / 1024 if helpers else 0
        queue.put(
            (seconds, own.ru_maxrss / 1024 + helpers * largest_helper, result, _cpu(own) + _cpu(waited))
        )

    served = server() if server else None
    process = context.Process(target=child)
    process.start()
    while True:  # a step that dies in its process says so instead of leaving this one waiting
        try:
            seconds, peak, result, cpu = queue.get(timeout=1)
            break
        except Empty:
            if not process.is_alive():
                raise RuntimeError(f"{step} failed in its process (exit {process.exitcode})") from None
    process.join()
    if process.exitcode:
        raise RuntimeError(f"{step} failed in its process")
    server_cpu = server() - served if server and served is not None else None
    return Figure(step, rows, seconds, peak, result, cpu, server_cpu)


# ── where the steps write ────────────────────────────────────────────────────────


def engine_url(db: Db) -> str:
    return db if isinstance(db, str) else f"sqlite:///{db}"


def schema_url(url: str, schema: str) -> str:
    """`url` with its connections' search_path set to `schema` (what cuiban's tests and tenants do)."""
    from sqlalchemy import make_url

    parsed = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    return parsed.render_as_string(hide_password=False)


def schema_of(url: str) -> str:
    from sqlalchemy import make_url

    return make_url(url).query["options"].split("=", 1)[1]


def libpq_url(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as psycopg takes it (no `+psycopg`)."""
    from sqlalchemy import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass(frozen=True)
class Store:
    """Where a run's databases are: SQLite files in `folder`, or schemas on the PostgreSQL server `url`."""

    folder: Path
    url: str | None = None

    def db(self, side: str, n: int) -> Db:
        if self.url is None:
            return self.folder / f"{side}-{n}.sqlite3"
        tag = hashlib.sha1(str(self.folder).encode()).hexdigest()[:8]
        return schema_url(self.url, f"bench_{tag}_{side}_{n}")

    def create(self, db: Db) -> None:
        if isinstance(db, str):
            self._admin(f"DROP SCHEMA IF EXISTS {schema_of(db)} CASCADE; CREATE SCHEMA {schema_of(db)}")

    def drop(self, db: Db) -> None:
        if isinstance(db, str):
            self._admin(f"DROP SCHEMA IF EXISTS {schema_of(db)} CASCADE")
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)

    def _admin(self, sql: str) -> None:
        import psycopg

        assert self.url is not None
        with psycopg.connect(libpq_url(self.url), autocommit=True) as connection:
            connection.execute(sql)

    def label(self) -> str:
        if self.url is None:
            return "SQLite file, WAL"
        import psycopg

        with psycopg.connect(libpq_url(self.url)) as connection:
            version = connection.execute("SHOW server_version").fetchone()[0]
        return f"PostgreSQL {version.split()[0]}, a schema per run"

    def server_cpu(self) -> Callable[[], float] | None:
        """A reading of the server's CPU seconds (every process of it), or None when it is not on
        this machine or not readable."""
        if self.url is None:
            return None
        return postgres_cpu(self.url)


def postgres_cpu(url: str) -> Callable[[], float] | None:
    """The CPU seconds of a local PostgreSQL server so far: its postmaster's own and reaped children's,
    and its live children's (backends, background workers), from /proc."""
    import psycopg

    try:
        with psycopg.connect(libpq_url(url)) as connection:
            data = connection.execute("SHOW data_directory").fetchone()[0]
        pid = int((Path(data) / "postmaster.pid").read_text().split()[0])
        _proc_cpu(pid, True)
    except (OSError, ValueError, IndexError, psycopg.Error):
        return None
    tick = os.sysconf("SC_CLK_TCK")

    def reading() -> float:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        total = _proc_cpu(pid, True)
        for child in children:
            with suppress(OSError):  # ended meanwhile: its time is in the postmaster's reaped children's
                total += _proc_cpu(int(child), True)
        return total / tick

    return reading


def _proc_cpu(pid: int, with_reaped: bool) -> int:
    """utime + stime (+ cutime + cstime) of a process, in clock ticks."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    own = int(fields[11]) + int(fields[12])
    return own + (int(fields[13]) + int(fields[14]) if with_reaped else 0)


# ── cuiban ───────────────────────────────────────────────────────────────────────


def cuiban_import(db: Db, roster: Path, units: int) -> dict[str, int]:
    from cuiban.models.database import open_engine
    from cuiban.planfile.holidays import build_calendar
    from cuiban.services.roster_import import import_roster

    plan = province_plan(units)
    engine = open_engine(engine_url(db))
    try:
        report = import_roster(engine, plan, build_calendar(plan.calendar), roster, NOW)
    finally:
        engine.dispose()
    return {"imported": report.imported, "excluded": report.excluded}


def cuiban_sync(db: Db, export: Path, units: int) -> dict[str, int]:
    from cuiban.models.database import open_engine
    from cuiban.planfile.holidays import build_calendar
    from cuiban.services.status_sync import sync_statuses

    plan = province_plan(units)
    engine = open_engine(engine_url(db))
    try:
        report = sync_statuses(engine, plan, build_calendar(plan.calendar), export, NOW.add(days=1))
    finally:
        engine.dispose()
    return {"changed": report.changed, "steps": report.steps, "conflicts": len(report.conflicts)}


# ── raw baselines ────────────────────────────────────────────────────────────────

BASELINE_SCHEMA = """
CREATE TABLE teacher (id INTEGER PRIMARY KEY, staff_id TEXT UNIQUE NOT NULL, name TEXT, gender TEXT,
  birth TEXT, department TEXT, post TEXT, employment TEXT, contract TEXT, elsewhere TEXT, email TEXT,
  state TEXT NOT NULL);
CREATE TABLE transition_log (id INTEGER PRIMARY KEY, record_key TEXT, from_state TEXT, to_state TEXT,
  event TEXT, at TEXT);
"""
PG_BASELINE_SCHEMA = """
CREATE TABLE teacher (id bigserial PRIMARY KEY, staff_id text UNIQUE NOT NULL, name text, gender text,
  birth text, department text, post text, employment text, contract text, elsewhere text, email text,
  state text NOT NULL DEFAULT 'pending');
CREATE TABLE transition_log (id bigserial PRIMARY KEY, record_key text, from_state text, to_state text,
  event text, at timestamptz);
"""
RAW_COLUMNS = "staff_id, name, gender, birth, department, post, employment, contract, elsewhere, email"


def raw_import(db: Db, roster: Path) -> int:
    if isinstance(db, str):
        return _raw_import_postgres(db, roster)
    connection = sqlite3.connect(db)
    connection.executescript(BASELINE_SCHEMA)
    with roster.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        with connection:
            connection.executemany(
                f"INSERT INTO teacher ({RAW_COLUMNS}, state) VALUES (?,?,?,?,?,?,?,?,?,?,'pending')", reader
            )
    count = connection.execute("SELECT count(*) FROM teacher").fetchone()[0]
    connection.close()
    return count


def _raw_import_postgres(url: str, roster: Path) -> int:
    import psycopg

    with psycopg.connect(libpq_url(url)) as connection:
        connection.execute(PG_BASELINE_SCHEMA)
        connection.commit()
        with connection.cursor() as cursor:
            statement = f"COPY teacher ({RAW_COLUMNS}) FROM STDIN (FORMAT csv, HEADER true)"
            with roster.open("rb") as handle, cursor.copy(statement) as copy:
                while chunk := handle.read(1 << 20):
                    copy.write(chunk)
        connection.commit()
        return connection.execute("SELECT count(*) FROM teacher").fetchone()[0]


RAW_PATHS = {
    "account_issued": [("issue_account", "pending", "account_issued")],
    "filling": [("issue_account", "pending", "account_issued"), ("start", "account_issued", "filling")],
    "submitted": [
        ("issue_account", "pending", "account_issued"),
        ("start", "account_issued", "filling"),
        ("submit", "filling", "submitted"),
    ],
}
RAW_TARGETS = {"未填报": "account_issued", "填报中": "filling", "已提交": "submitted"}


def raw_sync(db: Db, export: Path) -> int:
    if isinstance(db, str):
        return _raw_sync_postgres(db, export)
    connection = sqlite3.connect(db)
    at = NOW.add(days=1).isoformat()
    with export.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        targets = [(sid, RAW_TARGETS[status]) for sid, _, status in reader]
    steps = 0
    with connection:
        connection.execute("CREATE TEMP TABLE stage (staff_id TEXT PRIMARY KEY, target TEXT)")
        connection.executemany("INSERT INTO stage VALUES (?, ?)", targets)
        for target in RAW_PATHS:
            connection.execute(
                "UPDATE teacher SET state = ? WHERE state = 'pending' AND staff_id IN "
                "(SELECT staff_id FROM stage WHERE target = ?)",
                (target, target),
            )
        log = (
            (sid, event, source, dest, at)
            for sid, target in targets
            for event, source, dest in RAW_PATHS[target]
        )
        connection.executemany(
            "INSERT INTO transition_log (record_key, event, from_state, to_state, at) VALUES (?,?,?,?,?)", log
        )
        steps = connection.execute("SELECT count(*) FROM transition_log").fetchone()[0]
    connection.close()
    return steps


def _raw_sync_postgres(url: str, export: Path) -> int:
    import psycopg

    statuses = ", ".join(f"('{status}', '{target}')" for status, target in RAW_TARGETS.items())
    steps = ", ".join(
        f"('{status}', '{event}', '{source}', '{dest}')"
        for status, target in RAW_TARGETS.items()
        for event, source, dest in RAW_PATHS[target]
    )
    with psycopg.connect(libpq_url(url)) as connection, connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE stage (staff_id text, name text, status text) ON COMMIT DROP")
        statement = "COPY stage (staff_id, name, status) FROM STDIN (FORMAT csv, HEADER true)"
        with export.open("rb") as handle, cursor.copy(statement) as copy:
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
        cursor.execute("ANALYZE stage")
        cursor.execute(
            f"UPDATE teacher t SET state = m.target FROM stage s JOIN (VALUES {statuses}) m (status, target) "
            "ON m.status = s.status WHERE t.staff_id = s.staff_id AND t.state = 'pending'"
        )
        cursor.execute(
            "INSERT INTO transition_log (record_key, event, from_state, to_state, at) "
            "SELECT s.staff_id, p.event, p.source, p.dest, %s FROM stage s "
            f"JOIN (VALUES {steps}) p (status, event, source, dest) ON p.status = s.status",
            (NOW.add(days=1),),
        )
        logged = cursor.rowcount
    return logged


# ── the run ──────────────────────────────────────────────────────────────────────


def warm_up() -> None:
    """Import the modules both sides use before forking, so that start-up is not timed as work."""
    import psycopg  # noqa: F401

    import cuiban.models.database  # noqa: F401
    import cuiban.services.roster_import  # noqa: F401
    import cuiban.services.status_sync  # noqa: F401


def _one_round(
    store: Store,
    n: int,
    roster: Path,
    export: Path,
    teachers: int,
    units: int,
    last: bool,
    baseline: bool = True,
) -> list[tuple[Figure, Figure]]:
    ours, raw = store.db("cuiban", n), store.db("raw", n)
    server = store.server_cpu()

    def measured_raw(step: str, work: Callable[[], Any]) -> Figure:
        """The baseline's figure, or a blank one when cuiban's side runs alone (its memory at 5,000,000)."""
        if not baseline:
            return Figure(step, teachers, NOT_RUN, NOT_RUN)
        return measured(step, teachers, work, server=server)

    for db in (ours, raw):
        store.create(db)
    try:
        figures = [
            (
                measured(
                    "import",
                    teachers,
                    lambda: cuiban_import(ours, roster, units),
                    helpers=PARTS,
                    server=server,
                ),
                measured_raw("import (raw)", lambda: raw_import(raw, roster)),
            ),
            (
                measured("sync", teachers, lambda: cuiban_sync(ours, export, units), server=server),
                measured_raw("sync (raw)", lambda: raw_sync(raw, export)),
            ),
        ]
    finally:
        if not last:
            store.drop(ours)
            store.drop(raw)
    return figures


def run(
    teachers: int,
    units: int,
    folder: Path,
    repeat: int = 1,
    url: str | None = None,
    baseline: bool = True,
) -> list[tuple[Figure, Figure]]:
    """Both steps on both sides, each the best of `repeat` runs on fresh databases: SQLite files in
    `folder`, or schemas on the PostgreSQL server `url`. The last run's databases are left for the
    caller to look at (`Store(folder, url).db(side, repeat - 1)`) and drop."""
    warm_up()
    store = Store(folder, url)
    roster, export = folder / "roster.csv", folder / "export.csv"
    write_roster(roster, teachers, units)
    write_export(export, teachers)
    rounds = [
        _one_round(store, n, roster, export, teachers, units, n == repeat - 1, baseline)
        for n in range(repeat)
    ]
    best = lambda figures: min(figures, key=lambda f: f.seconds)  # noqa: E731
    return [(best([r[i][0] for r in rounds]), best([r[i][1] for r in rounds])) for i in range(2)]


def report(
    pairs: list[tuple[Figure, Figure]], teachers: int, units: int, where: str = "SQLite file, WAL"
) -> str:
    server = any(f.server_cpu is not None for pair in pairs for f in pair)
    cpu_head = f"{'cpu s':>7}" + (f"{'srv s':>7}" if server else "")

    def cpu(figure: Figure) -> str:
        own = f"{figure.cpu:>7.1f}"
        return own + (f"{figure.server_cpu:>7.1f}" if server and figure.server_cpu is not None else "")

    lines = [
        f"province scale: {teachers:,} teachers over {units:,} units ({where})",
        f"{'step':<8}{'seconds':>9}{cpu_head}{'rows/s':>10}{'peak MB':>9}   {'raw s':>7}{cpu_head}"
        f"{'raw peak MB':>12}{'ratio':>8}{'cpu ratio':>10}",
    ]
    for ours, raw in pairs:
        theirs = (
            f"{raw.seconds:>7.2f}{cpu(raw)}{raw.peak_mb:>12.0f}{ours.seconds / raw.seconds:>7.1f}×"
            f"{ours.all_cpu / raw.all_cpu:>9.1f}×"
            if raw.seconds is not NOT_RUN
            else f"{'(not run)':>{7 + len(cpu_head) + 12 + 8 + 10}}"
        )
        lines.append(
            f"{ours.step:<8}{ours.seconds:>9.2f}{cpu(ours)}{ours.per_second:>10,.0f}{ours.peak_mb:>9.0f}   "
            + theirs
        )
    lines.append(
        "cpu s: user + system seconds of the step's process and its children (the import's "
        f"{PARTS} checking processes)"
        + ("; srv s: the PostgreSQL server's, all its processes" if server else "")
        + "; cpu ratio: their sum against the baseline's"
    )
    lines.append(
        f"peak MB: ru_maxrss of the step's process, for the import plus {PARTS}× its largest checking "
        "process (an upper bound)" + ("; the server's memory is not counted" if server else "")
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--teachers", type=int, default=1_000_000)
    parser.add_argument("--units", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=1, help="best of N runs of each side (default 1)")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--url", help="the PostgreSQL server (default: $CUIBAN_TEST_PG_URL)")
    parser.add_argument(
        "--no-baseline", action="store_true", help="cuiban's side alone (memory at sizes where time is known)"
    )
    args = parser.parse_args(argv)
    url = None
    if args.db == "postgres":
        url = args.url or os.environ.get("CUIBAN_TEST_PG_URL")
        if not url:
            parser.error("--db postgres needs --url or $CUIBAN_TEST_PG_URL")
    with tempfile.TemporaryDirectory(prefix="cuiban-bench-") as folder:
        store = Store(Path(folder), url)
        try:
            pairs = run(args.teachers, args.units, Path(folder), args.repeat, url, not args.no_baseline)
        finally:
            for side in ("cuiban", "raw"):
                store.drop(store.db(side, args.repeat - 1))
        where = store.label()
    print(
        report(pairs, args.teachers, args.units, where)
        + (f"\nbest of {args.repeat} runs" if args.repeat > 1 else "")
    )
    for ours, _ in pairs:
        print(f"{ours.step}: {ours.result}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
