"""`cuiban sync`: the national system's status export applied to teacher records.

Each record walks the legal path from its state to the export's (derived from the one
machine definition); records are moved set-wise, one UPDATE per (from, to) pair, with
one log row per step. A target with no legal path is a conflict: reported, not
applied; unknown staff IDs are reported too. A file with bad rows is refused whole.

Each export applied is recorded with the moment its statuses are as of (`--as-of`, else a
date in its file name, else its modification time); an export older than the newest one
applied is refused unless forced, since applying it would walk records back.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from cuiban.intake.header import data_rows, locate
from cuiban.intake.tables import UnreadableFile, read_rows
from cuiban.models import task_store, teacher_store
from cuiban.models.bulk import drop_temp
from cuiban.models.unit_of_work import gc_paused, transaction
from cuiban.notifications.labels import state_label
from cuiban.schedules.completion import refresh_derived
from cuiban.services.cycles import writable
from cuiban.services.rejection import FileRejected, Refusal
from cuiban.services.roster_import import StaffIdSightings
from cuiban.workflow import cells
from cuiban.workflow.calendar import WorkingCalendar
from cuiban.workflow.clock import local_date, local_iso, require_aware, start_of_day
from cuiban.workflow.plan.schema import Plan
from cuiban.workflow.roster import RowProblem, duplicate_staff_id
from cuiban.workflow.status_export import StatusValidator
from cuiban.workflow.teacher_machine import sync_path
from cuiban.workflow.teacher_states import OUT_OF_SCOPE
from cuiban.workflow.wording import Words, say, words


class NoSyncSection(Refusal):
    pass


class EmptyExport(Refusal):
    """A status export with a header and no rows: a download gone wrong, never a real export."""


class StaleExport(Refusal):
    """The export is older than the newest one applied; nothing was applied."""


FROM_OPTION, FROM_NAME, FROM_MODIFIED = "option", "file name", "modified"
_NAME_DATE = re.compile(r"(?<!\d)((?:19|20)\d\d)[-_.]?(\d\d)[-_.]?(\d\d)(?!\d)")


@dataclass(frozen=True)
class AsOf:
    """When an export's statuses were true, and how we know."""

    moment: datetime
    source: str
    """FROM_OPTION, FROM_NAME (to the day: the moment is that day's start) or FROM_MODIFIED."""

    def describe(self, tz: str) -> Words:
        if self.source == FROM_NAME:
            return words("sync.as_of_name", moment=local_date(self.moment, tz).isoformat())
        how = "sync.as_of_option" if self.source == FROM_OPTION else "sync.as_of_modified"
        return words(how, moment=local_iso(self.moment, tz))


def export_as_of(path: Path, given: datetime | None, tz: str, name: str | None = None) -> AsOf:
    """`given` (--as-of), else the last date written in the file name (status-2016-12-05.csv,
    导出20161205.xlsx; `name` when given, for a file stored under another name), else the file's
    modification time."""
    if given is not None:
        return AsOf(require_aware(given, "--as-of"), FROM_OPTION)
    named = name_date(Path(name).stem if name is not None else path.stem, tz)
    if named is not None:
        return named
    return AsOf(datetime.fromtimestamp(path.stat().st_mtime, UTC), FROM_MODIFIED)


def name_date(stem: str, tz: str) -> AsOf | None:
    """The last valid date written in a file name's stem, as the start of that day."""
    for match in reversed(list(_NAME_DATE.finditer(stem))):
        try:
            day = date(*(int(g) for g in match.groups()))
        except ValueError:
            continue
        return AsOf(start_of_day(day, tz), FROM_NAME)
    return None


def _older(new: AsOf, last: dict[str, Any], tz: str) -> bool:
    """Whether `new` is before the newest applied export; a time known only to the day (a file
    name's date) is compared by day, so two exports of the same day never refuse each other."""
    if FROM_NAME in (new.source, last["as_of_from"]):
        return local_date(new.moment, tz) < local_date(last["as_of"], tz)
    return new.moment < last["as_of"]


@dataclass
class SyncReport:
    source: str
    rows: int = 0
    changed: int = 0
    steps: int = 0
    unchanged: int = 0
    conflicts: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    moves: dict[str, int] = field(default_factory=dict)
    """"from → to" → number of records."""
    dry_run: bool = False


