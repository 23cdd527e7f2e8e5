"""`cuiban roster import`: HR's roster into teacher records, all or nothing.

Rows are validated while streaming and written in batches inside one transaction;
the first bad row stops the writing (validation goes on, to name every problem) and
the transaction is rolled back. Re-importing the same file changes nothing.

Memory does not grow with the file: what must be remembered across the whole file (the staff IDs
seen, to name a repeated one with the row it first appeared on, and to find the records the file no
longer lists) is staged in a TEMP table and asked of the database at the end. On PostgreSQL the
checked rows themselves are staged by COPY and applied by set-based statements (new teachers by
one INSERT … SELECT, their log rows by another); on SQLite they are written batch by batch as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from itertools import count, islice
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from cuiban.intake.header import Header, data_rows, locate
from cuiban.intake.tables import Row, read_table
from cuiban.models import log_store, reference_store, task_store, teacher_store
from cuiban.models.bulk import append_tuples, bound, drop_temp, insert_tuples
from cuiban.models.copy_load import UniqueClash, is_postgres
from cuiban.models.log_store import Entry
from cuiban.models.unit_of_work import gc_paused, transaction
from cuiban.notifications.labels import state_label
from cuiban.schedules.completion import refresh_derived
from cuiban.services.background import in_background
from cuiban.services.cycles import writable
from cuiban.services.rejection import FileRejected, Refusal
from cuiban.workflow.calendar import WorkingCalendar
from cuiban.workflow.plan.schema import REQUIRED_ROSTER_FIELDS, Plan
from cuiban.workflow.roster import (
    STORED_AS,
    TEACHER_FIELDS,
    RosterRow,
    RosterValidator,
    RowProblem,
    duplicate_staff_id,
)
from cuiban.workflow.scope import Step, scope_move
from cuiban.workflow.wording import say, words

BATCH = 5000
PARTS = 2
"""Processes checking the file (alternate batches) while the importing one writes."""
COMPARED = (*TEACHER_FIELDS, "unit_id")
MARK_LEFT_SHARE = 0.20
"""--mark-missing-left marks at most this share of the current records as left without --force."""


class TooManyMissing(Refusal):
    """--mark-missing-left would mark more than MARK_LEFT_SHARE of the records as left; nothing written."""


@dataclass
class ImportReport:
    source: str
    rows: int = 0
    imported: int = 0
    excluded: int = 0
    updated: int = 0
    moved: int = 0
    """Of the updated: records whose department changed."""
    unchanged: int = 0
    included: int = 0
    rejoined: int = 0
    missing: list[str] = field(default_factory=list)
    marked_left: int = 0
    kept: list[str] = field(default_factory=list)
    """Rows now out of scope whose records are too far along to exclude (e.g. reported)."""
    dry_run: bool = False


@gc_paused()
def import_roster(
    engine: Engine,
    plan: Plan,
    calendar: WorkingCalendar,
    path: Path,
    now: datetime,
    *,
    dry_run: bool = False,
    mark_missing_left: bool = False,
    force: bool = False,
    actor: str | None = None,
    progress: Callable[[int], None] | None = None,
    source_name: str | None = None,
) -> ImportReport:
    """`force`: let --mark-missing-left mark more than MARK_LEFT_SHARE of the records as left;
    `source_name`: what the file is called in the report, the refusals and the log (default: its path;
    an upload is staged under a random name, but the log should say the name it came with)."""
    report = ImportReport(source_name or str(path), dry_run=dry_run)
    _header(plan, path)  # a file without the plan's columns is refused before any work starts
    try:
        with ExitStack() as stack:
            # PARTS processes check alternate batches of the file while this one writes them
            parts = [
                stack.enter_context(in_background(partial(_checked_part, plan, path, part)))
                for part in range(PARTS)
            ]
            connection = stack.enter_context(transaction(engine, dry_run))
            writable(connection, plan, now)  # the plan's cycle, or refused
            reference_store.copy_from_plan(connection, plan)
            first = teacher_store.count(connection) == 0
            writing = _Writing(source_name or path.name, actor, first, _filled_columns(plan), plan.language)
            if first:
                _first_import(connection, parts, now, report, writing, progress)
            else:
                _reimport(connection, parts, now, report, writing, progress, plan)
            _handle_missing(connection, now, report, mark_missing_left, force, actor)
            drop_temp(connection, teacher_store.ROSTER_STAGE)
            teacher_store.analyze_teachers(connection)
            task_store.ensure(connection, plan, calendar, now)
            refresh_derived(connection, plan, now, "import")
    except _ReadAgain as refused:  # the transaction is rolled back: nothing was written
        problems = refused.problems + _repeated_staff_ids(engine, plan, path)
        raise FileRejected(report.source, sorted(problems, key=lambda p: p.row)) from None
    return report


class _ReadAgain(Exception):
    """A first import found problems, or a staff ID the table already had from an earlier row: the
    file is refused, and read a second time to name every repeated staff ID with its first row."""

    def __init__(self, problems: list[RowProblem]) -> None:
        self.problems = problems


def _first_import(
    connection: Connection,
    parts: list[Iterator[Any]],
    now: datetime,
    report: ImportReport,
    writing: _Writing,
    progress: Callable[[int], None] | None,
) -> None:
    """Every checked batch straight into the empty table (COPY on PostgreSQL), remembering nothing: the
    table's unique index on the staff ID is what notices one given twice (UniqueClash)."""
    problems: list[RowProblem] = []
    clashed = False
    before = teacher_store.last_id(connection)
    for batch_size, good, found, _others in _in_file_order(parts):
        problems += found
        report.rows += batch_size
        if not problems and not clashed:
            try:
                _apply(connection, good, now, report, writing)
            except UniqueClash:  # the transaction is spoilt on PostgreSQL: nothing more is written
                clashed = True
        if progress:
            progress(report.rows)
    if problems or clashed:
        raise _ReadAgain(problems)
    if _logs_at_end(connection, writing):
        _log_new(connection, before, now, writing)


