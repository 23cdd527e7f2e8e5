"""One tick: load what is due at `now`, let the domain decide, render and queue it in the outbox.

Idempotent: task transitions only happen once (a task opens once, each escalation
level is raised once), and every message has a unique outbox key, so a tick run
twice at the same `now` — or later the same day — queues nothing new.

In short transactions: at a million teachers a tick renders 16,000 messages (about 20 s), and
one transaction would hold SQLite's write lock, and every other writer, that long. So the tick
reads and renders outside any write transaction, and writes in short ones, each under the tick
lock (`tick_writes`):
 1. the plan's tasks created and derived tasks refreshed, the plan's cycle checked (the lock is
    held for that work only when a read first found some: a first tick, an edited plan);
 2. the messages, `chunk` at a time, a person's combined mail never split: each transaction queues
    those whose keys are new;
 3. the tasks' transitions (opened, overdue, escalated), after their messages, `chunk` at a time;
 4. the teachers' own reminders, `chunk` at a time;
 5. the digest, which so sees the tick's decisions, with the mark of how far ticks have decided.
A tick stopped between two of them loses and duplicates nothing: the next one decides again from
the same tasks and the same mark, finds the messages queued already known, and queues exactly what
is missing; an escalation level is recorded only after its messages are queued.

The decisions are `workflow.tick_decisions` (and `workflow.completion` for derived
tasks); what a message says is `task_notice`, how it is rendered `task_mail` and
`digest_mail`. This module only loads, hands over and saves.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, partial
from typing import Any

from sqlalchemy import Connection, Engine

from cuiban.models import outbox_store, task_store, teacher_store
from cuiban.notifications.render import Renderer
from cuiban.schedules.bot_mail import bot_messages
from cuiban.schedules.combined_mail import person_makers
from cuiban.schedules.completion import pending_changes
from cuiban.schedules.digest_mail import digests
from cuiban.schedules.task_mail import Message, task_dues, task_messages
from cuiban.schedules.task_notice import notice
from cuiban.schedules.teacher_mail import TeacherTask, teacher_messages, teacher_task
from cuiban.schedules.tick_writes import CHUNK, TickReport, Writer
from cuiban.workflow.calendar import WorkingCalendar
from cuiban.workflow.completion import Counts
from cuiban.workflow.links import NO_LINKS, Links
from cuiban.workflow.plan.schema import Plan
from cuiban.workflow.reminders import Reminded
from cuiban.workflow.task_machine import FINISHED, UnitTask
from cuiban.workflow.tasks import TaskState
from cuiban.workflow.tick_decisions import TaskTick, Timetable, decide

__all__ = ["CHUNK", "KEY_WINDOW_DAYS", "TickReport", "run_tick"]

KEY_WINDOW_DAYS = 60
"""Outbox keys older than this cannot come up again (slots are at most this far back)."""

Maker = Callable[[], list[Message]]
"""Messages not rendered yet: a person's mail, a task's messages, a task's bots'."""


@dataclass
class Decided:
    """What the tick decided, before anything of it is rendered or written."""

    makers: list[Maker]
    """In queue order: people's mails (or each task's own), then the bots'."""
    changed: list[tuple[TaskState, UnitTask, TaskTick]]
    teachers: list[TeacherTask]
    quiet: list[TaskTick]
    """Tasks decided with no event: counted in the report as they are."""