@gc_paused()
def sync_statuses(
    engine: Engine,
    plan: Plan,
    calendar: WorkingCalendar,
    path: Path,
    now: datetime,
    *,
    dry_run: bool = False,
    actor: str | None = None,
    progress: Callable[[int], None] | None = None,
    as_of: datetime | None = None,
    force: bool = False,
    source_name: str | None = None,
) -> SyncReport:
    """`as_of`: when the export's statuses were true (default: from its name or modification time);
    `force`: apply it even if a newer export has been applied; `source_name`: what the file is called
    in the report, the refusals, the log and the record of exports, and the name its date is read
    from (default: its path; an upload is staged under a random name)."""
    if plan.sync is None:
        raise NoSyncSection(words("sync.no_section"))
    shown = source_name or str(path)
    report = SyncReport(shown, dry_run=dry_run)
    if not path.exists():
        raise UnreadableFile(words("file.missing", file=shown))
    stamp = export_as_of(path, as_of, plan.timezone, source_name)
    with engine.connect() as connection:  # refused before a million rows are read (and not committed)
        cycle = writable(connection, plan, now)
        _stale(shown, stamp, teacher_store.newest_export(connection, cycle), plan.timezone, force)
    label = source_name or path.name
    with transaction(engine, dry_run) as connection:
        # the file first, into a TEMP table: on SQLite that takes no lock on the database itself, so
        # nobody waits while a million rows are read; every check below sees the database after it
        _stage(connection, plan, path, report, progress)
        # again inside the transaction: another sync may have been applied meanwhile
        cycle = writable(connection, plan, now)
        forced = _stale(shown, stamp, teacher_store.newest_export(connection, cycle), plan.timezone, force)
        teacher_store.record_export(
            connection, label, stamp.moment, stamp.source, now, report.rows, actor, forced, cycle
        )
        teacher_store.resolve_staged(connection)
        unknown: list[tuple[int, str]] = []
        conflicts: list[tuple[int, str]] = []
        for current, target, count in teacher_store.staged_pairs(connection):
            if current is None:
                unknown += [
                    (r, say(plan.language, "sync.unknown_id", row=r, staff_id=sid))
                    for r, sid in teacher_store.staged_rows(connection, None, target)
                ]
                continue
            if current == target:
                report.unchanged += count
                continue
            steps = None if current in OUT_OF_SCOPE else sync_path(current, target)
            if steps is None:
                conflicts += [
                    (r, _conflict(plan.language, r, sid, current, target))
                    for r, sid in teacher_store.staged_rows(connection, current, target)
                ]
                continue
            report.moves[f"{current} → {target}"] = count
            report.changed += teacher_store.move_staged(connection, current, target, now)
            for step in steps:
                report.steps += teacher_store.log_staged_step(
                    connection, current, target, step, now, actor, label
                )
        report.unknown = [line for _, line in sorted(unknown)]
        report.conflicts = [line for _, line in sorted(conflicts)]
        drop_temp(connection, teacher_store.SYNC_STAGE)
        teacher_store.analyze_teachers(connection)
        task_store.ensure(connection, plan, calendar, now)
        refresh_derived(connection, plan, now, "sync")
    return report


def _conflict(language: str, row: int, staff_id: str, current: str, target: str) -> str:
    """A record the export would move where its machine cannot go: said in the plan's language (the report's
    lists are shown as they are, on the command line and the upload page), states by their Chinese names."""
    if language != "en":
        current, target = state_label("zh", current), state_label("zh", target)
    return say(language, "sync.conflict", row=row, staff_id=staff_id, current=current, target=target)


def _stale(shown: str, stamp: AsOf, last: dict[str, Any] | None, tz: str, force: bool) -> bool:
    """Whether the export is older than the newest applied; refused (StaleExport) unless `force`."""
    if last is None or not _older(stamp, last, tz):
        return False
    if force:
        return True
    newest = AsOf(last["as_of"], last["as_of_from"])
    raise StaleExport(
        words(
            "sync.stale", file=shown, as_of=stamp.describe(tz), newest_file=last["file_name"],
            applied=local_iso(last["applied_at"], tz), newest=newest.describe(tz),
        )
    )


CHUNK = 5000
"""Rows staged at a time: the file is never held whole."""


def _stage(
    connection: Connection, plan: Plan, path: Path, report: SyncReport, progress: Callable[[int], None] | None
) -> None:
    """The export checked row by row and staged CHUNK rows at a time (COPY on PostgreSQL); refused
    whole (FileRejected) if any row is bad, a staff ID given twice included (found by the database,
    not by remembering every staff ID), or if it has no rows."""
    assert plan.sync is not None
    header, rest = locate(read_rows(path), dict(plan.sync.columns), {"staff_id", "status"}, report.source)
    validator = StatusValidator(plan.sync, header.columns)
    sightings = StaffIdSightings()
    validator.seen = sightings  # type: ignore[assignment]
    teacher_store.create_sync_stage(connection)
    problems: list[RowProblem] = []
    chunk: list[tuple[int, str, str | None]] = []
    for number, raw in data_rows(rest):
        found, bad = validator.check(number, raw)
        seen = sightings.taken()
        if found is not None:
            chunk.append((number, *found))
        else:  # staged for its staff ID alone, if it has one: a later row repeating it is named
            chunk += [(row, sid, None) for row, sid in seen]
            problems += _formulas_named(bad, raw, header.columns, plan.sync.columns)
        if len(chunk) >= CHUNK:
            teacher_store.stage_sync_rows(connection, chunk)
            chunk = []
        report.rows += 1
        if progress and report.rows % 5000 == 0:
            progress(report.rows)
    teacher_store.stage_sync_rows(connection, chunk)
    header_id = plan.sync.columns["staff_id"]
    repeated = [
        RowProblem(row, header_id, sid, duplicate_staff_id(first))
        for row, sid, first in teacher_store.staged_duplicates(connection, teacher_store.SYNC_STAGE)
    ]
    if problems or repeated:  # a row's own problems first, as the validator would list them
        raise FileRejected(report.source, sorted(problems + repeated, key=lambda p: p.row))
    if not report.rows:
        raise EmptyExport(words("sync.empty", file=report.source, row=header.row))


def _formulas_named(
    problems: list[RowProblem], raw: list[Any], columns: dict[str, int], headers: dict[str, str]
) -> list[RowProblem]:
    """A problem in a cell holding a never-computed formula says so, naming the cell."""
    named = {}
    for field_name, index in columns.items():
        cell = raw[index] if index < len(raw) else None
        if type(cell) is cells.FormulaWithoutValue:
            named[headers[field_name]] = cell.reason
    if not named:
        return problems
    return [
        RowProblem(p.row, p.column, p.value, named[p.column]) if p.column in named else p for p in problems
    ]
