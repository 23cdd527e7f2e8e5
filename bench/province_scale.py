"""Province scale: import a roster of N teachers over M units, then sync a status export.

Each step runs in its own forked process so its peak memory is its own, and is timed
next to a raw baseline on the same file in the same run:
  import  — Python's csv reader + plain sqlite3 executemany in one transaction;
  sync    — csv reader, one UPDATE per (from, to) pair, executemany of the log rows.

    .venv/bin/python -m bench.province_scale                       # 1,000,000 teachers, 2,000 units
    .venv/bin/python -m bench.province_scale --teachers 5000 --units 50
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing
import resource
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
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


@dataclass(frozen=True)
class Figure:
    step: str
    rows: int
    seconds: float
    peak_mb: float
    result: Any = None

    @property
    def per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else float("inf")


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


def measured(step: str, rows: int, work: Callable[[], Any], helpers: int = 0) -> Figure:
    """Run `work` in a forked child; its time and peak resident memory.

    With `helpers`, the work runs that many processes of its own at once (the import's
    checkers): the peak is the child's plus that many times the largest of them, an
    upper bound of what they held together."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()

    def child() -> None:
        start = time.perf_counter()
        result = work()
        seconds = time.perf_counter() - start
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        largest_helper = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 if helpers else 0
        queue.put((seconds, own + helpers * largest_helper, result))

    process = context.Process(target=child)
    process.start()
    seconds, peak, result = queue.get()
    process.join()
    if process.exitcode:
        raise RuntimeError(f"{step} failed in its process")
    return Figure(step, rows, seconds, peak, result)


# ── cuiban ───────────────────────────────────────────────────────────────────────


def cuiban_import(db: Path, roster: Path, units: int) -> dict[str, int]:
    from cuiban.models.database import open_engine
    from cuiban.planfile.holidays import build_calendar
    from cuiban.services.roster_import import import_roster

    plan = province_plan(units)
    report = import_roster(open_engine(f"sqlite:///{db}"), plan, build_calendar(plan.calendar), roster, NOW)
    return {"imported": report.imported, "excluded": report.excluded}


def cuiban_sync(db: Path, export: Path, units: int) -> dict[str, int]:
    from cuiban.models.database import open_engine
    from cuiban.planfile.holidays import build_calendar
    from cuiban.services.status_sync import sync_statuses

    plan = province_plan(units)
    report = sync_statuses(
        open_engine(f"sqlite:///{db}"), plan, build_calendar(plan.calendar), export, NOW.add(days=1)
    )
    return {"changed": report.changed, "steps": report.steps, "conflicts": len(report.conflicts)}


# ── raw baselines ────────────────────────────────────────────────────────────────

BASELINE_SCHEMA = """
CREATE TABLE teacher (id INTEGER PRIMARY KEY, staff_id TEXT UNIQUE NOT NULL, name TEXT, gender TEXT,
  birth TEXT, department TEXT, post TEXT, employment TEXT, contract TEXT, elsewhere TEXT, email TEXT,
  state TEXT NOT NULL);
CREATE TABLE transition_log (id INTEGER PRIMARY KEY, record_key TEXT, from_state TEXT, to_state TEXT,
  event TEXT, at TEXT);
"""


def raw_import(db: Path, roster: Path) -> int:
    connection = sqlite3.connect(db)
    connection.executescript(BASELINE_SCHEMA)
    with roster.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        with connection:
            connection.executemany(
                "INSERT INTO teacher (staff_id, name, gender, birth, department, post, "
                "employment, contract, elsewhere, email, state) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,'pending')",
                reader,
            )
    count = connection.execute("SELECT count(*) FROM teacher").fetchone()[0]
    connection.close()
    return count


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


def raw_sync(db: Path, export: Path) -> int:
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


# ── the run ──────────────────────────────────────────────────────────────────────


def warm_up() -> None:
    """Import the modules both sides use before forking, so that start-up is not timed as work."""
    import cuiban.models.database  # noqa: F401
    import cuiban.services.roster_import  # noqa: F401
    import cuiban.services.status_sync  # noqa: F401


def _one_round(
    folder: Path, n: int, roster: Path, export: Path, teachers: int, units: int, last: bool
) -> list[tuple[Figure, Figure]]:
    ours, raw = folder / f"cuiban-{n}.sqlite3", folder / f"raw-{n}.sqlite3"
    figures = [
        (
            measured("import", teachers, lambda: cuiban_import(ours, roster, units), helpers=PARTS),
            measured("import (raw)", teachers, lambda: raw_import(raw, roster)),
        ),
        (
            measured("sync", teachers, lambda: cuiban_sync(ours, export, units)),
            measured("sync (raw)", teachers, lambda: raw_sync(raw, export)),
        ),
    ]
    if not last:
        ours.unlink()
        raw.unlink()
    return figures


def run(teachers: int, units: int, folder: Path, repeat: int = 1) -> list[tuple[Figure, Figure]]:
    """Both steps on both sides, each the best of `repeat` runs on fresh databases."""
    warm_up()
    roster, export = folder / "roster.csv", folder / "export.csv"
    write_roster(roster, teachers, units)
    write_export(export, teachers)
    rounds = [
        _one_round(folder, n, roster, export, teachers, units, last=n == repeat - 1) for n in range(repeat)
    ]
    best = lambda figures: min(figures, key=lambda f: f.seconds)  # noqa: E731
    return [(best([r[i][0] for r in rounds]), best([r[i][1] for r in rounds])) for i in range(2)]


def report(pairs: list[tuple[Figure, Figure]], teachers: int, units: int) -> str:
    lines = [
        f"province scale: {teachers:,} teachers over {units:,} units (SQLite file, WAL)",
        f"{'step':<14}{'seconds':>10}{'rows/s':>12}{'peak MB':>10}{'raw s':>9}"
        f"{'raw peak MB':>13}{'ratio':>8}",
    ]
    for ours, raw in pairs:
        lines.append(
            f"{ours.step:<14}{ours.seconds:>10.2f}{ours.per_second:>12,.0f}{ours.peak_mb:>10.0f}"
            f"{raw.seconds:>9.2f}{raw.peak_mb:>13.0f}{ours.seconds / raw.seconds:>7.1f}×"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--teachers", type=int, default=1_000_000)
    parser.add_argument("--units", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=1, help="best of N runs of each side (default 1)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="cuiban-bench-") as folder:
        pairs = run(args.teachers, args.units, Path(folder), args.repeat)
    print(
        report(pairs, args.teachers, args.units)
        + (f"\nbest of {args.repeat} runs" if args.repeat > 1 else "")
    )
    for ours, _ in pairs:
        print(f"{ours.step}: {ours.result}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
