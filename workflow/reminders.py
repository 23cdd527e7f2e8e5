"""When reminders and escalations are due: the slots of a task, as pure functions of `now`.

A task's reminder slots are the plan's offsets before its due date (in working days
when `working_days_only`, moved to the previous working day if they land on a day
off) at the plan's time of day, then — when `repeat_while_overdue` — every working day
after the due date. Slots before the task's window opens are dropped.

The catch-up rule: at any moment only the *latest* slot that has come is sent (once);
earlier slots that were missed, e.g. while the engine was down, are skipped. A missed
"3 days before" is therefore not sent once "1 day before" has come. And, from what was
already sent for the task (`Reminded`): never a slot older than one already sent (a clock
stepped back after a skipped day), at most one reminder a day (a catch-up tick at 08:00
that sent yesterday's missed slot is that day's reminder), and never a slot a tick has
seen and passed over (09:00's slot is then not sent at midnight either).

Escalation level i is reached at the reminder time of day on the working day that is
`after` working days past the due date. Every level reached and not yet told is told
once, so after downtime each level's people still hear of it, in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pendulum

from cuiban.workflow.calendar import WorkingCalendar
from cuiban.workflow.plan.schema import EscalationStep, ReminderPolicy


@dataclass(frozen=True)
class Slot:
    name: str
    """Stable within a task: `before-3`, `before-0`, `overdue-2016-12-16`."""
    at: pendulum.DateTime


def at_local(day: date, clock: time, tz: str) -> pendulum.DateTime:
    return pendulum.datetime(day.year, day.month, day.day, clock.hour, clock.minute, tz=tz)


def reminder_slots(
    policy: ReminderPolicy,
    due_day: date,
    opens: datetime,
    calendar: WorkingCalendar,
    tz: str,
    until: date,
) -> list[Slot]:
    """Every reminder slot of a task due on `due_day`, up to the day `until`, in time order."""
    slots: list[Slot] = []
    for offset in sorted(set(policy.before), reverse=True):
        if policy.working_days_only:
            day = calendar.previous_working_day(calendar.add_working_days(due_day, -offset))
        else:
            day = due_day - timedelta(days=offset)
        moment = at_local(day, policy.at, tz)
        if moment >= opens:
            slots.append(Slot(f"before-{offset}", moment))
    if policy.repeat_while_overdue:
        day = due_day + timedelta(days=1)
        while day <= until:
            if not policy.working_days_only or calendar.is_working_day(day):
                slots.append(Slot(f"overdue-{day.isoformat()}", at_local(day, policy.at, tz)))
            day += timedelta(days=1)
    return sorted(slots, key=lambda s: s.at)


def latest_slot(slots: list[Slot], now: datetime) -> Slot | None:
    """The most recent slot that has come: the only one worth sending now."""
    come = [slot for slot in slots if slot.at <= now]
    return come[-1] if come else None


@dataclass(frozen=True)
class Reminded:
    """A task's reminders so far: the newest slot one was sent for, and when the last was decided."""

    last_slot_at: datetime
    last_decided_at: datetime


def slot_to_send(
    latest: Slot | None, now: datetime, reminded: Reminded | None, seen_until: datetime | None, tz: str
) -> Slot | None:
    """The slot to remind about now, given the latest slot that has come, what was sent before, and
    the latest moment a tick had decided at before this one (`seen_until`).

    - never a slot older than the last one sent (a clock stepped back);
    - the same slot again is allowed (a recipient added since gets it; the outbox key keeps
      everyone else from getting it twice);
    - at most one reminder a day: a catch-up at 08:00 that sent yesterday's missed slot is
      today's reminder, and today's 09:00 slot is passed over;
    - a slot a tick has seen and passed over is not sent later (no reminder drifting to the
      next midnight); one no tick has seen — the engine was down, or ticks only run before the
      reminder time — is sent, late, by the next tick.
    """
    if latest is None or reminded is None:
        return latest
    if latest.at < reminded.last_slot_at:
        return None
    if latest.at == reminded.last_slot_at:
        return latest
    today = pendulum.instance(now).in_timezone(tz).date()
    if pendulum.instance(reminded.last_decided_at).in_timezone(tz).date() == today:
        return None
    if seen_until is not None and seen_until >= latest.at:
        return None
    return latest


def escalation_moments(
    ladder: list[EscalationStep], due_day: date, policy: ReminderPolicy, calendar: WorkingCalendar, tz: str
) -> list[pendulum.DateTime]:
    """When each level of the ladder is reached (level 1 first)."""
    return [at_local(calendar.add_working_days(due_day, step.after), policy.at, tz) for step in ladder]


def levels_reached(moments: list[pendulum.DateTime], now: datetime) -> int:
    return sum(1 for moment in moments if moment <= now)