def run_tick(
    engine: Engine,
    plan: Plan,
    calendar: WorkingCalendar,
    renderer: Renderer,
    now: datetime,
    message_domain: str = "cuiban.local",
    links: Links = NO_LINKS,
    check: Callable[[Connection], Any] | None = None,
    chunk: int = CHUNK,
) -> TickReport:
    """`links`: where the web pages are, for the link each message carries (none by default);
    `check(connection)`: called first in the tick's first transaction (the service's refusal of a
    plan that is not the database's current cycle); `chunk`: messages (and tasks) per transaction.
    Everything the tick reads and writes is the plan's cycle's: last year's tasks and messages are
    neither counted nor sent again."""
    writer = Writer(engine, now, message_domain, plan.cycle)
    with _reading(engine) as reader:
        counts = teacher_store.unit_state_counts(reader)  # one scan per tick
        stale = not task_store.in_step(reader, plan, calendar) or bool(pending_changes(reader, plan, counts))
        counts, seen = writer.prepare(plan, calendar, check, counts, stale)
        timetable = Timetable(plan, calendar, now, seen)
        decided = _decide(reader, timetable, renderer, links, counts)
        _queue_in_chunks(writer, decided.makers, chunk)  # first: the digest lists failures
        writer.transitions(decided.changed, chunk)  # after their messages: never a level without its mail
        writer.report.count_all(decided.quiet)
        for messages in teacher_messages(reader, timetable, renderer, decided.teachers, chunk):
            writer.queue(messages)  # before the digest: it counts them
        writer.queue(digests(reader, plan, calendar, renderer, now, links), mark=True)
    return writer.report


def _queue_in_chunks(writer: Writer, makers: list[Maker], chunk: int) -> None:
    """Render and queue about `chunk` messages a transaction, a maker's together (a person's mail is
    whole in one); each maker let go once rendered, with the notices only it held."""
    pending = deque(makers)
    makers.clear()
    batch: list[Message] = []
    while pending:
        batch += pending.popleft()()
        if len(batch) >= chunk:
            writer.queue(batch)
            batch = []
    writer.queue(batch)


@contextmanager
def _reading(engine: Engine) -> Iterator[Connection]:
    """A connection for the tick's reads, each statement on its own (autocommit): it never holds a
    write lock, nor a transaction open on PostgreSQL while the tick renders."""
    with engine.connect() as connection:
        yield connection.execution_options(isolation_level="AUTOCOMMIT")


def _decide(
    reader: Connection, timetable: Timetable, renderer: Renderer, links: Links, counts: Counts
) -> Decided:
    """Every unfinished task decided (in task order), its messages made ready to render: with
    `reminders.combine` one mail per person (`combined_mail`), else one per task and person; the
    tasks whose teachers are reminded today listed (none unless `teachers.remind`)."""
    plan, now = timetable.plan, timetable.now
    since = now - timedelta(days=KEY_WINDOW_DAYS)
    known = outbox_store.keys_since(reader, since, plan.cycle)
    reminded: dict[str, Reminded] = {}
    if timetable.reminding:
        sent = outbox_store.reminded(reader, since, plan.cycle)
        reminded = {key: Reminded(*when) for key, when in sent.items()}
    found = Decided([], [], [], [])
    bots: list[Maker] = []
    dues = []
    combine, remind_teachers = plan.reminders.combine, plan.teachers.remind is not None
    for task in task_store.states(reader, cycle=plan.cycle):
        if task.milestone_id not in plan.milestones or task.state in FINISHED:
            continue
        decided = decide(task, timetable, reminded.get(task.key))
        if remind_teachers and (teachers := teacher_task(decided, timetable)) is not None:
            found.teachers.append(teachers)
        if decided.events:
            found.changed.append((task, _fired(decided, now), decided))
        else:
            found.quiet.append(decided)
        if decided.reminder is None and not decided.escalations:
            continue
        # the notice is gathered only when a message needs it, and once for all of them
        once = cache(partial(notice, reader, timetable, links, decided, counts))
        if combine:
            dues += task_dues(decided, once, known)
            bots.append(partial(bot_messages, decided, once, plan, known))
        else:
            found.makers.append(partial(_own_and_bots, decided, once, renderer, plan, known))
    if combine:
        found.makers = person_makers(dues, renderer, plan.timezone, known) + bots
    return found


def _own_and_bots(
    decided: TaskTick, once: Callable[[], Any], renderer: Renderer, plan: Plan, known: set[str]
) -> list[Message]:
    """A task's own reminder and escalations, then its bots' reminder (`reminders.combine: false`)."""
    return task_messages(decided, once, renderer, known) + bot_messages(decided, once, plan, known)


def _fired(decided: TaskTick, now: datetime) -> UnitTask:
    """The task's machine with the decided events fired: it refuses any the machine does not allow."""
    task = decided.task.machine()
    for event in decided.events:
        task.fire(event, now)
    return task
