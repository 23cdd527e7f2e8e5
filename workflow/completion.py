"""Derived completion: a task that completes by itself when its teachers have come far enough.

A milestone with `completion: derived` and `teachers_at_least: S` is done for a department
when every in-scope teacher of it has reached S (or gone beyond); an office responsible for
it (the teacher development centre, say) is measured against the whole school. A unit with
no teachers in scope is never done by this rule: nothing was entered. A finished task whose
rule no longer holds — a collector sent a record back — reopens.

Pure: the counts per unit and state come in (one scan by the store), the changes go out;
the caller fires them on each task's machine and saves.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from cuiban.workflow.plan.schema import Milestone, Plan
from cuiban.workflow.task_machine import FINISHED, UnitTask
from cuiban.workflow.tasks import TaskState, responsible_units
from cuiban.workflow.teacher_states import states_at_least

Counts = Mapping[str, Mapping[str, int]]
"""Per unit, in-scope teachers per state (excluded and left ones not counted)."""


@dataclass(frozen=True)
class Progress:
    """How many teachers a task is measured against, and how many have reached its state."""

    total: int
    done: int

    @property
    def missing(self) -> int:
        return self.total - self.done

    @property
    def holds(self) -> bool:
        """Every teacher there, and at least one: the derived task is complete."""
        return self.total > 0 and self.done == self.total


def progress_of(by_state: Mapping[str, int], reached: Collection[str]) -> Progress:
    """One unit's progress towards the states in `reached`."""
    return Progress(sum(by_state.values()), sum(n for s, n in by_state.items() if s in reached))


def is_derived(milestone: Milestone) -> bool:
    return milestone.completion == "derived" and bool(milestone.teachers_at_least)


@dataclass(frozen=True)
class CompletionChange:
    """A derived task that completes (`finish`) or reopens (`reopen`) now, and why."""

    task: TaskState
    event: str
    note: str

    def apply(self, now: datetime) -> UnitTask:
        """The task's machine with the change fired (done_late when finished past its due time)."""
        task = self.task.machine()
        if self.event == "finish":
            task.finish(now, note=self.note)
        else:
            task.fire("reopen", now, note=self.note)
        return task


def derived_changes(plan: Plan, tasks: Iterable[TaskState], counts: Counts) -> list[CompletionChange]:
    """The derived tasks among `tasks` whose rule now holds and are not finished, or no longer
    holds and are: milestone by milestone in the plan's order, tasks in the order given."""
    by_milestone: dict[str, list[TaskState]] = {}
    for task in tasks:
        by_milestone.setdefault(task.milestone_id, []).append(task)
    changes = []
    for mid, milestone in plan.milestones.items():
        if not is_derived(milestone) or mid not in by_milestone:
            continue
        at_least = milestone.teachers_at_least or ""
        reached = set(states_at_least(at_least))
        progress = {unit: progress_of(by_state, reached) for unit, by_state in counts.items()}
        for task in by_milestone[mid]:
            measured = measured_progress(plan, mid, task.unit_id, progress)
            if measured.holds and task.state not in FINISHED:
                changes.append(CompletionChange(task, "finish", f"every teacher has reached {at_least}"))
            elif not measured.holds and task.state in FINISHED:
                note = f"{measured.missing} teacher(s) below {at_least}"
                changes.append(CompletionChange(task, "reopen", note))
    return changes


def measured_progress(
    plan: Plan, milestone_id: str, unit_id: str, progress: Mapping[str, Progress]
) -> Progress:
    """A department's own teachers; for an office responsible for the milestone, the whole school's."""
    if plan.units[unit_id].kind == "department" or unit_id not in responsible_units(plan, milestone_id):
        return progress.get(unit_id, Progress(0, 0))
    return Progress(sum(p.total for p in progress.values()), sum(p.done for p in progress.values()))
