"""What one tick does to one task, as a table over `decide`: the machine's events it fires, and
the reminder it sends (its slot, whether late, to whom). Escalations have their own table
(test_escalation_levels.py), the catch-up rule too (test_catch_up_table.py).

The minimal plan: `roster` (教师发展中心, owner coord) due 11-28; `filling` (every department,
its collector) opens 12-02, due 12-15; `audit` opens 12-15, due 12-19 (Monday). Reminders
3, 1, 0 working days before at 09:00, then daily while overdue; the campaign ends 12-30.
"""

from __future__ import annotations

import pendulum
import pytest

from cuiban.workflow.clock import end_of_day
from cuiban.workflow.reminders import Reminded
from cuiban.workflow.scope import scope_move
from cuiban.workflow.tasks import TaskState
from cuiban.workflow.tick_decisions import Timetable, decide

TZ = "Asia/Shanghai"
DUE = {"roster": "11-28", "filling": "12-15", "audit": "12-19"}
"""Each milestone's due day in the minimal plan."""
row = pytest.param


def at(text: str) -> pendulum.DateTime:
    return pendulum.parse(f"2016-{text.replace(' ', 'T')}:00", tz=TZ)


def sent(slot_at: str, decided: str) -> Reminded:
    return Reminded(at(slot_at), at(decided))


ROWS = [
    # (task, its state, now) → the events fired; the reminder: "slot → who", "" for none
    row("filling/dept_b", "upcoming", "12-01 10:00", "", "", id="before-its-window"),
    row("filling/dept_b", "upcoming", "12-02 00:00", "open_window", "", id="opens-at-midnight"),
    row("filling/dept_b", "open", "12-12 09:30", "", "before-3 → h_b", id="first-reminder"),
    row("filling/dept_a", "upcoming", "12-12 09:30", "open_window", "before-3 → c_a", id="opens-reminds"),
    row("filling/dept_b", "open", "12-15 23:59", "", "before-0 → h_b", id="due-day-evening"),
    row("filling/dept_b", "open", "12-16 00:00", "mark_overdue", "before-0 → h_b", id="overdue-at-0:00"),
    row(
        "filling/dept_b",
        "open",
        "12-16 09:30",
        "mark_overdue escalate",
        "overdue-2016-12-16 → h_b",
        id="overdue-day-after",
    ),
    row("filling/dept_b", "overdue", "12-31 09:30", "", "", id="after-the-campaign-nobody-is-told"),
    row("filling/dept_b", "open", "12-31 09:30", "mark_overdue", "", id="after-it-tasks-still-move"),
    row("audit/dept_a", "upcoming", "12-14 09:30", "", "", id="waits-for-its-window"),
    row("audit/dept_a", "upcoming", "12-15 09:30", "open_window", "", id="earlier-slots-dropped"),
    row("audit/dept_a", "open", "12-16 09:30", "", "before-1 → c_a", id="first-slot-in-the-window"),
    row("roster/tdc", "upcoming", "11-23 09:30", "open_window", "before-3 → coord", id="an-office-task"),
    row(
        "roster/tdc",
        "open",
        "11-29 09:30",
        "mark_overdue escalate",
        "overdue-2016-11-29 → coord",
        id="office-overdue",
    ),
]


@pytest.mark.parametrize(("key", "state", "now", "events", "reminder"), ROWS)
def test_decide(minimal_plan, key: str, state: str, now: str, events: str, reminder: str) -> None:
    decided = _decide(minimal_plan, key, DUE[key.split("/")[0]], state, at(now), None, None)
    assert " ".join(decided.events) == events
    found = decided.reminder
    assert (f"{found.slot.name} → {' '.join(r.person_id for r in found.to)}" if found else "") == reminder


def test_a_task_without_a_due_time_opens_and_is_not_reminded(minimal_plan) -> None:
    """A relative milestone's task before its anchor is done: no due time yet."""
    decided = _decide(minimal_plan, "filling/dept_b", None, "upcoming", at("12-12 09:30"), None, None)
    assert (decided.events, decided.reminder, decided.escalations) == (("open_window",), None, ())


HISTORIES = {
    # name: (the task's last reminder, the latest moment a tick saw)
    "reminded-12-16-at-09:30": (sent("12-16 09:00", "12-16 09:30"), "12-16 09:30"),
    "reminded-12-12-then-down": (sent("12-12 09:00", "12-12 09:30"), "12-12 09:30"),
    "caught-up-12-15-at-08:00": (sent("12-14 09:00", "12-15 08:00"), "12-15 08:00"),
}
HISTORY_ROWS = [
    # (filling/dept_b's state, now, its history) → the slot reminded about, and whether late
    row("overdue", "12-16 17:00", "reminded-12-16-at-09:30", "overdue-2016-12-16", False, id="same-slot"),
    row("open", "12-15 08:00", "reminded-12-12-then-down", "before-1", True, id="sent-late-after-downtime"),
    row("open", "12-15 09:30", "caught-up-12-15-at-08:00", None, False, id="once-a-day"),
    row("overdue", "12-16 09:30", "caught-up-12-15-at-08:00", "overdue-2016-12-16", False, id="next-day"),
]


@pytest.mark.parametrize(("state", "now", "history", "slot", "late"), HISTORY_ROWS)
def test_decide_with_history(
    minimal_plan, state: str, now: str, history: str, slot: str | None, late: bool
) -> None:
    reminded, seen = HISTORIES[history]
    found = _decide(minimal_plan, "filling/dept_b", "12-15", state, at(now), reminded, at(seen)).reminder
    assert (found.slot.name, found.late) == (slot, late) if slot else found is None


def _decide(minimal_plan, key, due, state, now, reminded, seen):  # type: ignore[no-untyped-def]
    plan, calendar = minimal_plan
    milestone, unit = key.split("/")
    due_at = end_of_day(at(f"{due} 00:00").date(), TZ) if due else None
    task = TaskState(1, milestone, unit, "", state, 0, due_at)
    return decide(task, Timetable(plan, calendar, now, seen), reminded)


SCOPE = [
    # (the record's state, is the new roster row out of scope?) → the steps, and whether it is kept as it is
    row("pending", False, "", False, id="in-scope-stays"),
    row("pending", True, "exclude", False, id="out-of-scope-excluded"),
    row("submitted", True, "exclude", False, id="excluded-while-filling-in"),
    row("reported", True, "", True, id="reported-is-kept"),
    row("correction_requested", True, "", True, id="under-correction-is-kept"),
    row("excluded", False, "include", False, id="back-in-scope-starts-again"),
    row("excluded", True, "", False, id="still-out-of-scope"),
    row("left", False, "rejoin", False, id="back-from-leaving"),
    row("left", True, "rejoin exclude", False, id="back-but-out-of-scope"),
]


@pytest.mark.parametrize(("state", "out", "events", "kept"), SCOPE)
def test_scope_move(state: str, out: bool, events: str, kept: bool) -> None:
    move = scope_move(state, out)
    assert (" ".join(step[0] for step in move.steps), move.kept) == (events, kept)
    target = {"exclude": "excluded", "include": "pending", "rejoin": "pending"}
    assert move.target(state) == (target[events.split()[-1]] if events else state)
