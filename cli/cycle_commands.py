"""`cuiban cycle …`: campaign cycles on one database (next year's campaign after this year's)."""

from __future__ import annotations

from datetime import datetime

import click
import pendulum

from cuiban.cli.bootstrap import Application, pass_app
from cuiban.cli.options import by_option, db_option, now_option, plan_option
from cuiban.services.cycles import cycles, start_cycle


@click.group()
def cycle() -> None:
    """Campaign cycles: next year's campaign on the same database."""


@cycle.command()
@plan_option
@db_option
@by_option
@now_option
@pass_app
def start(app: Application, actor: str | None, now: pendulum.DateTime) -> None:
    """Start the --plan's cycle: the current one is closed (kept, read-only), every teacher starts afresh."""
    started = start_cycle(app.engine, app.plan, now, actor)
    if started.already:
        click.echo(f"cycle {started.cycle} is already the current cycle; nothing changed.")
        return
    closed = f"cycle {started.closed} closed (kept for its reports); " if started.closed else ""
    click.echo(f"{closed}cycle {started.cycle} started: {started.teachers} teachers' progress starts afresh.")
    click.echo("Next: import the new roster (cuiban roster import FILE); it applies the plan's scope rules.")


@cycle.command("list")
@db_option
@pass_app
def list_(app: Application) -> None:
    """The cycles in the database, oldest first; the last one is current."""
    found = cycles(app.open_database(app.database_url))
    if not found:
        click.echo("no cycle yet: the first command run with a plan makes its cycle the first.")
    for row in found:
        closed = f"closed {_utc(row['closed_at'])}" if row["closed_at"] else "current"
        click.echo(f"{row['cycle']}  {row['title']}  started {_utc(row['started_at'])}  {closed}")


def _utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")
