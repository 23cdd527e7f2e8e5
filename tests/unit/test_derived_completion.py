"""Derived completion as a table: from a unit's teachers per state, does its task complete,
reopen, or stay as it is?

The minimal plan's `filling` is derived: done when every in-scope teacher of the department
has reached `submitted` (reviewed, confirmed, reported, a correction requested: beyond it;
a returned record is being filled in again). Here an office task is added too:
`centre_check` (教师发展中心) done when every teacher of the school has been reviewed.
The task is due 2016-12-15; the changes are applied on 12-14 unless the task is overdue.
"""

from __future__ import annotations

import pendulum
import pytest

from cuiban.workflow.clock import end_of_day
from cuiban.workflow.completion import Progress, derived_changes, measured_progress, progress_of
from cuiban.workflow.plan.schema import Plan
from cuiban.workflow.tasks import TaskState
from cuiban.workflow.teacher_states import states_at_least

TZ = "Asia/Shanghai"
NOW = pendulum.datetime(2016, 12, 14, 12, 0, tz=TZ)
DUE = end_of_day(pendulum.date(2016, 12, 15), TZ)
row = pytest.param


def counts(text: str) -> dict[str, dict[str, int]]:
    """`dept_a: submitted=2 filling=1; dept_b: reviewed=3` → per unit, teachers per state."""
    found: dict[str, dict[str, int]] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        unit, states = part.split(":")
        found[unit] = {s: int(n) for s, n in (pair.split("=") for pair in states.split())}
    return found


ROWS = [
    # (task, its state, teachers per unit and state) → the task's state after, None: unchanged
    row("filling/dept_a", "open", "dept_a: submitted=3", "done", id="all-submitted"),
    row("filling/dept_a", "open", "dept_a: submitted=2 filling=1", None, id="one-still-filling"),
    row("filling/dept_a", "open", "dept_a: reviewed=1 reported=2", "done", id="beyond-submitted-counts"),
    row("filling/dept_a", "open", "dept_a: correction_requested=1", "done", id="a-correction-counts"),
    row("filling/dept_a", "open", "dept_a: returned=1 submitted=2", None, id="returned-is-filling-again"),
    row("filling/dept_a", "done", "dept_a: returned=1 submitted=2", "open", id="sent-back-reopens"),
    row("filling/dept_a", "done_late", "dept_a: returned=1", "overdue", id="late-one-reopens-overdue"),
    row("filling/dept_a", "done", "dept_a: submitted=3", None, id="still-holds-no-change"),
    row("filling/dept_a", "open", "", None, id="no-teachers-never-done"),
    row("filling/dept_a", "done", "", "open", id="no-teachers-left-reopens"),
    row("filling/dept_a", "open", "dept_b: submitted=3", None, id="other-departments-do-not-count"),
    row("filling/dept_a", "overdue", "dept_a: submitted=3", "done_late", id="overdue-finishes-late"),
    row("filling/dept_a", "upcoming", "dept_a: submitted=3", "done", id="done-before-it-opens"),
    row("centre_check/tdc", "open", "dept_a: reviewed=2; dept_b: reported=1", "done", id="office-school"),
    row("centre_check/tdc", "open", "dept_a: reviewed=2; dept_b: submitted=1", None, id="office-waits"),
    row("centre_check/tdc", "done", "dept_a: reviewed=2; dept_b: returned=1", "open", id="office-reopens"),
    row("audit/dept_a", "open", "dept_a: reported=3", None, id="manual-milestone-untouched"),
]


@pytest.mark.parametrize(("key", "state", "teachers", "expected"), ROWS)
def test_derived_completion(
    with_office: Plan, key: str, state: str, teachers: str, expected: str | None
) -> None:
    milestone, unit = key.split("/")
    task = TaskState(7, milestone, unit, "", state, 0, DUE)
    changes = derived_changes(with_office, [task], counts(teachers))
    assert [c.apply(NOW).state for c in changes] == ([expected] if expected else [])


NOTES = [
    row("open", "dept_a: submitted=3", "finish", "every teacher has reached submitted", id="finished"),
    row("done", "dept_a: returned=1 filling=1", "reopen", "2 teacher(s) below submitted", id="reopened"),
]


@pytest.mark.parametrize(("state", "teachers", "event", "note"), NOTES)
def test_what_the_log_says(with_office: Plan, state: str, teachers: str, event: str, note: str) -> None:
    task = TaskState(7, "filling", "dept_a", "", state, 0, DUE)
    [change] = derived_changes(with_office, [task], counts(teachers))
    assert (change.event, change.note) == (event, note)
    assert [(h.event, h.note) for h in change.apply(NOW).happened][-1] == (
        "complete" if event == "finish" else "reopen",
        note,
    )


PROGRESS = [
    # (unit, teachers per unit and state) → (measured against, reached submitted)
    row("dept_a", "dept_a: submitted=1 filling=2 pending=1", (4, 1), id="a-departments-own"),
    row("dept_a", "dept_a: returned=2 confirmed=1", (3, 1), id="returned-not-reached"),
    row("dept_b", "dept_a: submitted=1", (0, 0), id="a-department-without-teachers"),
    row("tdc", "dept_a: submitted=1 filling=1; dept_b: reported=2", (4, 3), id="an-office-the-whole-school"),
]


@pytest.mark.parametrize(("unit", "teachers", "expected"), PROGRESS)
def test_measured_progress(with_office: Plan, unit: str, teachers: str, expected: tuple[int, int]) -> None:
    reached = set(states_at_least("submitted"))
    progress = {u: progress_of(by_state, reached) for u, by_state in counts(teachers).items()}
    milestone = "centre_check" if unit == "tdc" else "filling"
    assert measured_progress(with_office, milestone, unit, progress) == Progress(*expected)


def test_several_tasks_milestone_by_milestone(with_office: Plan) -> None:
    """Changes come milestone by milestone in the plan's order, tasks in the order given."""
    tasks = [
        TaskState(1, "centre_check", "tdc", "", "open", 0, DUE),
        TaskState(2, "filling", "dept_b", "", "done", 0, DUE),
        TaskState(3, "filling", "dept_a", "", "open", 0, DUE),
    ]
    found = derived_changes(with_office, tasks, counts("dept_a: reviewed=2; dept_b: returned=1"))
    assert [(c.task.id, c.event) for c in found] == [(2, "reopen"), (3, "finish")]


@pytest.fixture
def with_office(minimal_plan) -> Plan:
    plan = minimal_plan[0]
    check = plan.milestones["filling"].model_copy(update={"units": ["tdc"], "teachers_at_least": "reviewed"})
    return plan.model_copy(update={"milestones": {**plan.milestones, "centre_check": check}})
