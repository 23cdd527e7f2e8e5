"""The whole-log export at province scale: constant memory, every row, against a plain sqlite3 cursor.

A database is built the way a campaign builds it (a roster import, then a status export synced:
about three log rows a teacher), or an existing one is copied (`--copy`, e.g. the web
benchmark's million-teacher file; only the copy is opened). Then, each in its own forked
process, measuring wall and CPU seconds and the peak resident memory (ru_maxrss):
  export        — services.log_export.export_log to a CSV file (pages of 10,000 by id);
  export (raw)  — one sqlite3 cursor over the same rows (the same join for the teacher's unit),
                  csv.writer to a file: the floor.
Run at two sizes, the export's peak stays the same while the rows grow tenfold: memory does not
grow with the log. The rows written equal SELECT COUNT(*) FROM transition_log.

    .venv/bin/python -m bench.log_export                        # 100,000 built, then 1,000,000
    .venv/bin/python -m bench.log_export --copy /tmp/cuiban-web-bench/web_1000000_2000.sqlite3
    .venv/bin/python -m bench.log_export --sizes 5000 --units 50
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.province_scale import (
    cuiban_import,
    cuiban_sync,
    province_plan,
    warm_up,
    write_export,
    write_roster,
)


@dataclass(frozen=True)
class Measure:
    step: str
    rows: int
    seconds: float
    cpu: float
    peak_mb: float


def measured(step: str, work: Any) -> Measure:
    """`work()` (returning rows written) in a forked child: wall and CPU seconds, peak RSS in MB."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()

    def child() -> None:
        start, used = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
        rows = work()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        cpu = usage.ru_utime + usage.ru_stime - used.ru_utime - used.ru_stime
        queue.put((rows, time.perf_counter() - start, cpu, usage.ru_maxrss / 1024))

    process = context.Process(target=child)
    process.start()
    rows, seconds, cpu, peak = queue.get()
    process.join()
    if process.exitcode:
        raise RuntimeError(f"{step} failed in its process")
    return Measure(step, rows, seconds, cpu, peak)


def cuiban_export(db: Path, units: int, target: Path) -> int:
    from cuiban.models.database import open_engine
    from cuiban.services.log_export import export_log

    engine = open_engine(f"sqlite:///{db}", migrate=False)
    with target.open("w", encoding="utf-8", newline="") as out:
        return export_log(engine, province_plan(units), out, "csv").rows


RAW_SQL = """
SELECT l.id, l.at, l.actor, l.record_kind, l.record_key, t.unit_id, l.event, l.from_state, l.to_state,
       l.source, l.note, l.data
FROM transition_log l LEFT JOIN teacher t ON l.record_kind = 'teacher' AND t.staff_id = l.record_key
ORDER BY l.id
"""


def raw_export(db: Path, target: Path) -> int:
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    rows = 0
    with target.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        for row in connection.execute(RAW_SQL):
            writer.writerow(row)
            rows += 1
    connection.close()
    return rows


def log_rows(db: Path) -> int:
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    count = connection.execute("SELECT COUNT(*) FROM transition_log").fetchone()[0]
    connection.close()
    return count


def built(folder: Path, teachers: int, units: int) -> Path:
    """A database of `teachers` made by a roster import and a status sync (not timed)."""
    roster, export, db = folder / "roster.csv", folder / "export.csv", folder / f"log_{teachers}.sqlite3"
    write_roster(roster, teachers, units)
    write_export(export, teachers)
    measured("import", lambda: cuiban_import(db, roster, units) and 0)  # forked: the parent stays small,
    measured("sync", lambda: cuiban_sync(db, export, units) and 0)  # so each child starts as small
    roster.unlink()
    export.unlink()
    return db


def one_size(db: Path, units: int, folder: Path) -> dict[str, Any]:
    warm_up()
    import cuiban.services.log_export  # noqa: F401  (imported before forking, not timed)

    count = log_rows(db)
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    teachers = connection.execute("SELECT COUNT(*) FROM teacher").fetchone()[0]
    connection.close()
    ours = measured("export", lambda: cuiban_export(db, units, folder / "export.csv"))
    raw = measured("export (raw)", lambda: raw_export(db, folder / "raw.csv"))
    (folder / "export.csv").unlink()
    (folder / "raw.csv").unlink()
    if not ours.rows == raw.rows == count:
        raise AssertionError(f"rows written {ours.rows} (raw {raw.rows}) but the log has {count}")
    return {"teachers": teachers, "log rows": count, "export": ours, "raw": raw}


def report(results: list[dict[str, Any]], units: int) -> str:
    lines = [
        f"log export (CSV) over {units:,} units, SQLite file; peak = the child's ru_maxrss",
        f"{'teachers':>10}{'log rows':>12}  {'step':<14}{'wall s':>8}{'CPU s':>8}{'peak MB':>9}"
        f"{'rows/s':>10}",
    ]
    for r in results:
        for m in (r["export"], r["raw"]):
            lines.append(
                f"{r['teachers']:>10,}{r['log rows']:>12,}  {m.step:<14}{m.seconds:>8.1f}{m.cpu:>8.1f}"
                f"{m.peak_mb:>9.0f}{m.rows / m.seconds:>10,.0f}"
            )
        ratio = r["export"].seconds / r["raw"].seconds
        lines.append(f"{'':>24}rows written = SELECT COUNT(*) = {r['log rows']:,}; export {ratio:.1f}× raw")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000], help="teachers, built")
    parser.add_argument("--units", type=int, default=2_000)
    parser.add_argument("--copy", type=Path, help="also export a copy of this database (read-only source)")
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="cuiban-bench-") as name:
        folder = Path(name)
        for teachers in args.sizes:
            db = built(folder, teachers, args.units)
            results.append(one_size(db, args.units, folder))
            db.unlink()
        if args.copy:
            db = folder / "copy.sqlite3"
            shutil.copyfile(args.copy, db)
            results.append(one_size(db, args.units, folder))
    print(report(results, args.units))
    return 0


if __name__ == "__main__":
    sys.exit(main())
