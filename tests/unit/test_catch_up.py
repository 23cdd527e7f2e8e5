"""The catch-up rule as a table: (what was sent before, now) → the slot reminded about now.

A task due Thursday 2016-12-15 with reminders 3, 1, 0 working days before at 09:00 and
every working day while overdue (the minimal plan's policy).
"""

from __future__ import annotations

from datetime import time

import pendulum
import pytest

from cuiban.workflow.plan.schema import ReminderPolicy
from cuiban.workflow.reminders import Reminded, latest_slot, reminder_slots, slot_to_send

TZ = "Asia/Shanghai"
POLICY = ReminderPolicy(before=[3, 1, 0], at=time(9, 0), working_days_only=True, repeat_while_overdue=True)


def at(day: str, clock: str) -> pendulum.DateTime:
    return pendulum.parse(f"2016-{day}T{clock}:00", tz=TZ)


def sent(slot_day: str, decided: str) -> Reminded:
    """The last reminder: for the slot at 09:00 on `slot_day`, decided at `decided` ("12-16 08:00")."""
    day, clock = decided.split()
    return Reminded(at(slot_day, "09:00"), at(day, clock))


CASES = [
    # (last reminder sent, latest tick before this one, now) → the slot reminded about now
    (None, None, "12-12 09:30", "before-3"),
    (None, None, "12-16 08:00", "before-0"),  # first tick ever, before today's slot: the latest that came
    (sent("12-14", "12-14 09:30"), "12-14 09:30", "12-16 08:00", "before-0"),  # down across 12-15 09:00
    (sent("12-15", "12-16 08:00"), "12-16 08:00", "12-16 09:30", None),  # reminded today already
    (sent("12-15", "12-16 08:00"), "12-16 23:55", "12-17 00:00", None),  # 12-16 seen: no midnight drift
    (sent("12-15", "12-16 08:00"), "12-18 23:55", "12-19 00:05", None),  # nor after the weekend
    (sent("12-15", "12-16 08:00"), "12-19 08:55", "12-19 09:30", "overdue-2016-12-19"),  # on time again
    (sent("12-14", "12-14 09:30"), "12-14 09:30", "12-16 09:30", "overdue-2016-12-16"),  # skipped day: latest
    (sent("12-16", "12-16 09:30"), "12-16 09:30", "12-15 09:30", None),  # clock stepped back: no older slot
    (sent("12-16", "12-16 09:30"), "12-16 09:30", "12-16 17:00", "overdue-2016-12-16"),  # same slot: new
    (sent("12-15", "12-16 08:00"), "12-16 08:00", "12-17 08:00", "overdue-2016-12-16"),  # ticks only at 08:00
    (sent("12-16", "12-17 08:00"), "12-18 08:00", "12-20 08:00", "overdue-2016-12-19"),  # … one a day, late
    (sent("12-12", "12-12 09:30"), "12-12 09:30", "12-12 08:59", None),  # nothing has come
]


@pytest.mark.parametrize(("history", "seen", "now", "expected"), CASES)
def test_slot_to_send(
    history: Reminded | None, seen: str | None, now: str, expected: str | None, cn_calendar
) -> None:
    moment = at(*now.split())
    due = at("12-15", "23:59").date()
    slots = reminder_slots(POLICY, due, at("12-02", "00:00"), cn_calendar, TZ, moment.date())
    seen_until = at(*seen.split()) if seen else None
    slot = slot_to_send(latest_slot(slots, moment), moment, history, seen_until, TZ)
    assert (slot.name if slot else None) == expected


@pytest.fixture
def cn_calendar(minimal_plan):
    return minimal_plan[1]
