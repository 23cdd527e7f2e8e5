"""The bulk paths in the shape they have at province scale, on small files: on PostgreSQL the roster and
the status export go through COPY; a staff ID repeated batches apart is named with its first row, as the
validator names one within a batch; memory stays flat as the file grows, on both databases."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pendulum
import pytest
from sqlalchemy import func, select

from bench.province_scale import province_plan, write_export, write_roster
from cuiban.models import copy_load
from cuiban.models.database import open_engine
from cuiban.models.tables import Teacher, TransitionLog
from cuiban.planfile.holidays import build_calendar
from cuiban.services import roster_import, status_sync
from cuiban.services.rejection import FileRejected
from cuiban.services.roster_import import import_roster
from cuiban.services.status_sync import sync_statuses
from tests.conftest import postgres_engine
from tests.factories import ROSTER_HEADER, roster, write_csv

NOW = pendulum.datetime(2016, 11, 29, 9, tz="Asia/Shanghai")
TEACHER, LOG = Teacher.__table__, TransitionLog.__table__
EXPORT_HEADER = ["工号", "姓名", "填报状态"]


def _count(engine, table) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar_one()


def test_import_and_sync_go_through_copy_on_postgres_only(engine, tmp_path, plan_and_calendar) -> None:
    plan, calendar = plan_and_calendar
    copied = lambda: copy_load.copies  # noqa: E731
    on_postgres = engine.dialect.name == "postgresql"
    rows = roster(["新闻传播学院", "音乐学院"], 6)

    before = copied()
    import_roster(engine, plan, calendar, write_csv(tmp_path / "a.csv", ROSTER_HEADER, rows), NOW)
    first = copied() - before
    rows[0][4] = "音乐学院"  # a re-import: one record moves
    before = copied()
    again = import_roster(engine, plan, calendar, write_csv(tmp_path / "b.csv", ROSTER_HEADER, rows), NOW)
    second = copied() - before
    export = write_csv(
        tmp_path / "e.csv", EXPORT_HEADER, [["000001", "某", "已提交"], ["000002", "某", "填报中"]]
    )
    before = copied()
    synced = sync_statuses(engine, plan, calendar, export, NOW.add(days=1))
    third = copied() - before

    assert (first > 0, second > 0, third > 0) == (on_postgres,) * 3
    assert (again.updated, again.moved, again.unchanged) == (1, 1, 11)
    assert (synced.changed, synced.steps) == (2, 3 + 2)


@pytest.mark.parametrize("first_import", [True, False], ids=["first-import", "re-import"])
def test_a_staff_id_repeated_batches_apart_is_named_with_its_first_row(
    engine, tmp_path, plan_and_calendar, monkeypatch, first_import
) -> None:
    """Batches of 3 rows: the repeats are several batches (and both checking processes) apart; a row
    repeating a bad row's staff ID is named too, as the validator names one in the same batch."""
    monkeypatch.setattr(roster_import, "BATCH", 3)
    plan, calendar = plan_and_calendar
    if not first_import:
        import_roster(
            engine,
            plan,
            calendar,
            write_csv(tmp_path / "0.csv", ROSTER_HEADER, roster(["音乐学院"], 20)),
            NOW,
        )
    teachers, log = _count(engine, TEACHER), _count(engine, LOG)
    rows = roster(["新闻传播学院"], 20)  # file rows 2-21
    rows[5][3] = "1980-13-01"  # row 7: not a date
    rows[15][0] = "000002"  # row 17: first on row 3
    rows[18][0] = "000006"  # row 20: first on row 7, the bad one
    path = write_csv(tmp_path / "dup.csv", ROSTER_HEADER, rows)

    with pytest.raises(FileRejected) as rejected:
        import_roster(engine, plan, calendar, path, NOW.add(hours=1))

    got = [(p.row, p.column, p.value, p.reason) for p in rejected.value.problems]
    assert [g[:3] for g in got] == [
        (7, "出生日期", "1980-13-01"),
        (17, "工号", "000002"),
        (20, "工号", "000006"),
    ]
    assert got[1][3] == "duplicate staff ID (first on row 3)"
    assert got[2][3] == "duplicate staff ID (first on row 7)"
    assert (_count(engine, TEACHER), _count(engine, LOG)) == (teachers, log)


def test_a_first_import_whose_only_fault_is_a_repeated_staff_id_is_refused_whole(
    engine, tmp_path, plan_and_calendar, monkeypatch
) -> None:
    """Nothing but the teacher table's unique index notices it (the file is read again to name it)."""
    monkeypatch.setattr(roster_import, "BATCH", 4)
    plan, calendar = plan_and_calendar
    rows = roster(["新闻传播学院"], 16)
    rows[13][0] = "000003"  # row 15: first on row 4
    with pytest.raises(FileRejected) as rejected:
        import_roster(engine, plan, calendar, write_csv(tmp_path / "dup.csv", ROSTER_HEADER, rows), NOW)
    assert [(p.row, p.value, p.reason) for p in rejected.value.problems] == [
        (15, "000003", "duplicate staff ID (first on row 4)")
    ]
    assert (_count(engine, TEACHER), _count(engine, LOG)) == (0, 0)