def _logs_at_end(connection: Connection, writing: _Writing) -> bool:
    """A first import on PostgreSQL writes its `import` log rows in one statement at the end: the table
    it reads them from has no statistics while it fills, and the planner scanned all of it for each
    batch's `id > n` (200 scans of up to a million rows at 1,000,000 teachers)."""
    return writing.first_import and is_postgres(connection)


def _reimport(
    connection: Connection,
    parts: list[Iterator[Any]],
    now: datetime,
    report: ImportReport,
    writing: _Writing,
    progress: Callable[[int], None] | None,
    plan: Plan,
) -> None:
    """A roster read against the records already there. Its staff IDs are staged (on PostgreSQL its
    whole rows, by COPY, applied set-wise at the end; on SQLite batch by batch as they come), so that
    the database names a repeated one and the records the file no longer lists."""
    staged = is_postgres(connection)
    teacher_store.create_roster_stage(connection, COMPARED)
    problems: list[RowProblem] = []
    for batch_size, good, found, others in _in_file_order(parts):
        problems += found
        report.rows += batch_size
        if staged:
            teacher_store.stage_roster_rows(connection, STAGED, good)
        else:
            teacher_store.stage_roster_rows(connection, ROSTER_IDS, [(p[0], p[_STAFF]) for p in good])
            if not problems:
                _apply(connection, good, now, report, writing)
        teacher_store.stage_roster_rows(connection, ROSTER_IDS, others)
        if progress:
            progress(report.rows)
    problems += _duplicates(connection, plan)
    if problems:
        raise FileRejected(report.source, sorted(problems, key=lambda p: p.row))
    if staged:
        _apply_staged(connection, now, report, writing)


def _repeated_staff_ids(engine: Engine, plan: Plan, path: Path) -> list[RowProblem]:
    """The file read again, its staff IDs staged (every row's that has one, the bad rows' too) in a
    transaction that is rolled back, and the repeated ones named by the database."""
    with ExitStack() as stack:
        parts = [
            stack.enter_context(in_background(partial(_checked_part, plan, path, part)))
            for part in range(PARTS)
        ]
        connection = stack.enter_context(transaction(engine, dry_run=True))
        teacher_store.create_roster_stage(connection, COMPARED)
        for _size, good, _found, others in _in_file_order(parts):
            teacher_store.stage_roster_rows(
                connection, ROSTER_IDS, [(p[0], p[_STAFF]) for p in good] + others
            )
        return _duplicates(connection, plan)


