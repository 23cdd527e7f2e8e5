"""Replaying a campaign day by day: status exports at 08:00, the tick after the day's reminders, tasks
done by hand in the afternoon, everything delivered to a transport. What `simulate` and `demo` run.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any

import pendulum
from sqlalchemy import Engine

from cuiban.models import outbox_store, task_store
from cuiban.notifications.render import Renderer
from cuiban.notifications.transports import Transport
from cuiban.schedules.service import times_of_day
from cuiban.services.status_sync import sync_statuses
from cuiban.services.tasks import mark_done
from cuiban.services.tick_and_send import tick_and_send
from cuiban.workflow.calendar import WorkingCalendar
from cuiban.workflow.links import NO_LINKS, Links
from cuiban.workflow.plan.schema import Plan
from cuiban.workflow.reminders import at_local

_DATE_IN_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})")
SYNC_AT, DONE_AT = time(8, 0), time(16, 0)
HEADER = (
    f"{'date':<12}{'synced':>7}{'done':>6}{'combined':>10}{'reminders':>11}{'escalations':>13}{'digests':>9}"
    f"{'behind':>8}"
)
"""The columns of a replay's narration, one `day_line` per day under it."""


@dataclass(frozen=True)
class DayRow:
    day: date
    synced: int
    done: int
    combined: int
    """Mails that gather one person's reminders and escalations of the day (`reminders.combine`)."""
    reminders: int
    escalations: int
    digests: int
    behind: int
    """Departments with an overdue task at the end of the day."""


@dataclass(frozen=True)
class DoneByHand:
    day: date
    milestone: str
    unit: str
    by: str | None


def progress_by_day(files: list[Path]) -> dict[date, list[Path]]:
    """Status exports keyed by the date in their names (status-2016-12-05.csv)."""
    found: dict[date, list[Path]] = {}
    for path in files:
        match = _DATE_IN_NAME.search(path.name)
        if not match:
            raise ValueError(
                f"{path}: the file name must hold the day it applies to, e.g. status-2016-12-05.csv"
            )
        found.setdefault(date.fromisoformat(match.group(1)), []).append(path)
    return found


def read_done(path: Path) -> list[DoneByHand]:
    """A CSV of date, milestone, unit[, by]: tasks to mark done by hand on those days."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [
        DoneByHand(date.fromisoformat(r["date"]), r["milestone"], r["unit"], r.get("by") or None)
        for r in rows
    ]


def tick_time(plan: Plan) -> time:
    """Five minutes after the latest time of day the plan names: one tick a day sees them all."""
    hour, minute = times_of_day(plan)[-1]
    return (pendulum.datetime(2000, 1, 1, hour, minute) + timedelta(minutes=5)).time()


def replay(
    engine: Engine,
    plan: Plan,
    calendar: WorkingCalendar,
    renderer: Renderer,
    transport: Transport,
    first: date,
    last: date,
    progress: dict[date, list[Path]],
    done: list[DoneByHand],
    on_day: Callable[[DayRow], None] | None = None,
    links: Links = NO_LINKS,
) -> list[DayRow]:
    rows = []
    at = tick_time(plan)
    day = first
    while day <= last:
        synced = sum(
            sync_statuses(engine, plan, calendar, path, at_local(day, SYNC_AT, plan.timezone)).changed
            for path in progress.get(day, [])
        )
        moment = at_local(day, at, plan.timezone)
        report = tick_and_send(engine, plan, calendar, renderer, transport, moment, links=links).tick
        finished = 0
        for item in (d for d in done if d.day == day):
            mark_done(
                engine,
                plan,
                calendar,
                item.milestone,
                item.unit,
                at_local(day, DONE_AT, plan.timezone),
                actor=item.by,
            )
            finished += 1
        row = DayRow(
            day,
            synced,
            finished,
            report.queued.get("combined", 0),
            report.queued["reminder"],
            report.queued["escalation"],
            report.queued["digest"],
            _behind(engine, plan),
        )
        rows.append(row)
        if on_day:
            on_day(row)
        day += timedelta(days=1)
    return rows


def day_line(row: DayRow) -> str:
    return (
        f"{row.day.isoformat():<12}{row.synced:>7}{row.done:>6}{row.combined:>10}{row.reminders:>11}"
        f"{row.escalations:>13}{row.digests:>9}{row.behind:>8}"
    )


def outbox_lines(engine: Engine, folder: Path, after: int = 0) -> list[str]:
    """What a replay sent (the messages after outbox id `after`: those queued before it are not its):
    a blank line, each kind with its count and first message, the total."""
    with engine.connect() as connection:
        rows = outbox_store.rows_after(connection, after)
    kinds: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        kinds.setdefault(row["kind"], []).append(row)
    lines = [""]
    for kind, messages in sorted(kinds.items()):
        first = messages[0]
        lines.append(f"{kind}: {len(messages)} (first: to {first['recipient_name']}: {first['subject']})")
    return [*lines, f"{len(rows)} messages written to {folder}"]


def _behind(engine: Engine, plan: Plan) -> int:
    with engine.connect() as connection:
        rows = task_store.rows(connection, cycle=plan.cycle)
        units = {row["unit_id"] for row in rows if row["state"] == "overdue"}
    return len(units & set(plan.departments()))
