"""One tick: load what is due at `now`, let the domain decide, render and queue it in the outbox.

Idempotent: task transitions only happen once (a task opens once, each escalation
level is raised once), and every message has a unique outbox key, so a tick run
twice at the same `now` — or later the same day — queues nothing new. Messages are
rendered and queued in the same transaction as the decisions; sending comes after.

The decisions are `workflow.tick_decisions` (and `workflow.completion` for derived
tasks); what a message says is `task_notice`, how it is rendered `task_mail` and
`digest_mail`. This module only loads, hands over and saves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache, partial
from typing import Any

from sqlalchemy import Connection, Engine

from cuiban.models import locks, outbox_store, task_store, teacher_store, tick_marks
from cuiban.models.unit_of_work import transaction
from cuiban.notifications.render import Renderer
from cuiban.schedules.bot_mail import bot_messages
from cuiban.schedules.combined_mail import person_messages
from cuiban.schedules.completion import refresh_derived
from cuiban.schedules.digest_mail import digests
from cuiban.schedules.task_mail import Due, task_dues, task_messages
from cuiban.schedules.task_notice import notice
from cuiban.schedules.teacher_mail import TeacherTask, teacher_messages, teacher_task
from cuiban.workflow.calendar import WorkingCalendar
from cuiban.workflow.links import NO_LINKS, Links
from cuiban.workflow.plan.schema import Plan
from cuiban.workflow.reminders import Reminded
from cuiban.workflow.task_machine import FINISHED, UnitTask
from cuiban.workflow.tasks import TaskState
from cuiban.workflow.tick_decisions import TaskTick, Timetable, decide

__all__ = ["KEY_WINDOW_DAYS", "TickReport", "run_tick"]

KEY_WINDOW_DAYS = 60
"""Outbox keys older than this cannot come up again (slots are at most this far back)."""


@dataclass
class TickReport:
    opened: int = 0
    overdue: int = 0
    escalated: int = 0
    queued: dict[str, int] = field(
        default_factory=lambda: {
            "reminder": 0,
            "escalation": 0,
            "digest": 0,
            "bot": 0,
            "combined": 0,
            "teacher": 0,
        }
    )
    template_failures: int = 0
    """Messages queued as failed because an admin's template could not render them."""

    def count(self, decided: TaskTick) -> None:
        self.opened += decided.fired("open_window")
        self.overdue += decided.fired("mark_overdue")
        self.escalated += len(decided.escalations)


def run_tick(
    engine: Engine,
    plan: Plan,
    calendar: WorkingCalendar,
    renderer: Renderer,
    now: datetime,
    message_domain: str = "cuiban.local",
    links: Links = NO_LINKS,
    check: Callable[[Connection], Any] | None = None,
) -> TickReport:
    """`links`: where the web pages are, for the link each message carries (none by default);
    `check(connection)`: called first in the tick's transaction (the service's refusal of a plan
    that is not the database's current cycle). Everything the tick reads and writes is the plan's
    cycle's: last year's tasks and messages are neither counted nor sent again."""
    report = TickReport()
    since = now - timedelta(days=KEY_WINDOW_DAYS)
    cycle = plan.cycle
    with transaction(engine) as connection:
        locks.hold(connection, "cuiban.tick")  # a second tick waits, then finds nothing new
        if check is not None:
            check(connection)
        task_store.ensure(connection, plan, calendar, now)
        refresh_derived(connection, plan, now, "tick")
        timetable = Timetable(plan, calendar, now, tick_marks.seen_until(connection, cycle))
        tick_marks.saw(connection, now, cycle)
        teachers: list[TeacherTask] = []
        messages = _task_messages(connection, timetable, renderer, links, report, since, teachers)
        _queue(connection, report, messages, now, message_domain, cycle)  # first: the digest lists failures
        for chunk in teacher_messages(connection, timetable, renderer, teachers):  # the digest counts them
            _queue(connection, report, chunk, now, message_domain, cycle)
        daily = digests(connection, plan, calendar, renderer, now, links)
        _queue(connection, report, daily, now, message_domain, cycle)
    return report


def _task_messages(
    connection: Connection,
    timetable: Timetable,
    renderer: Renderer,
    links: Links,
    report: TickReport,
    since: datetime,
    teachers: list[TeacherTask],
) -> list[dict[str, Any]]:
    """Every unfinished task decided, its changes saved, its messages rendered (in task order): with
    `reminders.combine` one mail per person (`combined_mail`), else one per task and person; the
    tasks whose teachers are reminded today are added to `teachers` (none unless `teachers.remind`)."""
    plan, now = timetable.plan, timetable.now
    known = outbox_store.keys_since(connection, since, plan.cycle)
    counts = teacher_store.unit_state_counts(connection)  # one scan per tick
    reminded: dict[str, Reminded] = {}
    if timetable.reminding:
        sent = outbox_store.reminded(connection, since, plan.cycle)
        reminded = {key: Reminded(*when) for key, when in sent.items()}
    changed: list[tuple[TaskState, UnitTask]] = []
    messages: list[dict[str, Any]] = []
    dues: list[Due] = []
    combine, remind_teachers = plan.reminders.combine, plan.teachers.remind is not None
    for task in task_store.states(connection, cycle=plan.cycle):
        if task.milestone_id not in plan.milestones or task.state in FINISHED:
            continue
        decided = decide(task, timetable, reminded.get(task.key))
        report.count(decided)
        if remind_teachers and (found := teacher_task(decided, timetable)) is not None:
            teachers.append(found)
        if decided.events:
            changed.append((task, _fired(decided, now)))
        # most tasks send nothing: the notice is gathered only when a message needs it
        once = cache(partial(notice, connection, timetable, links, decided, counts))
        if combine:
            dues += task_dues(decided, once, known)
        else:
            messages += task_messages(decided, once, renderer, known)
        messages += bot_messages(decided, once, timetable.plan, known)
    if dues:
        messages = person_messages(dues, renderer, plan.timezone, known) + messages
    task_store.save_many(connection, changed, now, "tick")
    return messages


def _fired(decided: TaskTick, now: datetime) -> UnitTask:
    """The task's machine with the decided events fired: it refuses any the machine does not allow."""
    task = decided.task.machine()
    for event in decided.events:
        task.fire(event, now)
    return task


def _queue(
    connection: Connection,
    report: TickReport,
    messages: list[dict[str, Any]],
    now: datetime,
    domain: str,
    cycle: int,
) -> None:
    """Queue the messages whose key is new in the cycle (the last of any repeated key), counting them."""
    known = outbox_store.existing_keys(connection, [m["key"] for m in messages], cycle)
    fresh = list({m["key"]: m for m in messages if m["key"] not in known}.values())
    for message in fresh:
        report.queued[message["kind"]] += 1
        report.template_failures += message.get("status") == "failed"
    outbox_store.queue(connection, fresh, now, domain, cycle, counted=False)