STAGED = ("row_number", "excluded_rule", *COMPARED)
"""A checked row as staged on PostgreSQL: the packed tuple as it is (see Packed)."""
ROSTER_IDS = teacher_store.ROSTER_IDS


def _duplicates(connection: Connection, plan: Plan) -> list[RowProblem]:
    """Every row repeating an earlier row's staff ID, with the same words as the validator's."""
    header = plan.roster.columns["staff_id"]
    return [
        RowProblem(row, header, sid, duplicate_staff_id(first))
        for row, sid, first in teacher_store.staged_duplicates(connection, teacher_store.ROSTER_STAGE)
    ]


@dataclass(frozen=True)
class _Writing:
    """What every batch of one import shares."""

    file_name: str
    actor: str | None
    first_import: bool
    columns: tuple[str, ...]
    """The teacher columns this plan's roster fills (unmapped ones stay NULL)."""
    language: str = "zh"
    """The plan's: the report's lists are said in it."""

    @property
    def pick(self) -> Callable[[dict[str, Any]], tuple]:
        """The filled columns' values of a record, in order (staff ID, name, unit: always several)."""
        return itemgetter(*self.columns)

    @property
    def pick_packed(self) -> Callable[[Packed], tuple]:
        """The same values, from a packed row."""
        return itemgetter(*(2 + COMPARED.index(c) for c in self.columns))


def _filled_columns(plan: Plan) -> tuple[str, ...]:
    mapped = {STORED_AS.get(field, field) for field in plan.roster.columns}
    return tuple(c for c in COMPARED if c in mapped)


LOG_NEW = (
    "SELECT 'teacher', staff_id, NULL, state, 'import', 'import', :at, :actor, "
    "CASE WHEN excluded_rule IS NULL THEN :note ELSE :note || '; out of scope: ' || excluded_rule END, NULL "
    "FROM teacher WHERE id > :after"
)


def _header(plan: Plan, path: Path) -> tuple[Header, Iterator[Row], date]:
    """The header, the rows after it, and day 0 of the file's date numbers."""
    required = set(REQUIRED_ROSTER_FIELDS) | {r.field for r in plan.roster.scope}
    table = read_table(path)
    header, rest = locate(table.rows, dict(plan.roster.columns), required, str(path))
    return header, rest, table.epoch


Packed = tuple
"""A checked row as it crosses between processes: (row, excluded_by, *values in COMPARED order).

A tuple pickles at a third of the cost of a RosterRow with its dict of field names."""
_PACK = itemgetter(*COMPARED)


def _checked_part(
    plan: Plan, path: Path, part: int
) -> Iterator[tuple[int, list[Packed], list[RowProblem], list[tuple[int, str]]]]:
    """Batches number `part`, `part + PARTS`, … of the file checked: (rows read, the good rows packed,
    problems, (row, staff ID) of the bad rows that have one).

    Each part reads the whole file (cheap next to checking it) and checks its own batches. It
    remembers nothing from one batch to the next: a repeated staff ID is found by the writer's
    database, from every row's staff ID, the bad rows' too (a later row repeating a bad one is named,
    as the validator names it)."""
    header, rest, epoch = _header(plan, path)
    validator = RosterValidator(plan, header.columns, epoch)
    sightings = StaffIdSightings()
    validator.seen = sightings  # type: ignore[assignment]
    rows = data_rows(rest)
    number = 0
    while batch := list(islice(rows, BATCH)):
        if number % PARTS == part:
            size, good, problems = _checked_batch(batch, validator)
            bad_rows = {p.row for p in problems}
            others = [pair for pair in sightings.taken() if pair[0] in bad_rows]
            yield size, [(r.row, r.excluded_by, *_PACK(r.values)) for r in good], problems, others
        number += 1


class StaffIdSightings:
    """Stands in for a validator's dict of staff IDs seen (`seen.setdefault(staff_id, row)`): it
    answers that each is the first, and keeps (row, staff ID) until taken. A validator's dict would
    hold every staff ID of the file; the caller stages them instead, and the database names the
    repeated ones (teacher_store.staged_duplicates) with the validator's words."""

    __slots__ = ("pairs",)

    def __init__(self) -> None:
        self.pairs: list[tuple[int, str]] = []

    def setdefault(self, staff_id: str, row: int) -> int:
        self.pairs.append((row, staff_id))
        return row

    def taken(self) -> list[tuple[int, str]]:
        pairs, self.pairs = self.pairs, []
        return pairs


