"""`cuiban simulate` (a plan tried on a copy of the database) and `cuiban demo` (the shipped sample)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from cuiban import samples
from cuiban.cli.bootstrap import Application, pass_app
from cuiban.cli.options import db_option, plan_option
from cuiban.services.demo import browser_line, fresh_database, run_demo
from cuiban.services.simulation import Simulation, check_done_file
from cuiban.services.simulation import simulate as simulate_on_a_copy

__all__ = ["SAMPLE", "demo", "simulate"]
SAMPLE = Path(samples.__file__).resolve().parent / "2016"
"""The 2016 campaign's sample: roster, status exports, tasks done by hand (package data)."""


def _date(ctx: click.Context, param: click.Parameter, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2016-11-28") from None


def _checked_done(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    if value is not None:
        check_done_file(value)
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
@pass_app
def simulate(
    app: Application,
    first: date,
    last: date,
    progress: tuple[Path, ...],
    done_file: Path | None,
    keep: Path | None,
) -> None:
    """Replay --from..--to day by day on a copy of the database: what would be sent, to whom."""
    asked = Simulation(first, last, progress, done_file, keep)
    simulate_on_a_copy(
        app.database_url, app.open_database, app.plan, app.calendar, app.renderer, asked, say=click.echo,
        links=app.links,
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
@pass_app
def demo(app: Application, out: Path) -> None:
    """Replay the 2016 campaign (11-28..12-30) on the shipped sample: 300 teachers, 12 departments.

    --out must be a new or empty folder, or one an earlier demo made (it holds .cuiban-demo):
    the demo deletes its own database, outbox/, reports/ and evidence/ there, and nothing else.
    It ends with the one command that shows the campaign in a browser."""
    app.use_packaged_plan_if_none()
    app.db_option = fresh_database(out)
    run_demo(app.engine, app.plan, app.calendar, app.renderer, SAMPLE, out, say=click.echo, links=app.links)
    click.echo(browser_line(out, app.plan_file))
