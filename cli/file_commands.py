"""`cuiban roster import` and `cuiban sync`: files in, every bad row named, all or nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import pendulum
from rich.progress import Progress, SpinnerColumn, TextColumn

from cuiban.cli.bootstrap import Application, pass_app
from cuiban.cli.options import by_option, db_option, now_option, plan_option
from cuiban.services.roster_import import ImportReport, import_roster
from cuiban.services.status_sync import SyncReport, sync_statuses
from cuiban.workflow.clock import NaiveDatetimeError, parse_moment
from cuiban.workflow.wording import say, words

LARGE_FILE = 2_000_000  # bytes: show a progress line above this size
SHOWN = 20


@contextmanager
def _progress(path: Path) -> Iterator[Callable[[int], None] | None]:
    if path.exists() and path.stat().st_size > LARGE_FILE:
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), transient=True) as bar:
            task = bar.add_task(f"{path.name}: reading")
            yield lambda rows: bar.update(task, description=f"{path.name}: {rows:,} rows checked")
    else:
        yield None


def _listed(language: str, title: str, items: list[str]) -> None:
    if items:
        click.echo(say(language, "done.listed", title=words(title), count=len(items)))
        for item in items[:SHOWN]:
            click.echo(f"  {item}")
        if len(items) > SHOWN:
            click.echo(say(language, "done.more", count=len(items) - SHOWN))


@click.group()
def roster() -> None:
    """HR's roster (教师用户导入模板): import it into teacher records."""


def _print_import(report: ImportReport, dry_run: bool, mark_missing_left: bool, language: str) -> None:
    """What the import did, in the plan's language."""
    prefix = words("done.dry_run") if dry_run else ""
    figures = ("rows", "imported", "excluded", "updated", "unchanged", "included", "rejoined", "marked_left")
    click.echo(say(language, "roster.summary", prefix=prefix, **{k: getattr(report, k) for k in figures}))
    _listed(language, "roster.missing" if mark_missing_left else "roster.missing_hint", report.missing)
    _listed(language, "roster.kept_title", report.kept)


@roster.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check and count, write nothing.")
@click.option("--mark-missing-left", is_flag=True, help="Set teachers missing from FILE to left.")
@click.option(
    "--force", is_flag=True, help="Let --mark-missing-left mark more than 20% of the records as left."
)
@plan_option
@db_option
@by_option
@now_option
@pass_app
def import_(
    app: Application,
    file: Path,
    dry_run: bool,
    mark_missing_left: bool,
    force: bool,
    actor: str | None,
    now: pendulum.DateTime,
) -> None:
    """Import FILE (.xlsx, .xls or .csv in UTF-8 or GBK); any bad row rejects the whole file (exit 2)."""
    engine, plan, calendar = app.engine, app.plan, app.calendar
    with _progress(file) as progress:
        report = import_roster(
            engine, plan, calendar, file, now, dry_run=dry_run, mark_missing_left=mark_missing_left,
            force=force, actor=actor, progress=progress,
        )
    _print_import(report, dry_run, mark_missing_left, plan.language)


def _parse_as_of(ctx: click.Context, param: click.Parameter, value: str | None) -> pendulum.DateTime | None:
    if value is None:
        return None
    try:
        return parse_moment(value, "--as-of")
    except (ValueError, NaiveDatetimeError) as exc:
        raise click.BadParameter(str(exc)) from None


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check and count, write nothing.")
@click.option(
    "--as-of",
    metavar="ISO",
    callback=_parse_as_of,
    help="When the export was taken, ISO 8601 with an offset "
    "(default: a date in FILE's name, else its modification time).",
)
@click.option("--force", is_flag=True, help="Apply FILE even if a newer export has been applied.")
@plan_option
@db_option
@by_option
@now_option
@pass_app
def sync(
    app: Application,
    file: Path,
    dry_run: bool,
    as_of: pendulum.DateTime | None,
    force: bool,
    actor: str | None,
    now: pendulum.DateTime,
) -> None:
    """Apply the national system's status export FILE: each record walks its legal path to its status.

    An export older than the newest one applied is refused (exit 2) unless --force."""
    engine, plan, calendar = app.engine, app.plan, app.calendar
    with _progress(file) as progress:
        report = sync_statuses(
            engine, plan, calendar, file, now, dry_run=dry_run, actor=actor, progress=progress,
            as_of=as_of, force=force,
        )
    _print_sync(report, dry_run, plan.language)


def _print_sync(report: SyncReport, dry_run: bool, language: str) -> None:
    """What the sync did, in the plan's language."""
    prefix = words("done.dry_run") if dry_run else ""
    click.echo(
        say(
            language, "sync.summary", prefix=prefix, rows=report.rows, changed=report.changed,
            steps=report.steps, unchanged=report.unchanged, conflicts=len(report.conflicts),
            unknown=len(report.unknown),
        )
    )
    for move, count in sorted(report.moves.items()):
        click.echo(f"  {move}: {count}")
    _listed(language, "sync.conflicts_title", report.conflicts)
    _listed(language, "sync.unknown_title", report.unknown)
