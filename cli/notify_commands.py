"""`cuiban tick`, `cuiban outbox list|show|retry|send`, `cuiban digest`, `cuiban templates check`."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import click
import pendulum
from rich.table import Table

from cuiban.cli.console import console
from cuiban.cli.context import (
    db_option,
    fail,
    plan_option,
    renderer_for,
    send_rate,
    transport_from_environment,
    wire,
)
from cuiban.cli.options import now_option
from cuiban.models import outbox_store
from cuiban.models.unit_of_work import transaction
from cuiban.schedules.digest import digest_context, digest_data
from cuiban.services.dispatch import DispatchReport, dispatch
from cuiban.services.tick_and_send import Delivery, TickBusy, tick_and_send
from cuiban.workflow.clock import local_iso

format_option = click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)


budget_option = click.option(
    "--budget",
    type=click.FloatRange(min=1),
    metavar="SECONDS",
    help="Stop sending after this long (the rest waits for the next run); default: until the queue is empty.",
)


def _delivery(budget: float | None) -> Delivery:
    return Delivery(per_minute=send_rate(), budget=timedelta(seconds=budget) if budget else None)


def print_sent(report: DispatchReport) -> None:
    line = f"sent {report.sent}, to retry {report.retried}, failed {report.failed}"
    if report.late:
        line += f", late {report.late}"
    if report.released:
        line += f" ({report.released} given back from a sender that had died)"
    click.echo(line + (f" (paused: {report.paused})" if report.paused else ""))
    for error in report.errors:
        click.echo(f"  failed: {error}", err=True)


@click.command()
@click.option("--no-send", is_flag=True, help="Decide and queue, but leave sending for later.")
@budget_option
@plan_option
@db_option
@now_option
def tick(
    no_send: bool, budget: float | None, plan_path: str | None, db: str | None, now: pendulum.DateTime
) -> None:
    """Decide what is due at --now (tasks, reminders, escalations, digest), queue it, then send it."""
    wired = wire(plan_path, db)
    transport = transport_from_environment()  # a bad setting is a sentence (cli.errors)
    try:
        done = tick_and_send(
            wired.engine,
            wired.plan,
            wired.calendar,
            wired.renderer(),
            transport,
            now,
            send=not no_send,
            delivery=_delivery(budget),
            on_wait=lambda holder: click.echo(f"another tick ({holder}) is running; waiting", err=True),
        )
    except TickBusy as busy:
        click.echo(f"another tick ({busy}) is still running after 15 minutes; try again later", err=True)
        raise SystemExit(1) from None
    report = done.tick
    queued = ", ".join(f"{n} {kind}" for kind, n in report.queued.items())
    click.echo(
        f"tasks: {report.opened} opened, {report.overdue} overdue, {report.escalated} escalations; "
        f"queued: {queued}"
    )
    if report.template_failures:
        click.echo(
            f"{report.template_failures} message(s) not sent: a template could not render them "
            "(see `cuiban outbox list --status failed`; `cuiban templates check` names the problem)",
            err=True,
        )
    if done.sent is not None:
        print_sent(done.sent)


@click.group()
def outbox() -> None:
    """Messages decided by ticks: list, show, retry, send."""


@outbox.command("list")
@click.option("--status", type=click.Choice(["queued", "sending", "sent", "failed"]))
@click.option("--kind", type=click.Choice(["reminder", "escalation", "digest", "report"]))
@format_option
@plan_option
@db_option
def outbox_list(
    status: str | None, kind: str | None, fmt: str, plan_path: str | None, db: str | None
) -> None:
    """List messages with their state (newest last)."""
    wired = wire(plan_path, db)
    with wired.engine.connect() as connection:
        rows = outbox_store.rows(connection, status, kind)
    tz = wired.plan.timezone
    docs = [_summary(r, tz) for r in rows]
    if fmt == "json":
        click.echo(json.dumps(docs, ensure_ascii=False, indent=2))
        return
    table = Table()
    for header in ("id", "kind", "status", "to", "subject", "slot", "attempts", "error"):
        table.add_column(header)
    for d in docs:
        table.add_row(
            str(d["id"]),
            d["kind"],
            d["status"],
            f"{d['recipient_name']} <{d['recipient']}>",
            d["subject"],
            d["slot"],
            str(d["attempts"]),
            d["last_error"] or "",
        )
    console().print(table)


def _summary(row: dict[str, Any], tz: str) -> dict[str, Any]:
    keep = (
        "id",
        "key",
        "kind",
        "status",
        "recipient",
        "recipient_name",
        "subject",
        "slot",
        "task_key",
        "attempts",
        "last_error",
        "message_id",
    )
    doc = {k: row[k] for k in keep}
    for stamp in ("created_at", "sent_at", "next_attempt_at"):
        doc[stamp] = local_iso(row[stamp], tz)
    return doc


@outbox.command("show")
@click.argument("message_id", type=int)
@plan_option
@db_option
def outbox_show(message_id: int, plan_path: str | None, db: str | None) -> None:
    """One message: its state and its text."""
    wired = wire(plan_path, db)
    with wired.engine.connect() as connection:
        row = outbox_store.one(connection, message_id)
    if row is None:
        fail(f"no message {message_id} in the outbox")
    for key, value in _summary(row, wired.plan.timezone).items():
        click.echo(f"{key:<16} {'' if value is None else value}")
    click.echo("")
    click.echo(row["body_text"])


@outbox.command("retry")
@click.argument("message_ids", type=int, nargs=-1)
@click.option("--failed", "all_failed", is_flag=True, help="Retry every failed message.")
@plan_option
@db_option
def outbox_retry(
    message_ids: tuple[int, ...], all_failed: bool, plan_path: str | None, db: str | None
) -> None:
    """Queue failed messages again (after fixing an address, say)."""
    wired = wire(plan_path, db)
    with transaction(wired.engine) as connection:
        ids = [r["id"] for r in outbox_store.rows(connection, "failed")] if all_failed else list(message_ids)
        for mid in ids:
            row = outbox_store.one(connection, mid)
            if row is None or row["status"] == "sent":
                fail(f"message {mid} is {'not in the outbox' if row is None else 'already sent'}")
            outbox_store.mark(connection, mid, status="queued", attempts=0, next_attempt_at=None)
    click.echo(f"queued again: {len(ids)}")


@outbox.command("send")
@budget_option
@plan_option
@db_option
@now_option
def outbox_send(plan_path: str | None, db: str | None, now: pendulum.DateTime, budget: float | None) -> None:
    """Send queued messages (SMTP when $CUIBAN_SMTP_HOST is set, else .eml files in ./outbox)."""
    wired = wire(plan_path, db)
    delivery = _delivery(budget)
    report = dispatch(
        wired.engine,
        transport_from_environment(),
        now,
        per_minute=delivery.per_minute,
        budget=delivery.budget,
        late_after=delivery.late_after,
    )
    print_sent(report)


@click.command()
@click.option(
    "--format", "fmt", type=click.Choice(["text", "html", "json"]), default="text", show_default=True
)
@plan_option
@db_option
@now_option
def digest(fmt: str, plan_path: str | None, db: str | None, now: pendulum.DateTime) -> None:
    """The coordinator's progress digest at --now, without queueing it."""
    wired = wire(plan_path, db)
    with wired.engine.connect() as connection:
        data = digest_data(connection, wired.plan, wired.calendar, now)
    if fmt == "json":
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    coordinator = wired.plan.people[wired.plan.roles.coordinator].name
    rendered = wired.renderer().render("digest", digest_context(wired.plan, data, coordinator))
    click.echo(rendered.text if fmt == "text" else rendered.html)


@click.group()
def templates() -> None:
    """Message templates (built-in, or the plan's `templates` folder)."""


@templates.command("check")
@plan_option
def templates_check(plan_path: str | None) -> None:
    """Render every template against sample messages; a problem is named with its file and line (exit 2)."""
    from pathlib import Path

    from cuiban.notifications.samples import SAMPLES
    from cuiban.notifications.template_check import check_templates, languages
    from cuiban.planfile.loader import default_plan_path, load_plan
    from cuiban.reports.check import NAMES, check_report_templates  # docxtpl loads only for this command

    path = plan_path or default_plan_path()
    plan, _ = load_plan(path)
    renderer = renderer_for(plan, Path(path))
    folder = renderer.override
    problems = check_templates(renderer, NAMES) + check_report_templates(folder)
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        fail(f"{len(problems)} template problem(s)")
    checked = f"built-in {' and '.join(languages())}" + (f", overrides from {folder}" if folder else "")
    click.echo(f"OK: templates for {plan.language} ({checked}; rendered with {len(SAMPLES)} sample messages)")