def _in_file_order(parts: list[Iterator[Any]]) -> Iterator[Any]:
    """The parts' batches in the file's order: batch n comes from part n % PARTS, so the part that has
    no next batch ends the file (the others are then at their end too)."""
    for turn in count():
        item = next(parts[turn % len(parts)], None)
        if item is None:
            for other in parts:
                if next(other, None) is not None:
                    raise RuntimeError("the checking processes lost the file's order")
            return
        yield item


_STAFF = 2 + COMPARED.index("staff_id")


def _unpacked(packed: Packed) -> RosterRow:
    return RosterRow(packed[0], dict(zip(COMPARED, packed[2:], strict=True)), packed[1])


def _checked_batch(
    batch: list[Row], validator: RosterValidator
) -> tuple[int, list[RosterRow], list[RowProblem]]:
    """(rows read, valid records, problems) of one batch."""
    good: list[RosterRow] = []
    problems: list[RowProblem] = []
    for number, cells in batch:
        record, found = validator.check(number, cells)
        if found:
            problems += found
        elif record is not None:
            good.append(record)
    return len(batch), good, problems


def _apply(
    connection: Connection, packed: list[Packed], now: datetime, report: ImportReport, writing: _Writing
) -> int:
    """One batch written (SQLite); the number of new teacher rows."""
    stamp = bound(connection, teacher_store.TEACHER.c.updated_at, now)
    if writing.first_import:  # nothing to compare with: straight to the rows to insert
        pick = writing.pick_packed
        inserts = [(*pick(p), "excluded" if p[1] else "pending", p[1], stamp, stamp) for p in packed]
        excluded = sum(1 for p in packed if p[1])
        report.excluded += excluded
        report.imported += len(packed) - excluded
        return _insert(connection, inserts, now, writing)
    rows = [_unpacked(p) for p in packed]
    existing = teacher_store.by_staff_ids(connection, [r.values["staff_id"] for r in rows])
    inserts = []
    pairs = []
    for row in rows:
        old = existing.get(row.values["staff_id"])
        if old is None:
            state = "excluded" if row.excluded_by else "pending"
            inserts.append((*writing.pick(row.values), state, row.excluded_by, stamp, stamp))
            report.excluded += state == "excluded"
            report.imported += state == "pending"
        else:
            pairs.append((row, old))
    written = _insert(connection, inserts, now, writing)
    _apply_known(connection, pairs, now, report, writing)
    return written


def _apply_known(
    connection: Connection,
    pairs: Iterable[tuple[RosterRow, dict[str, Any]]],
    now: datetime,
    report: ImportReport,
    writing: _Writing,
) -> None:
    """Rows of records already in the table, each with its record's current columns: the changed
    columns and the scope's events written, with their log rows."""
    actor, name = writing.actor, writing.file_name
    updates: list[dict[str, Any]] = []
    log: list[Entry] = []
    for row, old in pairs:
        sid = row.values["staff_id"]
        changes = {k: [old[k], row.values[k]] for k in COMPARED if old[k] != row.values[k]}
        steps = _scope_steps(old["state"], row, report, writing.language)
        if not changes and not steps:
            report.unchanged += 1
            continue
        state = steps[-1][2] if steps else old["state"]
        updates.append(
            {
                "staff_id": sid,
                **row.values,
                "state": state,
                "excluded_rule": row.excluded_by if state == "excluded" else old["excluded_rule"],
                "state_changed_at": now if steps else old["state_changed_at"],
                "updated_at": now,
            }
        )
        if changes:
            report.updated += 1
            report.moved += "unit_id" in changes
            log.append(
                Entry(
                    "teacher",
                    sid,
                    old["state"],
                    old["state"],
                    "update",
                    "import",
                    now,
                    actor,
                    f"{name} row {row.row}",
                    changes,
                )
            )
        for event, source, dest in steps:
            log.append(
                Entry(
                    "teacher",
                    sid,
                    source,
                    dest,
                    event,
                    "import",
                    now,
                    actor,
                    row.excluded_by if event == "exclude" else None,
                )
            )
    teacher_store.update_many(connection, updates)
    log_store.append(connection, log)


