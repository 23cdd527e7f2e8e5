"""`cuiban simulate`: a plan tried on a copy of the database, day by day, nothing sent for real.

The real database is only read (SQLite's backup from a read-only connection); the copy
and the .eml files it "sends" go to a folder that is removed afterwards unless kept.
"""

from __future__ import annotations

import csv
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path

from sqlalchemy import Engine

from cuiban.notifications.render import Renderer
from cuiban.notifications.transports import FileTransport, mail_identity
from cuiban.services.cycles import sent_so_far, start_on_copy
from cuiban.services.rejection import Refusal
from cuiban.services.replay import HEADER, day_line, outbox_lines, progress_by_day, read_done, replay
from cuiban.workflow.calendar import WorkingCalendar
from cuiban.workflow.links import NO_LINKS, Links
from cuiban.workflow.plan.schema import Plan
from cuiban.workflow.reminders import at_local

DONE_COLUMNS = ("date", "milestone", "unit")


@dataclass(frozen=True)
class Simulation:
    """What to replay: the days, the status exports and the tasks done by hand on them."""

    first: date
    last: date
    progress: tuple[Path, ...] = ()
    done_file: Path | None = None
    keep: Path | None = None
    """Keep the copy and its .eml files here (None: a temporary folder, removed)."""


def copy_of(url: str, folder: Path) -> Path:
    """A copy of the SQLite database at `url` in `folder` (empty when it does not exist yet)."""
    copy = folder / "simulation.sqlite3"
    source = Path(url.removeprefix("sqlite:///"))
    if source.exists():
        original = sqlite3.connect(f"file:{source.resolve()}?mode=ro", uri=True)  # read-only: never writes
        with sqlite3.connect(copy) as target:
            original.backup(target)
        original.close()
    return copy


def simulate(
    url: str,
    open_copy: Callable[[str], Engine],
    plan: Plan,
    calendar: WorkingCalendar,
    renderer: Renderer,
    asked: Simulation,
    say: Callable[[str], None],
    links: Links = NO_LINKS,
) -> None:
    """Replay `asked` on a copy of the database at `url`, saying a line a day and what was sent."""
    if not url.startswith("sqlite:///"):
        raise Refusal(
            "simulate works on a copy of a SQLite database; export a PostgreSQL one to SQLite first"
        )
    try:
        by_day = progress_by_day(list(asked.progress))
    except ValueError as error:
        raise Refusal(str(error)) from None
    folder = asked.keep or Path(tempfile.mkdtemp(prefix="cuiban-simulate-"))
    folder.mkdir(parents=True, exist_ok=True)
    engine = open_copy(f"sqlite:///{copy_of(url, folder)}")
    started = start_on_copy(engine, plan, at_local(asked.first, time(0, 0), plan.timezone))
    if started is not None:
        say(started)
    before = sent_so_far(engine)  # what the copy had queued already is not this simulation's
    say(HEADER)
    done = read_done(asked.done_file) if asked.done_file else []
    transport = FileTransport.for_identity(folder / "outbox", mail_identity(plan))
    replay(
        engine, plan, calendar, renderer, transport, asked.first, asked.last, by_day, done,
        on_day=lambda row: say(day_line(row)), links=links,
    )
    for line in outbox_lines(engine, folder / "outbox", before):
        say(line)
    engine.dispose()
    if asked.keep is None:
        shutil.rmtree(folder)
        say("(the copy and its messages were removed; --keep DIR keeps them)")


def check_done_file(path: Path) -> None:
    """--done read as `read_done` will read it: a header with date, milestone and unit, a date on each row."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            found = [name for name in reader.fieldnames or [] if name]
            missing = [name for name in DONE_COLUMNS if name not in found]
            if missing:
                raise Refusal(
                    f"--done {path}: no column {', '.join(missing)} in its first row "
                    f"({', '.join(found) or 'empty'}); the file needs the header date,milestone,unit[,by]"
                )
            for number, row in enumerate(reader, 2):
                _check_done_row(path, number, row)
    except UnicodeDecodeError:
        raise Refusal(f"--done {path} is not UTF-8 text; save it as CSV in UTF-8") from None


def _check_done_row(path: Path, number: int, row: dict[str, str]) -> None:
    day = row["date"] or ""
    try:
        date.fromisoformat(day)
    except ValueError:
        raise Refusal(f"--done {path}: row {number}: {day!r} is not a date like 2016-12-05") from None
    if not row["milestone"] or not row["unit"]:
        raise Refusal(f"--done {path}: row {number}: the milestone or the unit is empty")
