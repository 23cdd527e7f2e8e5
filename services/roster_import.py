"""`cuiban roster import`: HR's roster into teacher records, all or nothing.

Rows are validated while streaming and written in batches inside one transaction;
the first bad row stops the writing (validation goes on, to name every problem) and
the transaction is rolled back. Re-importing the same file changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from itertools import islice
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from cuiban.intake.header import Header, data_rows, locate
from cuiban.intake.tables import Row, read_table
from cuiban.models import log_store, reference_store, task_store, teacher_store
from cuiban.models.bulk import bound, insert_tuples
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
    problems: list[RowProblem] = []
    seen: set[str] = set()
    first_rows: dict[str, int] = {}
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
        for item in _in_file_order(parts):
            if isinstance(item, set):
                seen |= item
                continue
            batch_size, good, found = item
            problems += found + _duplicates_across_parts(good, first_rows, plan.roster.columns["staff_id"])
            report.rows += batch_size
            if not problems:
                _apply(connection, good, now, report, writing)
            if progress:
                progress(report.rows)
        if problems:
            raise FileRejected(report.source, sorted(problems, key=lambda p: p.row))
        _handle_missing(connection, seen, now, report, mark_missing_left, force, actor)
        task_store.ensure(connection, plan, calendar, now)
        refresh_derived(connection, plan, now, "import")
    return report


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
) -> Iterator[tuple[int, list[Packed], list[RowProblem]] | set[str]]:
    """Batches number `part`, `part + PARTS`, … of the file checked, then the staff IDs they hold.

    Each part reads the whole file (cheap next to checking it) and checks its own batches;
    a staff ID repeated within the part is found here, across parts by the writer."""
    header, rest, epoch = _header(plan, path)
    validator = RosterValidator(plan, header.columns, epoch)
    rows = data_rows(rest)
    number = 0
    while batch := list(islice(rows, BATCH)):
        if number % PARTS == part:
            size, good, problems = _checked_batch(batch, validator)
            yield size, [(r.row, r.excluded_by, *_PACK(r.values)) for r in good], problems
        number += 1
    yield set(validator.seen)


def _in_file_order(parts: list[Iterator[Any]]) -> Iterator[Any]:
    """The parts' batches in the file's order (batch n comes from part n % PARTS), then their IDs."""
    running = list(parts)
    turn = 0
    while running:
        part = running[turn % len(running)]
        item = next(part)
        yield item
        if isinstance(item, set):  # that part is done; the others keep their order
            running.remove(part)
            turn = turn % len(running) if running else 0
        else:
            turn += 1


_STAFF = 2 + COMPARED.index("staff_id")


def _duplicates_across_parts(good: list[Packed], first_rows: dict[str, int], header: str) -> list[RowProblem]:
    """Staff IDs already seen in an earlier batch of the other part: the same words as within one."""
    problems = []
    for packed in good:
        sid, row = packed[_STAFF], packed[0]
        first = first_rows.setdefault(sid, row)
        if first != row:
            problems.append(RowProblem(row, header, sid, duplicate_staff_id(first)))
    return problems


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
) -> None:
    stamp = bound(connection, teacher_store.TEACHER.c.updated_at, now)
    if writing.first_import:  # nothing to compare with: straight to the rows to insert
        pick = writing.pick_packed
        inserts = [(*pick(p), "excluded" if p[1] else "pending", p[1], stamp, stamp) for p in packed]
        excluded = sum(1 for p in packed if p[1])
        report.excluded += excluded
        report.imported += len(packed) - excluded
        _insert(connection, inserts, now, writing)
        return
    rows = [_unpacked(p) for p in packed]
    existing = teacher_store.by_staff_ids(connection, [r.values["staff_id"] for r in rows])
    actor, name = writing.actor, writing.file_name
    inserts = []
    updates: list[dict[str, Any]] = []
    log: list[Entry] = []
    for row in rows:
        sid = row.values["staff_id"]
        old = existing.get(sid)
        if old is None:
            state = "excluded" if row.excluded_by else "pending"
            inserts.append((*writing.pick(row.values), state, row.excluded_by, stamp, stamp))
            report.excluded += state == "excluded"
            report.imported += state == "pending"
            continue
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
    _insert(connection, inserts, now, writing)
    teacher_store.update_many(connection, updates)
    log_store.append(connection, log)


def _insert(connection: Connection, inserts: list[tuple], now: datetime, writing: _Writing) -> None:
    """New teachers, and the `import` entry that starts each one's history (one INSERT … SELECT)."""
    if not inserts:
        return
    after = teacher_store.last_id(connection)
    columns = (*writing.columns, "state", "excluded_rule", "state_changed_at", "updated_at")
    insert_tuples(connection, teacher_store.TEACHER, columns, inserts)
    log_store.append_selected(
        connection, LOG_NEW, {"at": now, "actor": writing.actor, "note": writing.file_name, "after": after}
    )


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
    seen: set[str],
    now: datetime,
    report: ImportReport,
    mark_left: bool,
    force: bool,
    actor: str | None,
) -> None:
    current = teacher_store.count(connection, except_states=["left"])
    if current == len(seen):
        return  # every row of the file is in the table and nothing else is: none missing
    missing = sorted(teacher_store.staff_ids(connection, except_states=["left"]) - seen)
    report.missing = missing
    if not mark_left or not missing:
        return
    if len(missing) > MARK_LEFT_SHARE * current and not force:
        share = _share(len(missing), current)
        raise TooManyMissing(
            words(
                "roster.too_many_missing", file=report.source, missing=len(missing), current=current,
                share=share, limit=f"{MARK_LEFT_SHARE:.0%}",
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
