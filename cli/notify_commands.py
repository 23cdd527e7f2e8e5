"""`cuiban tick`, `cuiban outbox list|show|retry|send`, `cuiban digest`, `cuiban templates check`."""

from __future__ import annotations

import json
from typing import Any

import click
import pendulum
from rich.table import Table

from cuiban.cli.bootstrap import Application, pass_app
from cuiban.cli.console import console
from cuiban.cli.errors import EXIT_FAILED, EXIT_INVALID
from cuiban.cli.options import db_option, format_option, now_option, plan_option
from cuiban.services import outbox_admin
from cuiban.services.digest_preview import preview
from cuiban.services.dispatch import DispatchReport, dispatch
from cuiban.services.tick_and_send import TickAndSendReport, TickBusy, tick_and_send

budget_option = click.option(
    "--budget",
    type=click.FloatRange(min=1),
    metavar="SECONDS",
    help="Stop sending after this long (the rest waits for the next run); default: until the queue is empty.",
)


def print_sent(report: DispatchReport) -> None:
    line = f"sent {report.sent}, to retry {report.retried}, failed {report.failed}"
    if report.late:
        line += f", late {report.late}"
    if report.released:
        line += f" ({report.released} given back from a sender that had died)"
    click.echo(line + (f" (paused: {report.paused})" if report.paused else ""))
    for bot, why in report.bots_paused.items():
        click.echo(f"  bot {bot} paused: {why}")
    for error in report.errors:
        click.echo(f"  failed: {error}", err=True)


def tasks_line(done: TickAndSendReport) -> str:
    report = done.tick
    return f"{report.opened} opened, {report.overdue} overdue, {report.escalated} escalations"


def queued_line(done: TickAndSendReport) -> str:
    return ", ".join(f"{n} {kind}" for kind, n in done.tick.queued.items())


def _print_tick(done: TickAndSendReport) -> None:
    click.echo(f"tasks: {tasks_line(done)}; queued: {queued_line(done)}")
    if done.tick.template_failures:
        click.echo(
            f"{done.tick.template_failures} message(s) not sent: a template could not render them "
            "(see `cuiban outbox list --status failed`; `cuiban templates check` names the problem)",
            err=True,
        )
    if done.sent is not None:
        print_sent(done.sent)


def _waiting(holder: str) -> None:
    click.echo(f"another tick ({holder}) is running; waiting", err=True)


@click.command()
@click.option("--no-send", is_flag=True, help="Decide and queue, but leave sending for later.")
@budget_option
@plan_option
@db_option
@now_option
@pass_app
def tick(app: Application, no_send: bool, budget: float | None, now: pendulum.DateTime) -> None:
    """Decide what is due at --now (tasks, reminders, escalations, digest), queue it, then send it."""
    try:
        done = tick_and_send(
            app.engine, app.plan, app.calendar, app.renderer, app.transport, now,
            send=not no_send, delivery=app.delivery(budget), on_wait=_waiting, links=app.links,
        )
    except TickBusy as busy:
        click.echo(f"another tick ({busy}) is still running after 15 minutes; try again later", err=True)
        raise SystemExit(EXIT_FAILED) from None
    _print_tick(done)


@click.group()
def outbox() -> None:
    """Messages decided by ticks: list, show, retry, send."""


def _outbox_table(docs: list[dict[str, Any]]) -> Table:
    table = Table()
    for header in ("id", "kind", "status", "to", "subject", "slot", "attempts", "error"):
        table.add_column(header)
    for d in docs:
        to = f"{d['recipient_name']} <{d['recipient']}>"
        table.add_row(
            str(d["id"]), d["kind"], d["status"], to, d["subject"], d["slot"], str(d["attempts"]),
            d["last_error"] or "",
        )
    return table


@outbox.command("list")
@click.option("--status", type=click.Choice(["queued", "sending", "sent", "failed"]))
@click.option(
    "--kind",
    type=click.Choice(
        ["combined", "reminder", "escalation", "digest", "report", "teacher", "bot", "sign_in"]
    ),
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=outbox_admin.LIMIT,
    show_default=True,
    help="List only the newest this many (the rest are counted).",
)
@format_option("table", "json")
@plan_option
@db_option
@pass_app
def outbox_list(app: Application, status: str | None, kind: str | None, limit: int, fmt: str) -> None:
    """List messages with their state (the newest --limit, newest last)."""
    found = outbox_admin.listing(app.engine, app.plan.timezone, status, kind, limit)
    docs = found.messages[::-1]
    if fmt == "json":
        click.echo(json.dumps(docs, ensure_ascii=False, indent=2))
    else:
        console().print(_outbox_table(docs))
    if found.more:
        click.echo(f"{found.more} older message(s) not listed; --limit {found.total} lists all", err=True)


@outbox.command("show")
@click.argument("message_id", type=int)
@plan_option
@db_option
@pass_app
def outbox_show(app: Application, message_id: int) -> None:
    """One message: its state and text (never a sign-in link's text)."""
    summary, text = outbox_admin.message(app.engine, app.plan.timezone, message_id)
    for key, value in summary.items():
        click.echo(f"{key:<16} {'' if value is None else value}")
    click.echo("")
    click.echo(text if text is not None else "(a sign-in link's text is not shown: the link in it signs in)")


@outbox.command("retry")
@click.argument("message_ids", type=int, nargs=-1)
@click.option("--failed", "all_failed", is_flag=True, help="Retry every failed message.")
@plan_option
@db_option
@pass_app
def outbox_retry(app: Application, message_ids: tuple[int, ...], all_failed: bool) -> None:
    """Queue failed messages again (after fixing an address, say)."""
    click.echo(f"queued again: {outbox_admin.retry(app.engine, list(message_ids), all_failed)}")


@outbox.command("send")
@budget_option
@plan_option
@db_option
@now_option
@pass_app
def outbox_send(app: Application, now: pendulum.DateTime, budget: float | None) -> None:
    """Send queued messages (SMTP when $CUIBAN_SMTP_HOST is set, else .eml files in ./outbox)."""
    delivery = app.delivery(budget)
    report = dispatch(
        app.engine, app.transport, now,
        per_minute=delivery.per_minute, budget=delivery.budget, late_after=delivery.late_after,
        bots=delivery.bots,
    )
    print_sent(report)


@click.command()
@format_option("text", "html", "json")
@plan_option
@db_option
@now_option
@pass_app
def digest(app: Application, fmt: str, now: pendulum.DateTime) -> None:
    """The coordinator's progress digest at --now, without queueing it."""
    shown = preview(app.engine, app.plan, app.calendar, app.renderer, now, app.links)
    if fmt == "json":
        click.echo(json.dumps(shown.data, ensure_ascii=False, indent=2))
    else:
        click.echo(shown.rendered.text if fmt == "text" else shown.rendered.html)


@click.group()
def templates() -> None:
    """Message templates (built-in, or the plan's `templates` folder)."""


@templates.command("check")
@plan_option
@pass_app
def templates_check(app: Application) -> None:
    """Render every template against sample messages; a problem is named with its file and line (exit 2)."""
    from cuiban.services.template_check import check_all  # docxtpl loads only for this command

    checked = check_all(app.renderer)
    for problem in checked.problems:
        click.echo(problem, err=True)
    if checked.problems:
        click.echo(f"{len(checked.problems)} template problem(s)", err=True)
        raise SystemExit(EXIT_INVALID)
    click.echo(f"OK: {checked.summary}")
