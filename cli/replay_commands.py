"""`cuiban simulate` (a plan tried on a copy of the database) and `cuiban demo` (the shipped sample)."""

from __future__ import annotations

import csv
import shutil
import sqlite3
import tempfile
from datetime import date
from pathlib import Path

import click
import pendulum

from cuiban import samples
from cuiban.cli.context import db_option, fail, plan_option, wire
from cuiban.cli.errors import Refused
from cuiban.models import outbox_store
from cuiban.models.database import database_url, open_engine
from cuiban.notifications.transports import FileTransport
from cuiban.schedules.digest import digest_context, digest_data
from cuiban.services.replay import DayRow, progress_by_day, read_done, replay
from cuiban.services.roster_import import import_roster

SAMPLE = Path(samples.__file__).resolve().parent / "2016"
HEADER = (
    f"{'date':<12}{'synced':>7}{'done':>6}{'reminders':>11}{'escalations':>13}{'digests':>9}{'behind':>8}"
)


def _print_row(row: DayRow) -> None:
    click.echo(
        f"{row.day.isoformat():<12}{row.synced:>7}{row.done:>6}{row.reminders:>11}{row.escalations:>13}"
        f"{row.digests:>9}{row.behind:>8}"
    )


def _summary(engine, folder: Path) -> None:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        rows = outbox_store.rows(connection)
    kinds: dict[str, list[dict]] = {}
    for row in rows:
        kinds.setdefault(row["kind"], []).append(row)
    click.echo("")
    for kind, messages in sorted(kinds.items()):
        first = messages[0]
        click.echo(f"{kind}: {len(messages)} (first: to {first['recipient_name']}: {first['subject']})")
    click.echo(f"{len(rows)} messages written to {folder}")