def _insert(connection: Connection, inserts: list[tuple], now: datetime, writing: _Writing) -> int:
    """New teachers, and the `import` entry that starts each one's history (one INSERT … SELECT); the
    number written."""
    if not inserts:
        return 0
    after = teacher_store.last_id(connection)
    columns = (*writing.columns, "state", "excluded_rule", "state_changed_at", "updated_at")
    if writing.first_import:  # COPY on PostgreSQL; a staff ID given twice raises UniqueClash
        written = append_tuples(connection, teacher_store.TEACHER, columns, inserts)
    else:  # a staff ID given twice is written once, and the import refused (found by the stage)
        written = insert_tuples(
            connection, teacher_store.TEACHER, columns, inserts, skip_conflicts_on="staff_id"
        )
    if not _logs_at_end(connection, writing):
        _log_new(connection, after, now, writing)
    return written


def _log_new(connection: Connection, after: int, now: datetime, writing: _Writing) -> None:
    log_store.append_selected(
        connection, LOG_NEW, {"at": now, "actor": writing.actor, "note": writing.file_name, "after": after}
    )


def _apply_staged(connection: Connection, now: datetime, report: ImportReport, writing: _Writing) -> None:
    """A re-import's staged roster applied (PostgreSQL): the new teachers and their log rows by one
    INSERT … SELECT each, the rows of known records compared with them a page at a time."""
    teacher_store.analyze_roster_stage(connection)
    teacher_store.index_roster_stage(connection)
    before = teacher_store.last_id(connection)
    teacher_store.insert_staged(connection, writing.columns, now)
    _log_new(connection, before, now, writing)
    imported, excluded = teacher_store.new_since(connection, before)
    report.imported += imported
    report.excluded += excluded
    after_row = 0
    while page := teacher_store.staged_with_current(connection, COMPARED, after_row, before, BATCH):
        after_row = page[-1][0][0]
        _apply_known(connection, ((_unpacked(p), old) for p, old in page), now, report, writing)
        del page  # before the next page is read: one page in memory at a time


def _scope_steps(state: str, row: RosterRow, report: ImportReport, language: str) -> tuple[Step, ...]:
    """Events that bring a known record in line with the new roster row (`workflow.scope`), counted."""
    move = scope_move(state, bool(row.excluded_by))
    report.rejoined += move.has("rejoin")
    report.excluded += move.has("exclude")
    report.included += move.has("include")
    if move.kept:
        sid, current = row.values["staff_id"], move.target(state)
        shown = current if language == "en" else state_label("zh", current)
        report.kept.append(say(language, "roster.kept", staff_id=sid, rule=row.excluded_by, state=shown))
    return move.steps


def _handle_missing(
    connection: Connection,
    now: datetime,
    report: ImportReport,
    mark_left: bool,
    force: bool,
    actor: str | None,
) -> None:
    """Records (not left) the file does not list: found by the database against the staged staff IDs."""
    current = teacher_store.count(connection, except_states=["left"])
    if current == report.rows:
        return  # every row of the file is in the table and nothing else is: none missing
    missing = sorted(teacher_store.unlisted(connection))  # Python's order, whatever the collation
    report.missing = missing
    if not mark_left or not missing:
        return
    if len(missing) > MARK_LEFT_SHARE * current and not force:
        share = _share(len(missing), current)
        raise TooManyMissing(
            words(
                "roster.too_many_missing",
                file=report.source,
                missing=len(missing),
                current=current,
                share=share,
                limit=f"{MARK_LEFT_SHARE:.0%}",
            )
        )
    by_state: dict[str, list[str]] = {}
    for sid, state in teacher_store.states_of(connection, missing).items():
        by_state.setdefault(state, []).append(sid)
    for state, ids in by_state.items():
        teacher_store.move(connection, ids, state, "left", now)
        log_store.append(
            connection,
            [
                Entry("teacher", sid, state, "left", "leave", "import", now, actor, "missing from the roster")
                for sid in ids
            ],
        )
    report.marked_left = len(missing)


def _share(part: int, whole: int) -> str:
    """A percentage that never rounds to the limit it is compared with: 20.4% stays 20.4%."""
    percent = round(100 * part / whole, 1)
    return f"{percent:g}%"
