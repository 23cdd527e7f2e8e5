"""The unit task machine: every (state, event) pair, late completion, escalation levels."""

from __future__ import annotations

import pendulum
import pytest

from cuiban.workflow.machines import IllegalEvent
from cuiban.workflow.task_machine import TASK_EVENTS, TASK_STATES, TASK_TRANSITIONS, UnitTask

NOW = pendulum.datetime(2016, 12, 10, 10, tz="Asia/Shanghai")
DUE = pendulum.datetime(2016, 12, 15, 23, 59, 59, tz="Asia/Shanghai")

LEGAL = {
    (source, t["trigger"]): t["dest"] or source
    for t in TASK_TRANSITIONS
    for source in ([t["source"]] if isinstance(t["source"], str) else t["source"])
}


@pytest.mark.parametrize(("state", "event"), [(s, e) for s in TASK_STATES for e in TASK_EVENTS])
def test_every_state_and_event(state: str, event: str) -> None:
    task = UnitTask("dept_filling/news", state, due=DUE)
    if (state, event) in LEGAL:
        task.fire(event, NOW)
        assert task.state == LEGAL[(state, event)]
        assert task.happened[-1].event == event
    else:
        with pytest.raises(IllegalEvent, match=f"task dept_filling/news is {state}"):
            task.fire(event, NOW)
        assert task.state == state and task.happened == []


@pytest.mark.parametrize(
    ("state", "now", "ends"),
    [
        ("open", NOW, "done"),
        ("upcoming", NOW, "done"),
        ("open", DUE.add(seconds=1), "done_late"),
        ("overdue", DUE.add(days=2), "done_late"),
    ],
)
def test_complete_is_late_after_the_due_time(state: str, now: pendulum.DateTime, ends: str) -> None:
    task = UnitTask("k", state, due=DUE)
    task.finish(now)
    assert task.state == ends


def test_escalation_levels_are_counted_on_the_task() -> None:
    task = UnitTask("k", "overdue")
    task.fire("escalate", NOW)
    task.fire("escalate", NOW)
    assert (task.state, task.escalation_level) == ("overdue", 2)
    assert [h.note for h in task.happened] == ["level 1", "level 2"]
    task.finish(NOW)
    assert (task.state, task.escalation_level) == ("done_late", 2)


def test_reopened_tasks_return_to_where_they_were() -> None:
    on_time, late = UnitTask("a", "done"), UnitTask("b", "done_late")
    on_time.fire("reopen", NOW)
    late.fire("reopen", NOW)
    assert (on_time.state, late.state) == ("open", "overdue")


def test_records_share_one_machine_that_keeps_none_of_them() -> None:
    """Each record moves on its own; the shared machine holds no reference (no growth in a long run)."""
    from cuiban.workflow.task_machine import MACHINE

    first, second = UnitTask("a"), UnitTask("b", "open")
    first.fire("open_window", NOW)
    second.fire("mark_overdue", NOW)
    assert (first.state, second.state) == ("open", "overdue")
    assert [h.event for h in first.happened] == ["open_window"]
    assert [h.event for h in second.happened] == ["mark_overdue"]
    assert MACHINE.machine.models == []
    assert not hasattr(first, "trigger")  # nothing bound onto the plain object
