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
from cuiban.services.workers import Round, Tenant, run_workers
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
@click.option(
    "--all",
    "all_institutions",
    is_flag=True,
    help="Act for every institution of $CUIBAN_PLANS (PostgreSQL): run as many of these workers as you "
    "like, on any machines; they share the ticks and the sending.",
)
@click.option(
    "--clock-from",
    "leaves_at",
    metavar="ISO",
    callback=_start,
    help="With --all and --now: the real moment the campaign clock leaves --now (default: when the run "
    "starts); give several workers the same one and they share one campaign clock.",
)
@plan_option
@db_option
@pass_app
def run(
    app: Application,
    every: float,
    start: pendulum.DateTime | None,
    speed: float,
    all_institutions: bool,
    leaves_at: pendulum.DateTime | None,
) -> None:
    """Tick on schedule until stopped (Ctrl-C or SIGTERM); one `run` per database (or, with --all,
    any number of workers for every institution of the plans folder)."""
    if all_institutions:
        _run_workers(app, every, start, speed, leaves_at)
        return
    try:
        run_service(
            app.engine, app.plan, app.calendar, app.renderer, app.transport, app.delivery(every, every),
            every, start, speed, on_tick=partial(_print_tick, app.plan.timezone), say=click.echo,
            warn=_warn, links=app.links,
        )
    except AlreadyRunning as busy:
        _warn(f"another `cuiban run` ({busy}) is acting on this database; not starting.")
        raise SystemExit(EXIT_BUSY) from None


def _run_workers(
    app: Application,
    every: float,
    start: pendulum.DateTime | None,
    speed: float,
    leaves_at: pendulum.DateTime | None,
) -> None:
    tenants = []
    for institution in app.institutions_in_plans():
        part = app.for_institution(institution)
        tenants.append(
            Tenant(
                institution, part.engine, part.plan, part.calendar, part.renderer, part.transport,
                part.delivery(every, every), part.links,
            )
        )
        part.engine.dispose()  # opened (and migrated) once; connections are taken again when used
    run_workers(
        tenants, every, start, speed, on_round=_print_round, say=click.echo, warn=_warn, leaves_at=leaves_at
    )


def _print_round(done: Round) -> None:
    """A round of ticks: one line per institution ticked and one for the round; a pass of sending:
    one line."""
    for institution, report in done.ticked.items():
        click.echo(f"{iso(done.now)} {institution} tick: {tasks_line(report)}; queued {queued_line(report)}")
    for institution, reason in done.refused.items():
        _warn(f"{iso(done.now)} {institution}: {reason}")
    if done.sent:
        sent = list(done.sent.values())
        click.echo(
            f"{iso(done.now)} sent {sum(r.sent for r in sent)}, to retry {sum(r.retried for r in sent)}, "
            f"failed {sum(r.failed for r in sent)} ({sum(1 for r in sent if r.sent)} institutions)"
        )
    else:
        passed = f"{len(done.passed)} passed (another worker)"
        click.echo(f"{iso(done.now)} round: {len(done.ticked)} ticked, {passed}")
