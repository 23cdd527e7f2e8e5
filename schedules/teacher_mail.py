"""The teachers' own reminders (`teachers.remind`, opt-in): a short mail to each unfinished teacher of
a department whose teacher milestone is due in a few working days, saying what to do in the
national system and by when; their collector in copy when the plan says so.

Names and staff IDs only (no ID-card or phone numbers). One mail per teacher per day: the key is
`teacher|staff_id|YYYY-MM-DD`, whatever milestones are due. A department's teachers are read and
rendered a chunk at a time (`CHUNK`), so a department of thousands never sits in memory whole.
Off (no `teachers.remind`), nothing here runs and no teacher is read.

The outbox has one recipient per row: the collector's copy is named in the row's `data`
(`{"cc": [address]}`), for the sender to put in the message's Cc header.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from cuiban.models import teacher_store
from cuiban.notifications.labels import state_label
from cuiban.notifications.render import Renderer
from cuiban.schedules.task_mail import Message, render_or_fail
from cuiban.workflow.reminders import Slot
from cuiban.workflow.tasks import opens_at
from cuiban.workflow.teacher_reminders import reminds_teachers, states_due, teacher_slot
from cuiban.workflow.tick_decisions import TaskTick, Timetable

CHUNK = 1000
"""Teachers read and rendered at a time."""


@dataclass(frozen=True)
class TeacherTask:
    """A department's teacher milestone whose teachers are reminded today."""

    decided: TaskTick
    slot: Slot
    states: tuple[str, ...]


def teacher_task(decided: TaskTick, timetable: Timetable) -> TeacherTask | None:
    """The task, if its teachers are reminded at this tick (option on, a `before` day, time come)."""
    plan = timetable.plan
    remind = plan.teachers.remind
    if remind is None or decided.due is None or not timetable.reminding:
        return None
    task = decided.task
    milestone, unit = plan.milestones[task.milestone_id], plan.units[task.unit_id]
    if not reminds_teachers(milestone, unit.kind):
        return None
    states = states_due(remind, milestone)
    if not states:
        return None
    opens = opens_at(plan, task.milestone_id, task.occurrence)
    policy = plan.reminder_policy(task.milestone_id)
    slot = teacher_slot(
        remind, policy, decided.due.date(), opens, timetable.calendar, plan.timezone, timetable.now
    )
    return None if slot is None else TeacherTask(decided, slot, tuple(states))


def teacher_messages(
    connection: Connection,
    timetable: Timetable,
    renderer: Renderer,
    tasks: list[TeacherTask],
    chunk: int = CHUNK,
) -> Iterator[list[Message]]:
    """Each task's teachers' mails, `chunk` at a time (in staff ID order within a department)."""
    plan = timetable.plan
    remind = plan.teachers.remind
    if remind is None:
        return
    for found in tasks:
        task = found.decided.task
        base = _task_context(found, timetable)
        day = found.slot.at.in_timezone(plan.timezone).date().isoformat()
        copy = [r.email for r in timetable.people(["collector"], task)] if remind.cc_collector else []
        after = ""
        while True:
            rows = teacher_store.to_remind(
                connection, task.unit_id, found.states, after, chunk, unsent=(plan.cycle, day)
            )
            yield [_message(row, base, found, day, copy, renderer, plan.language) for row in rows]
            if len(rows) < chunk:
                break
            after = rows[-1]["staff_id"]


def _task_context(found: TeacherTask, timetable: Timetable) -> dict[str, Any]:
    plan, decided = timetable.plan, found.decided
    assert decided.due is not None
    milestone = plan.milestones[decided.task.milestone_id]
    return {
        "plan": {"title": plan.title, "institution": plan.institution},
        "task": {
            "title": milestone.title,
            "next_step": milestone.next_step or milestone.title,
            "unit_name": plan.units[decided.task.unit_id].name,
            "due": decided.due.format("YYYY-MM-DD HH:mm"),
            "due_date": decided.due.date().isoformat(),
            "working_days_left": max(timetable.working_days_left(decided.due.date()), 0),
        },
    }


def _message(
    row: dict[str, Any],
    base: dict[str, Any],
    found: TeacherTask,
    day: str,
    copy: list[str],
    renderer: Renderer,
    language: str,
) -> Message:
    teacher = {"name": row["name"], "staff_id": row["staff_id"], "state": state_label(language, row["state"])}
    context = {**base, "recipient": {"name": row["name"]}, "teacher": teacher}
    rendered, failure = render_or_fail(renderer, "teacher", context)
    task = found.decided.task
    message: Message = {
        "key": f"teacher|{row['staff_id']}|{day}",
        "kind": "teacher",
        "task_key": task.key,
        "unit_id": task.unit_id,
        "recipient": row["email"],
        "recipient_name": row["name"],
        "slot": day,
        "subject": rendered.subject,
        "body_text": rendered.text,
        "body_html": rendered.html,
        "due_at": found.slot.at,
    }
    if copy:
        message["data"] = {"cc": copy}
    if failure is not None:
        message.update(status="failed", last_error=f"template problem: {failure}")
    return message
