"""`cuiban plan diff`: what an edit of the plan will do to the mail of the coming days, before it is saved.

Without a database the campaign is taken as fresh: every task open, and everything the old plan
had to send before `now` sent on time. With one, the next tick's view of it is read (tasks'
states and levels, derived completion from the teachers' states, what the outbox holds, the
latest tick) in a transaction that is rolled back: nothing is written. The forecast and the
comparison are `workflow.plan_diff`, running the tick's own rules; the digest's timing and the
outbox keys are the tick's too (`schedules`), handed in.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine

from cuiban.models import outbox_store, task_store, teacher_store, tick_marks
from cuiban.models.unit_of_work import transaction
from cuiban.schedules.digest_mail import digest_due
from cuiban.schedules.task_mail import message_key
from cuiban.schedules.tick import KEY_WINDOW_DAYS
from cuiban.workflow.calendar import WorkingCalendar
from cuiban.workflow.plan.schema import Plan
from cuiban.workflow.plan_diff import PlanDiff, Side, Situation, before, plan_diff, under
from cuiban.workflow.recipients import Recipient
from cuiban.workflow.reminders import Reminded

__all__ = ["diff_plans"]


def diff_plans(
    old: tuple[Plan, WorkingCalendar],
    new: tuple[Plan, WorkingCalendar],
    now: datetime,
    days: int,
    engine: Engine | None = None,
) -> PlanDiff:
    """The messages from `now` to `days` days later that going from `old` to `new` adds, moves or
    cancels, and the unfinished tasks whose deadline or recipients change."""
    until = now + timedelta(days=days)
    if engine is None:
        found = before(*old, now, digest_due)
        sides = (Side(*plan, under(*plan, found, now)) for plan in (old, new))
    else:
        with transaction(engine, dry_run=True) as connection:  # rolled back: nothing written
            found = _found(connection, now, old[0].cycle)
            sides = tuple(_side(connection, plan, found, now) for plan in (old, new))
    return plan_diff(*sides, now, until, digest_due)


def _side(
    connection: Connection, plan: tuple[Plan, WorkingCalendar], found: Situation, now: datetime
) -> Side:
    """What the next tick under `plan` finds in the database: its tasks, derived completion refreshed."""
    completed = task_store.completion_dates(connection, plan[0])
    counts = teacher_store.unit_state_counts(connection)
    return Side(*plan, under(*plan, found, now, completed, counts))


def _found(connection: Connection, now: datetime, cycle: int) -> Situation:
    """The tasks as stored, the reminders sent, the latest tick and what the outbox holds — the old
    plan's cycle's only (last year's tasks and mail say nothing about this year's)."""
    since = now - timedelta(days=KEY_WINDOW_DAYS)
    tasks = {task.key: task for task in task_store.states(connection, cycle=cycle)}
    sent_before = outbox_store.reminded(connection, since, cycle)
    reminded = {key: Reminded(*when) for key, when in sent_before.items()}
    keys = outbox_store.keys_since(connection, since, cycle)
    digest_rows = outbox_store.rows(connection, kind="digest", cycle=cycle)
    digests = {(row["recipient"], row["slot"]) for row in digest_rows}

    def sent(kind: str, task_key: str, email: str, slot: str) -> bool:
        if kind == "digest":
            return (email, slot) in digests
        return message_key(kind, task_key, Recipient("", "", email), slot) in keys

    return Situation(tasks, reminded, tick_marks.seen_until(connection, cycle), sent=sent)
