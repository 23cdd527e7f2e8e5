"""`cuiban teacher show|event`, `cuiban task list|done`, `cuiban history`."""

from __future__ import annotations

import json
from dataclasses import asdict

import click
import pendulum
from rich.table import Table

from cuiban.cli.console import console
from cuiban.cli.context import by_option, db_option, fail, plan_option, wire
from cuiban.cli.options import now_option
from cuiban.models import log_store
from cuiban.services import tasks as task_service
from cuiban.services import teachers as teacher_service
from cuiban.workflow.cells import masked
from cuiban.workflow.clock import local_iso
from cuiban.workflow.machines import IllegalEvent
from cuiban.workflow.teacher_machine import EVENTS

format_option = click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)


@click.group()
def teacher() -> None:
    """One teacher record: show it, or move it with an event."""


@teacher.command("show")
@click.argument("staff_id")
@format_option
@plan_option
@db_option
def teacher_show(staff_id: str, fmt: str, plan_path: str | None, db: str | None) -> None:
    """Show the record of STAFF_ID (ID-card and phone numbers masked)."""
    wired = wire(plan_path, db)
    try:
        row = teacher_service.show(wired.engine, staff_id)
    except teacher_service.NotFound as error:
        fail(str(error))
    shown = {k: (masked(k, v) if isinstance(v, str) else v) for k, v in row.items() if k != "id"}
    for key in ("state_changed_at", "updated_at"):
        shown[key] = local_iso(row[key], wired.plan.timezone)
    if fmt == "json":
        click.echo(json.dumps(shown, ensure_ascii=False, indent=2))
        return
    for key, value in shown.items():
        click.echo(f"{key:<22} {'' if value is None else value}")


@teacher.command("event")
@click.argument("staff_id")
@click.argument("event", type=click.Choice(list(EVENTS)))
@click.option("--note", help="Why (required for return_, e.g. what to fix).")
@click.option(
    "--set",
    "changes",
    multiple=True,
    metavar="FIELD=VALUE",
    help="For request_correction: a field and its corrected value (repeatable).",
)
@plan_option
@db_option
@by_option
@now_option
def teacher_event(
    staff_id: str,
    event: str,
    note: str | None,
    changes: tuple[str, ...],
    plan_path: str | None,
    db: str | None,
    actor: str | None,
    now: pendulum.DateTime,
) -> None:
    """Fire EVENT on STAFF_ID's record; an event its state does not allow is refused (exit 2)."""
    wired = wire(plan_path, db)
    parsed = dict(c.split("=", 1) for c in changes if "=" in c)
    if len(parsed) != len(changes):
        fail("--set takes FIELD=VALUE, e.g. --set title=副教授")
    try:
        happened = teacher_service.fire(
            wired.engine, wired.plan, staff_id, event, now, actor=actor, note=note, changes=parsed or None
        )
    except (IllegalEvent, ValueError, teacher_service.NotFound) as error:
        fail(str(error))
    click.echo(f"{staff_id}: {happened.source} → {happened.dest} ({happened.event})")


@click.group()
def task() -> None:
    """Unit tasks: one per milestone and responsible unit."""


@task.command("list")
@click.option("--unit", help="Only this unit's tasks (unit id).")
@format_option
@plan_option
@db_option
@now_option
def task_list(
    unit: str | None, fmt: str, plan_path: str | None, db: str | None, now: pendulum.DateTime
) -> None:
    """List tasks with their state, escalation level and due time."""
    wired = wire(plan_path, db)
    try:
        lines = task_service.list_tasks(wired.engine, wired.plan, wired.calendar, now, unit)
    except task_service.TaskNotFound as error:
        fail(str(error))
    tz = wired.plan.timezone
    if fmt == "json":
        docs = [
            {**asdict(line), "due": local_iso(line.due, tz), "completed_at": local_iso(line.completed_at, tz)}
            for line in lines
        ]
        click.echo(json.dumps(docs, ensure_ascii=False, indent=2))
        return
    table = Table()
    for header in ("task", "里程碑", "单位", "状态", "催办级别", "截止", "完成"):
        table.add_column(header)
    for line in lines:
        due = local_iso(line.due, tz)
        done = local_iso(line.completed_at, tz)
        table.add_row(
            line.key,
            line.title,
            line.unit,
            line.state,
            str(line.escalation_level),
            due[:16] if due else "待定",
            done[:16] if done else "",
        )
    console().print(table)


@task.command("done")
@click.argument("milestone")
@click.option("--unit", required=True, help="The unit whose task is done (unit id).")
@click.option(
    "--occurrence", metavar="YYYY-MM-DD", help="For a monthly milestone (default: the earliest open)."
)
@plan_option
@db_option
@by_option
@now_option
def task_done(
    milestone: str,
    unit: str,
    occurrence: str | None,
    plan_path: str | None,
    db: str | None,
    actor: str | None,
    now: pendulum.DateTime,
) -> None:
    """Mark MILESTONE done for --unit (late when past its due time)."""
    wired = wire(plan_path, db)
    try:
        state = task_service.mark_done(
            wired.engine, wired.plan, wired.calendar, milestone, unit, now, occurrence=occurrence, actor=actor
        )
    except (task_service.TaskNotFound, ValueError) as error:
        fail(str(error))
    click.echo(f"{milestone}/{unit}: {state}")


@click.command()
@click.argument("record")
@format_option
@plan_option
@db_option
def history(record: str, fmt: str, plan_path: str | None, db: str | None) -> None:
    """The transition log of a teacher (STAFF_ID) or a task (MILESTONE/UNIT[/DATE])."""
    wired = wire(plan_path, db)
    kind = "task" if "/" in record else "teacher"
    with wired.engine.connect() as connection:
        entries = log_store.history(connection, kind, record)
    if not entries:
        fail(f"no history for {kind} {record!r}")
    tz = wired.plan.timezone
    if fmt == "json":
        docs = [{k: v for k, v in e.items() if k != "id"} | {"at": local_iso(e["at"], tz)} for e in entries]
        click.echo(json.dumps(docs, ensure_ascii=False, indent=2))
        return
    for e in entries:
        change = f" {json.dumps(e['data'], ensure_ascii=False)}" if e["data"] else ""
        note = f" — {e['note']}" if e["note"] else ""
        who = f" by {e['actor']}" if e["actor"] else ""
        click.echo(
            f"{local_iso(e['at'], tz)}  {e['from_state'] or '∅'} → {e['to_state']}  "
            f"{e['event']} ({e['source']}{who}){note}{change}"
        )
