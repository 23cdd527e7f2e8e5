"""What one tick does to one task at `now`: whether it opens or goes overdue, which reminder slot
is due and who hears of it, which escalation levels are due and to whom.

Pure: the task as the store loaded it, the reminders sent for it so far and the latest
moment a tick had seen come in; decisions come out, for `schedules/` to fire on the
task's machine, render and queue. The rules themselves (slots, the catch-up rule,
escalation moments) are `workflow.reminders`; this module applies them to a task.
A `Timetable` works out what is the same for every unit of a milestone (slots, moments,
responsible units) once per tick: a fan-out milestone has a task for every department.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import pendulum

from cuiban.workflow.calendar import WorkingCalendar
from cuiban.workflow.plan.schema import Plan
from cuiban.workflow.recipients import Recipient, resolve
from cuiban.workflow.reminders import (
    Reminded,
    Slot,
    escalation_moments,
    latest_slot,
    levels_reached,
    reminder_slots,
    slot_to_send,
)
from cuiban.workflow.tasks import TaskState, opens_at, responsible_units


@dataclass(frozen=True)
class Reminder:
    """A reminder due now for one task: its slot, whether it comes on a later day than the slot
    (a catch-up after downtime), and the people it goes to. Its unit is the task's."""

    slot: Slot
    late: bool
    to: tuple[Recipient, ...]


@dataclass(frozen=True)
class Escalation:
    """An escalation level reached and not yet told: when it was reached and whom it tells."""

    level: int
    at: pendulum.DateTime
    to: tuple[Recipient, ...]


@dataclass(frozen=True)
class TaskTick:
    """Everything one tick does to one task."""

    task: TaskState
    events: tuple[str, ...]
    """The task machine's events to fire, in order (open_window, mark_overdue, escalate …)."""
    state: str
    """The task's state once they have fired."""
    due: pendulum.DateTime | None
    reminder: Reminder | None = None
    escalations: tuple[Escalation, ...] = ()

    def fired(self, event: str) -> bool:
        return event in self.events


class Timetable:
    """What every task of one tick shares: `now`, the memory of past ticks, and the schedules of
    each milestone worked out once (they are the same for each of its units)."""

    def __init__(
        self, plan: Plan, calendar: WorkingCalendar, now: datetime, seen_until: datetime | None = None
    ) -> None:
        self.plan, self.calendar, self.now, self.seen_until = plan, calendar, now, seen_until
        self.today: date = pendulum.instance(now).in_timezone(plan.timezone).date()
        self.reminding = self.today <= plan.campaign.reminders_end
        """False after the campaign's reminders end: tasks still move, nobody is reminded or told."""
        self._slots: dict[tuple[str, date, datetime], Slot | None] = {}
        self._moments: dict[tuple[str, date], tuple[list[pendulum.DateTime], int]] = {}
        self._units: dict[str, list[str]] = {}
        self._left: dict[date, int] = {}

    def latest_slot(self, milestone_id: str, due_day: date, opens: datetime) -> Slot | None:
        """The latest reminder slot of the milestone's tasks due on `due_day` that has come."""
        key = (milestone_id, due_day, opens)
        if key not in self._slots:
            policy = self.plan.reminder_policy(milestone_id)
            tz = self.plan.timezone
            slots = reminder_slots(policy, due_day, opens, self.calendar, tz, self.today)
            self._slots[key] = latest_slot(slots, self.now)
        return self._slots[key]

    def escalation(self, milestone_id: str, due_day: date) -> tuple[list[pendulum.DateTime], int]:
        """When each level of the milestone's ladder is reached, and how many have been by now."""
        key = (milestone_id, due_day)
        if key not in self._moments:
            ladder = self.plan.escalation_ladder(milestone_id)
            policy = self.plan.reminder_policy(milestone_id)
            moments = escalation_moments(ladder, due_day, policy, self.calendar, self.plan.timezone)
            self._moments[key] = (moments, levels_reached(moments, self.now))
        return self._moments[key]

    def units(self, milestone_id: str) -> list[str]:
        """The milestone's responsible units (a fan-out lists every department)."""
        if milestone_id not in self._units:
            self._units[milestone_id] = responsible_units(self.plan, milestone_id)
        return self._units[milestone_id]

    def working_days_left(self, due_day: date) -> int:
        """Working days from today to `due_day` (negative once it has passed)."""
        if due_day not in self._left:
            self._left[due_day] = self.calendar.working_days_between(self.today, due_day)
        return self._left[due_day]

    def people(self, refs: list[str], task: TaskState) -> tuple[Recipient, ...]:
        return tuple(resolve(self.plan, refs, task.unit_id, self.units(task.milestone_id)))


def decide(task: TaskState, timetable: Timetable, reminded: Reminded | None = None) -> TaskTick:
    """What the tick at `timetable.now` does to `task`, given the reminders sent for it so far."""
    plan, now = timetable.plan, timetable.now
    opens = opens_at(plan, task.milestone_id, task.occurrence)
    due = pendulum.instance(task.due).in_timezone(plan.timezone) if task.due else None
    events: list[str] = []
    state = task.state
    if state == "upcoming" and now >= opens:
        events.append("open_window")
        state = "open"
    if due is not None and now > due and state in ("upcoming", "open"):
        events.append("mark_overdue")
        state = "overdue"
    if due is None or not timetable.reminding:
        return TaskTick(task, tuple(events), state, due)
    reminder = _reminder(task, timetable, opens, due, reminded)
    escalations = _escalations(task, timetable, due) if state == "overdue" else ()
    events += ["escalate"] * len(escalations)
    return TaskTick(task, tuple(events), state, due, reminder, escalations)


def _reminder(
    task: TaskState, timetable: Timetable, opens: datetime, due: pendulum.DateTime, reminded: Reminded | None
) -> Reminder | None:
    latest = timetable.latest_slot(task.milestone_id, due.date(), opens)
    tz = timetable.plan.timezone
    slot = slot_to_send(latest, timetable.now, reminded, timetable.seen_until, tz)
    if slot is None or timetable.now < opens:
        return None
    late = slot.at.in_timezone(tz).date() < timetable.today
    owners = timetable.plan.milestones[task.milestone_id].owners
    return Reminder(slot, late, timetable.people(owners, task))


def _escalations(task: TaskState, timetable: Timetable, due: pendulum.DateTime) -> tuple[Escalation, ...]:
    """Every level reached and not yet told, lowest first: after downtime each still hears of it."""
    moments, reached = timetable.escalation(task.milestone_id, due.date())
    ladder = timetable.plan.escalation_ladder(task.milestone_id)
    return tuple(
        Escalation(level, moments[level - 1], timetable.people(ladder[level - 1].to, task))
        for level in range(task.escalation_level + 1, reached + 1)
    )
