"""When the teachers themselves are reminded (`teachers.remind`, opt-in): pure rules, no I/O.

A department's teacher milestone (derived, with `teachers_at_least`) reminds each of its
unfinished teachers on the working days `before` its due day, at the milestone's reminder time,
with the same calendar rules as the office's reminders (`workflow.reminders.reminder_slots`).
Only today's slot counts: a teacher reminder missed while the engine was down is not sent the next
day (the next `before` day, or the office's reminders, take over), and the outbox key
`teacher|staff_id|day` allows one mail per teacher per day whatever milestones are due.
Teachers in `states` are reminded, less any state that has reached the milestone's: a teacher
who has submitted hears no more of it.
"""

from __future__ import annotations

from datetime import date, datetime

import pendulum

from cuiban.workflow.calendar import WorkingCalendar
from cuiban.workflow.plan.schema import Milestone, ReminderPolicy, TeacherReminders
from cuiban.workflow.reminders import Slot, reminder_slots
from cuiban.workflow.teacher_states import OUT_OF_SCOPE, states_at_least


def reminds_teachers(milestone: Milestone, unit_kind: str) -> bool:
    """Whether the milestone's task for a unit of this kind is one whose teachers are reminded."""
    return (
        milestone.completion == "derived" and bool(milestone.teachers_at_least) and unit_kind == "department"
    )


def states_due(remind: TeacherReminders, milestone: Milestone) -> list[str]:
    """The states whose teachers are reminded of the milestone: the plan's, less those that have
    reached its state and those out of scope, in the plan's order."""
    reached = set(states_at_least(milestone.teachers_at_least or "pending"))
    return [s for s in dict.fromkeys(remind.states) if s not in reached and s not in OUT_OF_SCOPE]


def teacher_slot(
    remind: TeacherReminders,
    policy: ReminderPolicy,
    due_day: date,
    opens: datetime,
    calendar: WorkingCalendar,
    tz: str,
    now: datetime,
) -> Slot | None:
    """Today's teacher reminder slot of a task due on `due_day`, if there is one and it has come by
    `now` (the milestone's reminder time on a `before` day; none before its window opens)."""
    today = pendulum.instance(now).in_timezone(tz).date()
    own = policy.model_copy(update={"before": remind.before, "repeat_while_overdue": False})
    for slot in reminder_slots(own, due_day, opens, calendar, tz, today):
        if slot.at.in_timezone(tz).date() == today and slot.at <= now:
            return slot
    return None
