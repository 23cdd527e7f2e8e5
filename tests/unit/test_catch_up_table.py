"""The catch-up rule as a table over `slot_to_send(latest, now, reminded, seen_until, tz)`:
never twice a day, never a slot older than one sent, a slot a tick saw and passed over never
sent later, a slot no tick saw sent late; and no reminders at all after the campaign's
reminders end (`remind_until`, else its end).

Slots and history are written out directly, so each row reads on its own; times are
Asia/Shanghai unless they say otherwise.
"""

from __future__ import annotations

from datetime import date

import pendulum
import pytest

from cuiban.workflow.reminders import Reminded, Slot, slot_to_send
from cuiban.workflow.tick_decisions import Timetable

TZ = "Asia/Shanghai"
row = pytest.param


def at(text: str) -> pendulum.DateTime:
    """`15 09:00` is 2016-12-15 09:00 Shanghai time, `15 09:00Z` the same in UTC; a date may be
    written whole (`2017-01-06 23:00`) or as month and day (`12-30 23:59`)."""
    tz = "UTC" if text.endswith("Z") else TZ
    day, clock = text.rstrip("Z").split()
    day = {1: f"2016-12-{day}", 2: f"2016-{day}", 3: day}[len(day.split("-"))]
    return pendulum.parse(f"{day}T{clock}:00", tz=tz)


def slot(when: str) -> Slot:
    return Slot(f"slot-{when}", at(when))


def sent(slot_at: str, decided: str) -> Reminded:
    """The task's last reminder was for the slot at `slot_at`, decided at `decided`."""
    return Reminded(at(slot_at), at(decided))


ROWS = [
    # December 2016: (latest slot that has come, now, last reminder sent, latest moment a tick saw)
    row(None, "12 08:59", None, None, False, id="nothing-has-come"),
    row("12 09:00", "12 09:30", None, None, True, id="first-reminder"),
    row("12 09:00", "16 08:00", None, "15 23:00", True, id="never-reminded-gets-the-latest"),
    row("14 09:00", "14 17:00", sent("14 09:00", "14 09:30"), "14 09:30", True, id="same-slot-again"),
    row("14 09:00", "15 09:30", sent("15 09:00", "15 09:05"), "15 09:05", False, id="never-older-than-sent"),
    row("15 09:00", "15 09:30", sent("14 09:00", "15 08:00"), "15 08:00", False, id="never-twice-a-day"),
    row("15 09:00", "15 09:30", sent("14 09:00", "14 09:30"), "15 08:55", True, id="on-time"),
    row("15 09:00", "16 08:00", sent("14 09:00", "14 09:30"), "14 09:30", True, id="unseen-slot-sent-late"),
    row("15 09:00", "16 08:00", sent("14 09:00", "14 09:30"), None, True, id="no-tick-seen-before"),
    row("15 09:00", "16 00:00", sent("14 09:00", "15 08:00"), "15 23:55", False, id="passed-over-never-sent"),
    row("15 09:00", "16 09:30", sent("14 09:00", "14 09:30"), "15 09:00", False, id="seen-at-its-minute"),
    row("16 09:00", "17 00:00", sent("15 09:00", "16 08:00"), "16 23:55", False, id="no-midnight-drift"),
    row("16 09:00", "19 00:05", sent("15 09:00", "16 08:00"), "18 23:55", False, id="nor-after-a-weekend"),
    row("19 09:00", "19 09:30", sent("15 09:00", "16 08:00"), "19 08:55", True, id="on-time-again"),
    row("16 09:00", "16 09:30", sent("15 09:00", "15 23:30Z"), "16 08:00", False, id="the-day-is-local"),
    row("16 06:00", "15 23:00Z", sent("15 09:00", "15 23:30"), "15 23:30", True, id="a-new-local-day"),
]


@pytest.mark.parametrize(("latest", "now", "reminded", "seen", "expected"), ROWS)
def test_slot_to_send(
    latest: str | None, now: str, reminded: Reminded | None, seen: str | None, expected: bool
) -> None:
    came = slot(latest) if latest else None
    chosen = slot_to_send(came, at(now), reminded, at(seen) if seen else None, TZ)
    assert chosen == (came if expected else None)


END = [
    # (remind_until, now) → still reminding? The minimal plan's campaign ends 2016-12-30.
    row(None, "12-30 23:59", True, id="last-campaign-day"),
    row(None, "12-31 00:00", False, id="after-the-campaign"),
    row(date(2017, 1, 6), "12-31 09:00", True, id="remind-until-goes-beyond-the-end"),
    row(date(2017, 1, 6), "2017-01-06 23:00", True, id="last-day-of-remind-until"),
    row(date(2017, 1, 6), "2017-01-07 00:00", False, id="after-remind-until"),
    row(date(2016, 12, 20), "12-25 09:00", True, id="remind-until-before-the-end-is-the-end"),
    row(None, "12-30 16:30Z", False, id="the-day-is-the-plans-not-utcs"),
]


@pytest.mark.parametrize(("remind_until", "now", "expected"), END)
def test_reminders_end(minimal_plan, remind_until: date | None, now: str, expected: bool) -> None:
    plan, calendar = minimal_plan
    plan = plan.model_copy(
        update={"campaign": plan.campaign.model_copy(update={"remind_until": remind_until})}
    )
    assert Timetable(plan, calendar, at(now)).reminding is expected
