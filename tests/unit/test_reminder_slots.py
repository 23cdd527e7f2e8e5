"""Which reminder slot is due at `now`, as a table (the latest slot that has come: the only one
worth sending; the catch-up rule then says whether to send it, see test_catch_up_table.py).

The minimal plan's policy: 3, 1 and 0 working days before the due day at 09:00, and every
working day while overdue. Working days follow the official calendar, 调休 included.
"""

from __future__ import annotations

from datetime import time

import pendulum
import pytest

from cuiban.planfile.holidays import official_cn_calendar
from cuiban.workflow.plan.schema import ReminderPolicy
from cuiban.workflow.reminders import latest_slot, reminder_slots

TZ = "Asia/Shanghai"
CN = official_cn_calendar()
WORKING = ReminderPolicy(before=[3, 1, 0], at=time(9, 0), working_days_only=True, repeat_while_overdue=True)
CALENDAR_DAYS = ReminderPolicy(
    before=[2, 0], at=time(9, 0), working_days_only=False, repeat_while_overdue=False
)
TASKS = {
    # name: (policy, due day, window opens)
    "dec15": (WORKING, "12-15", "12-02"),
    "dec15-late-window": (WORKING, "12-15", "12-14"),
    "oct10": (WORKING, "10-10", "09-20"),
    "oct07-a-holiday": (WORKING, "10-07", "09-20"),
    "sep19": (WORKING, "09-19", "09-01"),
    "dec19-calendar-days": (CALENDAR_DAYS, "12-19", "12-02"),
    "oct03-calendar-days": (CALENDAR_DAYS, "10-03", "09-20"),
}
row = pytest.param


def at(text: str) -> pendulum.DateTime:
    return pendulum.parse(f"2016-{text.replace(' ', 'T')}:00", tz=TZ)


ROWS = [
    # (task, now, expected slot, when that slot came)
    row("dec15", "12-09 09:00", None, None, id="before-the-first-slot"),
    row("dec15", "12-12 08:59", None, None, id="a-minute-before-the-first-slot"),
    row("dec15", "12-12 09:00", "before-3", "12-12 09:00", id="exactly-at-the-slot"),
    row("dec15", "12-13 15:00", "before-3", "12-12 09:00", id="between-slots-the-latest-stays"),
    row("dec15", "12-14 09:00", "before-1", "12-14 09:00", id="one-working-day-before"),
    row("dec15", "12-15 09:00", "before-0", "12-15 09:00", id="on-the-due-day"),
    row("dec15", "12-15 23:59", "before-0", "12-15 09:00", id="due-day-evening"),
    row("dec15", "12-16 09:00", "overdue-2016-12-16", "12-16 09:00", id="first-day-overdue"),
    row("dec15", "12-17 10:00", "overdue-2016-12-16", "12-16 09:00", id="no-slot-on-a-saturday"),
    row("dec15", "12-19 09:00", "overdue-2016-12-19", "12-19 09:00", id="overdue-on-monday"),
    row("dec15-late-window", "12-13 10:00", None, None, id="window-not-open-yet"),
    row("dec15-late-window", "12-14 09:30", "before-1", "12-14 09:00", id="slots-before-the-window-dropped"),
    row("oct10", "09-30 09:00", "before-3", "09-30 09:00", id="three-before-is-across-national-day"),
    row("oct10", "10-05 12:00", "before-3", "09-30 09:00", id="nothing-during-national-day"),
    row("oct10", "10-08 09:00", "before-3", "09-30 09:00", id="make-up-saturday-is-two-before"),
    row("oct10", "10-09 09:00", "before-1", "10-09 09:00", id="one-before-on-the-make-up-sunday"),
    row("oct10", "10-10 09:00", "before-0", "10-10 09:00", id="due-monday-after-national-day"),
    row("oct10", "10-11 09:00", "overdue-2016-10-11", "10-11 09:00", id="overdue-after-it"),
    row("oct07-a-holiday", "09-30 09:00", "before-0", "09-30 09:00", id="due-on-a-holiday-moves-back"),
    row("oct07-a-holiday", "10-08 09:00", "overdue-2016-10-08", "10-08 09:00", id="overdue-on-make-up-day"),
    row("sep19", "09-16 09:00", "before-3", "09-13 09:00", id="mid-autumn-skipped"),
    row("sep19", "09-18 09:00", "before-1", "09-18 09:00", id="mid-autumn-make-up-sunday"),
    row("dec19-calendar-days", "12-17 09:00", "before-2", "12-17 09:00", id="calendar-days-land-on-saturday"),
    row("dec19-calendar-days", "12-20 09:00", "before-0", "12-19 09:00", id="no-repeat-after-the-due-day"),
    row("oct03-calendar-days", "10-01 09:00", "before-2", "10-01 09:00", id="calendar-days-ignore-holidays"),
]


@pytest.mark.parametrize(("task", "now", "name", "came"), ROWS)
def test_latest_slot(task: str, now: str, name: str | None, came: str | None) -> None:
    policy, due, opens = TASKS[task]
    moment = at(now)
    slots = reminder_slots(policy, at(f"{due} 00:00").date(), at(f"{opens} 00:00"), CN, TZ, moment.date())
    slot = latest_slot(slots, moment)
    assert (slot.name if slot else None) == name
    assert (slot.at if slot else None) == (at(came) if came else None)
