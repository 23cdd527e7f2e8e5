"""`cuiban log export` and `cuiban purge`: the whole log out, personal data past its time removed."""

from __future__ import annotations

import click
import pendulum

from cuiban.cli.bootstrap import Application, pass_app
from cuiban.cli.options import by_option, db_option, now_option, plan_option
from cuiban.services import log_export
from cuiban.services import purge as purge_service


@click.group()
def log() -> None:
    """The transition log: every change, with who, when, old and new values."""


@log.command("export")
@click.option("--from", "start", metavar="ISO", help="From this moment or date (the whole day), included.")
@click.option("--to", "end", metavar="ISO", help="Up to this moment or date (the whole day), included.")
@click.option("--unit", metavar="UNIT", help="Only this unit's teachers and tasks (a unit id of the plan).")
@click.option("--format", "fmt", type=click.Choice(log_export.FORMATS), required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="File (default stdout).")
@plan_option
@db_option
@pass_app
def log_export_command(
    app: Application, start: str | None, end: str | None, unit: str | None, fmt: str, output: str | None
) -> None:
    """Every log row in id order: who, what, when (plan's timezone), how, note, old → new values.

    Streamed (constant memory at any size). CSV has a header and a UTF-8 BOM for Excel; jsonl is
    one object a line. ID-card and phone numbers are never in it: a change shows only that
    the field changed."""
    within = log_export.window(app.plan, start, end, unit)
    with click.open_file(output or "-", "w", encoding="utf-8", lazy=False) as out:
        exported = log_export.export_log(app.engine, app.plan, out, fmt, within)
    click.echo(f"{exported.rows} log row(s) exported" + (f" to {output}" if output else ""), err=True)


@click.command()
@click.option("--dry-run", is_flag=True, help="Say what would be removed; change nothing.")
@plan_option
@db_option
@by_option
@now_option
@pass_app
def purge(app: Application, dry_run: bool, actor: str | None, now: pendulum.DateTime) -> None:
    """Remove teachers' ID-card and phone numbers and emails once the plan's retention is over.

    Due when campaign.end + retention.days_after_end has passed; staff IDs, names, departments
    and the log stay, and the purge writes its own audit entry. A second run changes nothing."""
    done = purge_service.purge(app.engine, app.plan, now, dry_run=dry_run, actor=actor)
    for line in purge_service.lines(done, app.plan.timezone):
        click.echo(line)
