"""`cuiban run`: the engine as a long-running service."""

from __future__ import annotations

import signal
import threading
from datetime import timedelta

import click
import pendulum

from cuiban.cli.context import db_option, fail, plan_option, send_rate, transport_from_environment, wire
from cuiban.cli.notify_commands import print_sent
from cuiban.models import lease_store
from cuiban.schedules.service import Clock, build
from cuiban.services.holders import holder_is_dead, holder_name
from cuiban.services.tick_and_send import Delivery, tick_and_send
from cuiban.workflow.clock import NaiveDatetimeError, iso, parse_moment

LEASE = "cuiban.run"
EXIT_BUSY = 3


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
    "--now", "start", metavar="ISO", help="Run a campaign's clock from this moment instead of the host's."
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
def run(every: float, start: str | None, speed: float, plan_path: str | None, db: str | None) -> None:
    """Tick on schedule until stopped (Ctrl-C or SIGTERM); one `run` per database."""
    wired = wire(plan_path, db)
    try:
        clock = Clock(parse_moment(start, "--now") if start else None, speed)
    except (ValueError, NaiveDatetimeError) as error:
        fail(str(error))
    transport = transport_from_environment()  # a bad setting is a sentence (cli.errors)
    holder = holder_name(token=False)
    ttl = timedelta(seconds=max(2 * every, 120))
    delivery = Delivery(
        per_minute=send_rate(), budget=timedelta(seconds=every), late_after=timedelta(seconds=every)
    )
    busy = lease_store.acquire(wired.engine, LEASE, holder, pendulum.now("UTC"), ttl, holder_is_dead)
    if busy:
        click.echo(f"another `cuiban run` ({busy}) is acting on this database; not starting.", err=True)
        raise SystemExit(EXIT_BUSY)
    lock = threading.Lock()

    def job() -> None:
        with lock:
            if lease_store.acquire(wired.engine, LEASE, holder, pendulum.now("UTC"), ttl, holder_is_dead):
                click.echo("the lease was taken over by another run; stopping.", err=True)
                scheduler.shutdown(wait=False)
                return
            now = clock.now()
            done = tick_and_send(
                wired.engine, wired.plan, wired.calendar, wired.renderer(), transport, now, delivery=delivery
            )
            report = done.tick
            queued = ", ".join(f"{n} {kind}" for kind, n in report.queued.items())
            click.echo(
                f"{iso(now.in_timezone(wired.plan.timezone))} tick: {report.opened} opened, "
                f"{report.overdue} overdue, {report.escalated} escalations; queued {queued}; ",
                nl=False,
            )
            print_sent(done.sent)

    scheduler = build(wired.plan, job, timedelta(seconds=every), clock)

    def stop(signum: int, _frame: object) -> None:
        click.echo(f"stopping ({signal.Signals(signum).name}) after the current tick")
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    click.echo(f"cuiban run: every {every:g} s, times of day in {wired.plan.timezone}; holder {holder}")
    try:
        scheduler.start()
    finally:
        with lock:  # let a tick in progress finish before letting go of the database
            lease_store.release(wired.engine, LEASE, holder)
        click.echo("stopped")
