"""`cuiban sync`: the national system's status export applied to teacher records.

Each record walks the legal path from its state to the export's (derived from the one
machine definition); records are moved set-wise, one UPDATE per (from, to) pair, with
one log row per step. A target with no legal path is a conflict: reported, not
applied; unknown staff IDs are reported too. A file with bad rows is refused whole.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from intake.header import data_rows, locate
from intake.tables import read_rows
from models import task_store, teacher_store
from models.unit_of_work import gc_paused, transaction
from services.rejection import FileRejected
from workflow.calendar import WorkingCalendar
from workflow.plan.schema import Plan
from workflow.roster import RowProblem
from workflow.status_export import StatusValidator
from workflow.teacher_machine import sync_path
from workflow.teacher_states import OUT_OF_SCOPE


class NoSyncSection(ValueError):
    pass


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
) -> SyncReport:
    if plan.sync is None:
        raise NoSyncSection("the plan has no `sync` section saying which columns and statuses to read")
    report = SyncReport(str(path), dry_run=dry_run)
    targets, rows = _read(plan, path, report, progress)
    with transaction(engine, dry_run) as connection:
        teacher_store.stage_targets(connection, ((sid, target, rows[sid]) for sid, target in targets.items()))
        unknown: list[tuple[int, str]] = []
        conflicts: list[tuple[int, str]] = []
        for current, target, count in teacher_store.staged_pairs(connection):
            if current is None:
                unknown += [
                    (r, f"row {r}: {sid}") for r, sid in teacher_store.staged_rows(connection, None, target)
                ]
                continue
            if current == target:
                report.unchanged += count
                continue
            steps = None if current in OUT_OF_SCOPE else sync_path(current, target)
            if steps is None:
                conflicts += [
                    (r, f"row {r}: {sid} is {current}; no legal path to {target}")
                    for r, sid in teacher_store.staged_rows(connection, current, target)
                ]
                continue
            report.moves[f"{current} → {target}"] = count
            report.changed += teacher_store.move_staged(connection, current, target, now)
            for step in steps:
                report.steps += teacher_store.log_staged_step(
                    connection, current, target, step, now, actor, path.name
                )
        report.unknown = [line for _, line in sorted(unknown)]
        report.conflicts = [line for _, line in sorted(conflicts)]
        task_store.ensure(connection, plan, calendar, now)
        task_store.refresh_derived(connection, plan, now, "sync")
    return report


def _read(
    plan: Plan, path: Path, report: SyncReport, progress: Callable[[int], None] | None
) -> tuple[dict[str, str], dict[str, int]]:
    assert plan.sync is not None
    header, rest = locate(read_rows(path), dict(plan.sync.columns), {"staff_id", "status"}, str(path))
    validator = StatusValidator(plan.sync, header.columns)
    targets: dict[str, str] = {}
    rows: dict[str, int] = {}
    problems: list[RowProblem] = []
    for number, cells in data_rows(rest):
        found, bad = validator.check(number, cells)
        problems += bad
        if found is not None:
            targets[found[0]] = found[1]
            rows[found[0]] = number
        report.rows += 1
        if progress and report.rows % 5000 == 0:
            progress(report.rows)
    if problems:
        raise FileRejected(str(path), problems)
    return targets, rows
