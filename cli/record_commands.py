"""`cuiban teacher show|event`, `cuiban task list|done`, `cuiban history`."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import click
import pendulum
from rich.table import Table

from cuiban.cli.bootstrap import Application, pass_app
from cuiban.cli.console import console
from cuiban.cli.errors import Refused
from cuiban.cli.options import by_option, db_option, format_option, now_option, plan_option
from cuiban.services import tasks as task_service
from cuiban.services import teachers as teacher_service
from cuiban.services.history import history as history_of
from cuiban.workflow.cells import masked
from cuiban.workflow.clock import local_iso
from cuiban.workflow.machines import IllegalEvent
from cuiban.workflow.teacher_machine import EVENTS


def _echo_json(docs: Any) -> None:
    click.echo(json.dumps(docs, ensure_ascii=False, indent=2))


@click.group()
def teacher() -> None:
    """One teacher record: show it, or move it with an event."""


def _shown(row: dict[str, Any], tz: str) -> dict[str, Any]:
    """The record as shown: ID-card and phone numbers masked, times in the plan's timezone."""
    shown = {k: (masked(k, v) if isinstance(v, str) else v) for k, v in row.items() if k != "id"}
    for key in ("state_changed_at", "updated_at"):
        shown[key] = local_iso(row[key], tz)
    return shown


@teacher.command("show")
@click.argument("staff_id")
@format_option("table", "json")
@plan_option
@db_option
@pass_app
def teacher_show(app: Application, staff_id: str, fmt: str) -> None:
    """Show the record of STAFF_ID (ID-card and phone numbers masked)."""
    shown = _shown(teacher_service.show(app.engine, staff_id), app.plan.timezone)
    if fmt == "json":
        _echo_json(shown)
        return
    for key, value in shown.items():
        click.echo(f"{key:<22} {'' if value is None else value}")


def _changes(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> dict[str, str]:
    parsed = dict(c.split("=", 1) for c in value if "=" in c)
    if len(parsed) != len(value):
        raise Refused("--set takes FIELD=VALUE, e.g. --set title=副教授")
    return parsed


@teacher.command("event")
@click.argument("staff_id")
@click.argument("event", type=click.Choice(list(EVENTS)))
@click.option("--note", help="Why (required for return_, e.g. what to fix).")
@click.option(
    "--set",
    "changes",
    multiple=True,
    metavar="FIELD=VALUE",
    callback=_changes,
    help="For request_correction: a field and its corrected value (repeatable).",
)
@plan_option
@db_option
@by_option
@now_option
@pass_app
def teacher_event(
    app: Application,
    staff_id: str,
    event: str,
    note: str | None,
    changes: dict[str, str],
    actor: str | None,
    now: pendulum.DateTime,
) -> None:
    """Fire EVENT on STAFF_ID's record; an event its state does not allow is refused (exit 2)."""
    try:
        happened = teacher_service.fire(
            app.engine, app.plan, staff_id, event, now, actor=actor, note=note, changes=changes or None
        )
    except (IllegalEvent, ValueError) as error:
        raise Refused(str(error)) from None
    click.echo(f"{staff_id}: {happened.source} → {happened.dest} ({happened.event})")


@click.group()
def task() -> None:
    """Unit tasks: one per milestone and responsible unit."""


def _task_docs(lines: list[task_service.TaskLine], tz: str) -> list[dict[str, Any]]:
    return [
        {**asdict(line), "due": local_iso(line.due, tz), "completed_at": local_iso(line.completed_at, tz)}
        for line in lines
    ]


def _task_table(lines: list[task_service.TaskLine], tz: str) -> Table:
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
    return table


@task.command("list")
@click.option("--unit", help="Only this unit's tasks (unit id).")
@format_option("table", "json")
@plan_option
@db_option
@now_option
@pass_app
def task_list(app: Application, unit: str | None, fmt: str, now: pendulum.DateTime) -> None:
    """List tasks with their state, escalation level and due time."""
    lines = task_service.list_tasks(app.engine, app.plan, app.calendar, now, unit)
    if fmt == "json":
        _echo_json(_task_docs(lines, app.plan.timezone))
    else:
        console().print(_task_table(lines, app.plan.timezone))


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
@pass_app
def task_done(
    app: Application,
    milestone: str,
    unit: str,
    occurrence: str | None,
    actor: str | None,
    now: pendulum.DateTime,
) -> None:
    """Mark MILESTONE done for --unit (late when past its due time)."""
    try:
        state = task_service.mark_done(
            app.engine, app.plan, app.calendar, milestone, unit, now, occurrence=occurrence, actor=actor
        )
    except ValueError as error:
        raise Refused(str(error)) from None
    click.echo(f"{milestone}/{unit}: {state}")


def _entry_doc(entry: dict[str, Any], tz: str) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k != "id"} | {"at": local_iso(entry["at"], tz)}


def _entry_line(entry: dict[str, Any], tz: str) -> str:
    change = f" {json.dumps(entry['data'], ensure_ascii=False)}" if entry["data"] else ""
    note = f" — {entry['note']}" if entry["note"] else ""
    who = f" by {entry['actor']}" if entry["actor"] else ""
    return (
        f"{local_iso(entry['at'], tz)}  {entry['from_state'] or '∅'} → {entry['to_state']}  "
        f"{entry['event']} ({entry['source']}{who}){note}{change}"
    )


@click.command()
@click.argument("record")
@format_option("table", "json")
@plan_option
@db_option
@pass_app
def history(app: Application, record: str, fmt: str) -> None:
    """The transition log of a teacher (STAFF_ID) or a task (MILESTONE/UNIT[/DATE])."""
    entries, tz = history_of(app.engine, record), app.plan.timezone
    if fmt == "json":
        _echo_json([_entry_doc(e, tz) for e in entries])
        return
    for entry in entries:
        click.echo(_entry_line(entry, tz))
