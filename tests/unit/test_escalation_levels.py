"""Which escalation levels are due at `now`, and to whom, as a table over `decide`.

The minimal plan's ladder: 1 working day after the due day → the unit's collector; 2 →
its head and the coordinator; each at the reminder time (09:00). 乙学院 (dept_b) has h_b
as both head and collector, 甲学院 (dept_a) collector c_a and head h_a. The audit
milestone is given its own ladder here (3 working days → the group's leader).
Working days follow the official calendar: after a task due Friday 2016-09-30 the
National Day week does not count and the make-up weekend 10-08/10-09 does.
"""

from __future__ import annotations

import pendulum
import pytest

from cuiban.workflow.clock import end_of_day
from cuiban.workflow.plan.schema import EscalationStep, Plan
from cuiban.workflow.tasks import TaskState
from cuiban.workflow.tick_decisions import Timetable, decide

TZ = "Asia/Shanghai"
row = pytest.param


def at(text: str) -> pendulum.DateTime:
    return pendulum.parse(f"2016-{text.replace(' ', 'T')}:00", tz=TZ)


ROWS = [
    # (task, due day, state, levels told so far, now) → each level due now: "level:who,who"
    row("filling/dept_b", "12-15", "overdue", 0, "12-16 08:59", "", id="not-yet-a-working-day-late"),
    row("filling/dept_b", "12-15", "overdue", 0, "12-16 09:00", "1:h_b", id="level-1-to-the-collector"),
    row("filling/dept_b", "12-15", "overdue", 1, "12-17 10:00", "", id="saturday-is-not-a-day-later"),
    row("filling/dept_b", "12-15", "overdue", 1, "12-18 23:59", "", id="nor-sunday"),
    row("filling/dept_b", "12-15", "overdue", 1, "12-19 09:00", "2:h_b,coord", id="level-2-head-coordinator"),
    row("filling/dept_b", "12-15", "overdue", 0, "12-19 09:00", "1:h_b 2:h_b,coord", id="after-downtime"),
    row("filling/dept_b", "12-15", "overdue", 2, "12-30 09:00", "", id="top-of-the-ladder"),
    row("filling/dept_a", "12-15", "overdue", 1, "12-19 09:30", "2:h_a,coord", id="the-units-own-head"),
    row("filling/dept_a", "12-15", "open", 0, "12-14 09:30", "", id="not-overdue-no-escalation"),
    row("filling/dept_a", "12-15", "done", 0, "12-19 09:30", "", id="finished-no-escalation"),
    row("filling/dept_a", "12-15", "upcoming", 0, "12-16 09:30", "1:c_a", id="overdue-and-told-in-one-tick"),
    row("filling/dept_a", "09-30", "overdue", 0, "10-07 12:00", "", id="national-day-not-counted"),
    row("filling/dept_a", "09-30", "overdue", 0, "10-08 09:00", "1:c_a", id="make-up-saturday-counts"),
    row("filling/dept_a", "09-30", "overdue", 1, "10-09 09:00", "2:h_a,coord", id="make-up-sunday-counts"),
    row("audit/dept_a", "12-19", "overdue", 0, "12-21 09:30", "", id="own-ladder-not-yet"),
    row("audit/dept_a", "12-19", "overdue", 0, "12-22 09:00", "1:lead", id="own-ladder-to-the-leader"),
]


@pytest.mark.parametrize(("key", "due", "state", "told", "now", "expected"), ROWS)
def test_escalations_due(
    ladders: Plan, calendar, key: str, due: str, state: str, told: int, now: str, expected: str
) -> None:
    milestone, unit = key.split("/")
    task = TaskState(1, milestone, unit, "", state, told, end_of_day(at(f"{due} 00:00").date(), TZ))
    decided = decide(task, Timetable(ladders, calendar, at(now)))
    found = [f"{e.level}:{','.join(r.person_id for r in e.to)}" for e in decided.escalations]
    assert " ".join(found) == expected
    assert decided.events.count("escalate") == len(found)


MOMENTS = [
    # (milestone, due day, now) → when each level is reached, and how many have been by now
    row("filling", "12-15", "12-19 09:00", "12-16 09:00, 12-19 09:00", 2, id="friday-then-monday"),
    row("filling", "12-15", "12-16 09:00", "12-16 09:00, 12-19 09:00", 1, id="reached-at-the-minute"),
    row("filling", "09-30", "10-08 08:00", "10-08 09:00, 10-09 09:00", 0, id="the-make-up-weekend"),
    row("filling", "10-07", "10-08 09:30", "10-08 09:00, 10-09 09:00", 1, id="due-on-a-holiday"),
    row("filling", "09-14", "09-18 09:30", "09-18 09:00, 09-19 09:00", 1, id="mid-autumn-make-up-sunday"),
    row("audit", "12-19", "12-30 09:00", "12-22 09:00", 1, id="own-ladder-one-level"),
]


@pytest.mark.parametrize(("milestone", "due", "now", "moments", "reached"), MOMENTS)
def test_escalation_moments(
    ladders: Plan, calendar, milestone: str, due: str, now: str, moments: str, reached: int
) -> None:
    found = Timetable(ladders, calendar, at(now)).escalation(milestone, at(f"{due} 00:00").date())
    assert found == ([at(m) for m in moments.split(", ")], reached)


@pytest.fixture
def ladders(minimal_plan) -> Plan:
    """The minimal plan, its audit milestone with a ladder of its own."""
    plan = minimal_plan[0]
    audit = plan.milestones["audit"].model_copy(update={"escalation": [EscalationStep(after=3, to=["lead"])]})
    return plan.model_copy(update={"milestones": {**plan.milestones, "audit": audit}})


@pytest.fixture
def calendar(minimal_plan):
    return minimal_plan[1]