def _date(ctx: click.Context, param: click.Parameter, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2016-11-28") from None


DONE_COLUMNS = ("date", "milestone", "unit")


def _checked_done(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    """--done read as `read_done` will read it: a header with date, milestone and unit, a date on each row."""
    if value is None:
        return None
    try:
        with value.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            found = [name for name in reader.fieldnames or [] if name]
            missing = [name for name in DONE_COLUMNS if name not in found]
            if missing:
                raise Refused(
                    f"--done {value}: no column {', '.join(missing)} in its first row "
                    f"({', '.join(found) or 'empty'}); the file needs the header date,milestone,unit[,by]"
                )
            for number, row in enumerate(reader, 2):
                day = row["date"] or ""
                try:
                    date.fromisoformat(day)
                except ValueError:
                    raise Refused(
                        f"--done {value}: row {number}: {day!r} is not a date like 2016-12-05"
                    ) from None
                if not row["milestone"] or not row["unit"]:
                    raise Refused(f"--done {value}: row {number}: the milestone or the unit is empty")
    except UnicodeDecodeError:
        raise Refused(f"--done {value} is not UTF-8 text; save it as CSV in UTF-8") from None
    return value


@click.command()
@click.option(
    "--from", "first", required=True, callback=_date, metavar="DATE", help="First day (YYYY-MM-DD)."
)
@click.option("--to", "last", required=True, callback=_date, metavar="DATE", help="Last day (YYYY-MM-DD).")
@click.option(
    "--progress",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A status export, applied on the date in its name (status-2016-12-05.csv); repeatable.",
)
@click.option(
    "--done",
    "done_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    callback=_checked_done,
    help="CSV of date,milestone,unit[,by]: tasks marked done by hand on those days.",
)
@click.option(
    "--keep",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep the copy and its .eml files here (default: a temporary folder, removed).",
)
@plan_option
@db_option
def simulate(
    first: date,
    last: date,
    progress: tuple[Path, ...],
    done_file: Path | None,
    keep: Path | None,
    plan_path: str | None,
    db: str | None,
) -> None:
    """Replay --from..--to day by day on a copy of the database: what would be sent, to whom."""
    url = database_url(db)
    if not url.startswith("sqlite:///"):
        fail("simulate works on a copy of a SQLite database; export a PostgreSQL one to SQLite first")
    try:
        by_day = progress_by_day(list(progress))
    except ValueError as error:
        fail(str(error))
    wired = wire(plan_path, "sqlite://")  # the plan only; the real database is not opened for writing
    folder = keep or Path(tempfile.mkdtemp(prefix="cuiban-simulate-"))
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / "simulation.sqlite3"
    source = Path(url.removeprefix("sqlite:///"))
    if source.exists():
        original = sqlite3.connect(f"file:{source.resolve()}?mode=ro", uri=True)  # read-only: never writes
        with sqlite3.connect(copy) as target:
            original.backup(target)
        original.close()
    engine = open_engine(f"sqlite:///{copy}")
    click.echo(HEADER)
    replay(
        engine,
        wired.plan,
        wired.calendar,
        wired.renderer(),
        FileTransport(folder / "outbox"),
        first,
        last,
        by_day,
        read_done(done_file) if done_file else [],
        on_day=_print_row,
    )
    _summary(engine, folder / "outbox")
    engine.dispose()
    if keep is None:
        shutil.rmtree(folder)
        click.echo("(the copy and its messages were removed; --keep DIR keeps them)")


DEMO_MARKER = ".cuiban-demo"
"""Written into the folder the demo makes: only then may a later demo empty it of its own files."""
DEMO_DATABASE = "cuiban-demo.sqlite3"
_DEMO_FILES = {
    DEMO_MARKER,
    DEMO_DATABASE,
    f"{DEMO_DATABASE}-wal",
    f"{DEMO_DATABASE}-shm",
    "outbox",
    "reports",
}


def _demo_folder(out: Path) -> None:
    """Refuse (exit 2, nothing deleted) a folder the demo did not make and that is not empty;
    else make it if needed and mark it as the demo's."""
    if out.exists() and not out.is_dir():
        fail(f"--out {out} is a file; name a folder for the demo (new or empty), e.g. --out demo")
    if out.is_dir():
        entries = {entry.name for entry in out.iterdir()}
        # an older demo's folder, from before the marker: the demo's own names only, its database among them
        earlier_demo = DEMO_DATABASE in entries and entries <= _DEMO_FILES
        if entries and DEMO_MARKER not in entries and not earlier_demo:
            fail(
                f"--out {out} is not empty and was not made by the demo, whose files there it would "
                "replace; name a new or empty folder, e.g. --out demo"
            )
    out.mkdir(parents=True, exist_ok=True)
    (out / DEMO_MARKER).write_text(
        "Made by `cuiban demo`: a later demo deletes its database, outbox/ and reports/ in this folder.\n",
        encoding="utf-8",
    )


@click.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo"),
    show_default=True,
    help="Folder for the demo's database and its .eml files (both made anew).",
)
@plan_option
def demo(out: Path, plan_path: str | None) -> None:
    """Replay the 2016 campaign (11-28..12-30) on the shipped sample: 300 teachers, 12 departments.

    --out must be a new or empty folder, or one an earlier demo made (it holds .cuiban-demo):
    the demo deletes its own database, outbox/ and reports/ there, and nothing else."""
    _demo_folder(out)
    database, outbox = out / DEMO_DATABASE, out / "outbox"
    for stale in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        stale.unlink(missing_ok=True)
    shutil.rmtree(outbox, ignore_errors=True)
    wired = wire(plan_path, f"sqlite:///{database}")
    plan, calendar = wired.plan, wired.calendar
    start = pendulum.datetime(2016, 11, 28, 8, tz=plan.timezone)
    report = import_roster(wired.engine, plan, calendar, SAMPLE / "roster.csv", start, actor="人事处")
    click.echo(
        f"roster: {report.rows} rows, {report.imported} in scope, {report.excluded} excluded by scope rules"
    )
    click.echo(HEADER)
    progress = progress_by_day(sorted((SAMPLE / "status").glob("status-*.csv")))
    replay(
        wired.engine,
        plan,
        calendar,
        wired.renderer(),
        FileTransport(outbox),
        start.date(),
        date(2016, 12, 30),
        progress,
        read_done(SAMPLE / "tasks.csv"),
        on_day=_print_row,
    )
    end = pendulum.datetime(2016, 12, 30, 18, tz=plan.timezone)
    with wired.engine.connect() as connection:
        data = digest_data(connection, plan, calendar, end)
    coordinator = plan.people[plan.roles.coordinator].name
    click.echo("")
    click.echo(wired.renderer().render("digest", digest_context(plan, data, coordinator)).text)
    _summary(wired.engine, outbox)
    from cuiban.services.report_files import default_name, write_reports  # matplotlib: only when needed

    folder = out / "reports"
    shutil.rmtree(folder, ignore_errors=True)
    written = write_reports(wired.engine, plan, "dept-audit", "xlsx", end, folder, each=True)
    for fmt in ("xlsx", "docx"):
        target = folder / default_name("monthly", plan, end, fmt)
        written += write_reports(wired.engine, plan, "monthly", fmt, end, target)
    click.echo(
        f"reports in {folder}: 附表6 for each of {len(plan.departments())} departments, 附表4 of December"
    )
    for path in written:
        click.echo(f"  {path.name}")
    click.echo(f"database: {database} (try: cuiban task list --db sqlite:///{database})")
