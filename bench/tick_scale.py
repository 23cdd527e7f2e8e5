"""Province scale, day to day: the digest's figures and a full tick (rendering included) at N teachers.

The database is built the way a campaign builds it — the roster imported, then a
status export synced (not timed here; `bench.province_scale` times those) — then,
each in its own forked process:
  digest        — schedules.digest.digest_data, against the raw baseline
                  SELECT unit_id, state, count(*) FROM teacher GROUP BY unit_id, state;
  tick          — a whole tick on 2016-12-16 09:30 (tasks opened and marked overdue,
                  reminders and escalations to every department with its unfinished
                  teachers, the digest), every message rendered and queued.

    .venv/bin/python -m bench.tick_scale                       # 1,000,000 teachers over 2,000 units
    .venv/bin/python -m bench.tick_scale --teachers 5000 --units 50
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
from pathlib import Path

import pendulum

from bench.province_scale import (
    cuiban_import,
    cuiban_sync,
    measured,
    province_plan,
    warm_up,
    write_export,
    write_roster,
)

TICK_AT = pendulum.datetime(2016, 12, 16, 9, 30, tz="Asia/Shanghai")


def cuiban_digest(db: Path, units: int) -> int:
    from cuiban.models.database import open_engine
    from cuiban.planfile.holidays import build_calendar
    from cuiban.schedules.digest import digest_data

    plan = province_plan(units)
    with open_engine(f"sqlite:///{db}").connect() as connection:
        data = digest_data(connection, plan, build_calendar(plan.calendar), TICK_AT)
    return data["totals"]["teachers"]


def raw_digest(db: Path) -> int:
    connection = sqlite3.connect(db)
    rows = connection.execute(
        "SELECT unit_id, state, count(*) FROM teacher GROUP BY unit_id, state"
    ).fetchall()
    connection.close()
    return sum(n for _, state, n in rows if state not in ("excluded", "left"))


def cuiban_tick(db: Path, units: int) -> dict[str, int]:
    from cuiban.models.database import open_engine
    from cuiban.notifications.render import Renderer
    from cuiban.planfile.holidays import build_calendar
    from cuiban.schedules.tick import run_tick

    plan = province_plan(units)
    report = run_tick(
        open_engine(f"sqlite:///{db}"), plan, build_calendar(plan.calendar), Renderer("zh"), TICK_AT
    )
    return dict(report.queued)


def run(teachers: int, units: int, folder: Path) -> dict[str, object]:
    warm_up()
    import cuiban.schedules.tick  # noqa: F401  (imported before forking, like the rest)

    roster, export, db = folder / "roster.csv", folder / "export.csv", folder / "cuiban.sqlite3"
    write_roster(roster, teachers, units)
    write_export(export, teachers)
    measured("import", teachers, lambda: cuiban_import(db, roster, units))
    measured("sync", teachers, lambda: cuiban_sync(db, export, units))
    return {
        "digest": measured("digest", teachers, lambda: cuiban_digest(db, units)),
        "digest (raw)": measured("digest (raw)", teachers, lambda: raw_digest(db)),
        "tick": measured("tick", teachers, lambda: cuiban_tick(db, units)),
    }


def report(figures: dict, teachers: int, units: int) -> str:
    digest, raw, tick = figures["digest"], figures["digest (raw)"], figures["tick"]
    ratio = digest.seconds / raw.seconds
    return "\n".join(
        [
            f"tick and digest at {teachers:,} teachers over {units:,} units (SQLite file, WAL), {TICK_AT}",
            f"{'step':<14}{'seconds':>10}{'peak MB':>10}",
            f"{'digest':<14}{digest.seconds:>10.2f}{digest.peak_mb:>10.0f}   {ratio:.1f}× raw",
            f"{'digest (raw)':<14}{raw.seconds:>10.2f}{raw.peak_mb:>10.0f}",
            f"{'tick':<14}{tick.seconds:>10.2f}{tick.peak_mb:>10.0f}   queued {tick.result}",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--teachers", type=int, default=1_000_000)
    parser.add_argument("--units", type=int, default=2_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="cuiban-bench-") as folder:
        figures = run(args.teachers, args.units, Path(folder))
    print(report(figures, args.teachers, args.units))
    return 0


if __name__ == "__main__":
    sys.exit(main())
