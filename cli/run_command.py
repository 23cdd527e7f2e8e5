"""`cuiban run`: the engine as a long-running service."""

from __future__ import annotations

from functools import partial

import click
import pendulum

from cuiban.cli.bootstrap import Application, pass_app
from cuiban.cli.errors import Refused
from cuiban.cli.notify_commands import print_sent, queued_line, tasks_line
from cuiban.cli.options import db_option, plan_option
from cuiban.services.run_loop import AlreadyRunning, run_service
from cuiban.services.tick_and_send import TickAndSendReport
from cuiban.workflow.clock import NaiveDatetimeError, iso, parse_moment

EXIT_BUSY = 3


def _start(ctx: click.Context, param: click.Parameter, value: str | None) -> pendulum.DateTime | None:
    try:
        return parse_moment(value, "--now") if value else None
    except (ValueError, NaiveDatetimeError) as error:
        raise Refused(str(error)) from None


def _print_tick(tz: str, now: pendulum.DateTime, done: TickAndSendReport) -> None:
    click.echo(f"{iso(now.in_timezone(tz))} tick: {tasks_line(done)}; queued {queued_line(done)}; ", nl=False)
    print_sent(done.sent)  # type: ignore[arg-type] - the service always sends


def _warn(line: str) -> None:
    click.echo(line, err=True)


@click.command()
@click.option(
    "--every",
    type=float,
    default=300,
    show_default=True,
    metavar="SECONDS",
    help="Seconds between ticks (the digest and reminder times get their own).",
)
@click.option(
    "--now",
    "start",
    metavar="ISO",
    callback=_start,
    help="Run a campaign's clock from this moment instead of the host's.",
)
@click.option(
    "--speed",
    type=float,
    default=1.0,
    show_default=True,
    help="With --now: how many campaign seconds pass per real second.",
)
@plan_option
@db_option
@pass_app
def run(app: Application, every: float, start: pendulum.DateTime | None, speed: float) -> None:
    """Tick on schedule until stopped (Ctrl-C or SIGTERM); one `run` per database."""
    try:
        run_service(
            app.engine, app.plan, app.calendar, app.renderer, app.transport, app.delivery(every, every),
            every, start, speed, on_tick=partial(_print_tick, app.plan.timezone), say=click.echo,
            warn=_warn, links=app.links,
        )
    except AlreadyRunning as busy:
        _warn(f"another `cuiban run` ({busy}) is acting on this database; not starting.")
        raise SystemExit(EXIT_BUSY) from None