def test_an_export_repeating_a_staff_id_chunks_apart_is_refused_naming_both_rows(
    engine, tmp_path, minimal_plan, monkeypatch
) -> None:
    from tests.factories import import_minimal_roster

    monkeypatch.setattr(status_sync, "CHUNK", 2)
    plan, calendar = minimal_plan
    import_minimal_roster(engine, plan, calendar, tmp_path, ["甲学院"], 8, NOW.subtract(days=7))
    states, log = _states(engine), _count(engine, LOG)
    rows = [[f"{n:06d}", "某", "已提交"] for n in range(1, 9)]
    rows[2][2] = "已完成"  # row 4: unknown status
    rows[6][0] = "000001"  # row 8: first on row 2
    rows[7][0] = "000003"  # row 9: first on row 4, the bad one
    path = write_csv(tmp_path / "export.csv", ["工号", "姓名", "填报状态"], rows)

    with pytest.raises(FileRejected) as rejected:
        sync_statuses(engine, plan, calendar, path, NOW)

    got = [(p.row, p.column, p.reason) for p in rejected.value.problems]
    assert [g[:2] for g in got] == [(4, "填报状态"), (8, "工号"), (9, "工号")]
    assert (
        got[1][2] == "duplicate staff ID (first on row 2)"
        and got[2][2] == "duplicate staff ID (first on row 4)"
    )
    assert _states(engine) == states and _count(engine, LOG) == log


def _states(engine) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return dict(connection.execute(select(TEACHER.c.staff_id, TEACHER.c.state)).all())


# ── memory ──────────────────────────────────────────────────────────────────────


def _fresh(backend: str, folder: Path) -> Iterator:  # type: ignore[type-arg]
    if backend == "sqlite":
        engine = open_engine(f"sqlite:///{folder / 'cuiban.sqlite3'}")
        yield engine
        engine.dispose()
    else:
        yield from postgres_engine()


def _untraced(part):  # type: ignore[no-untyped-def]
    """A checking process forked while this one traces allocations: it stops tracing its own (its
    memory is not the writer's, and tracing would make it ten times slower)."""

    def checked(*args):  # type: ignore[no-untyped-def]
        tracemalloc.stop()
        yield from part(*args)

    return checked


def _peaks(backend: str, folder: Path, teachers: int) -> list[int]:
    """Peak Python memory of a first import, a re-import of the same file, and a sync, in this process."""
    plan = province_plan(20)
    calendar = build_calendar(plan.calendar)
    roster_file, export = folder / "roster.csv", folder / "export.csv"
    write_roster(roster_file, teachers, 20)
    write_export(export, teachers)
    steps = [
        lambda engine: import_roster(engine, plan, calendar, roster_file, NOW),
        lambda engine: import_roster(engine, plan, calendar, roster_file, NOW.add(hours=1)),
        lambda engine: sync_statuses(engine, plan, calendar, export, NOW.add(days=1)),
    ]
    peaks = []
    fresh = _fresh(backend, folder)
    engine = next(fresh)
    try:
        for step in steps:
            tracemalloc.start()
            try:
                step(engine)
                peaks.append(tracemalloc.get_traced_memory()[1])
            finally:
                tracemalloc.stop()
    finally:
        next(fresh, None)
    return peaks


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_the_writers_memory_does_not_grow_with_the_file(backend, tmp_path, monkeypatch) -> None:
    """Twice the rows, the same peak (within 20%): no staff ID is remembered in Python (the code before
    grew by about 200 bytes a row here, +60% from 5,000 to 10,000 rows)."""
    monkeypatch.setattr(roster_import, "BATCH", 500)
    monkeypatch.setattr(status_sync, "CHUNK", 500)
    monkeypatch.setattr(roster_import, "_checked_part", _untraced(roster_import._checked_part))
    (tmp_path / "small").mkdir()
    (tmp_path / "large").mkdir()
    small = _peaks(backend, tmp_path / "small", 5_000)
    large = _peaks(backend, tmp_path / "large", 10_000)
    for step, before, after in zip(("import", "re-import", "sync"), small, large, strict=True):
        assert after < 1.2 * before, (
            f"{step}: {before / 1e6:.2f} MB at 5,000 rows, {after / 1e6:.2f} MB at 10,000"
        )


def test_a_checking_processs_memory_does_not_grow_with_the_file(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(roster_import, "BATCH", 500)
    plan = province_plan(20)
    peaks = []
    for teachers in (5_000, 10_000):
        path = tmp_path / f"roster-{teachers}.csv"
        write_roster(path, teachers, 20)
        tracemalloc.start()
        try:
            for _ in roster_import._checked_part(plan, path, 0):
                pass
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    assert peaks[1] < 1.2 * peaks[0], peaks
