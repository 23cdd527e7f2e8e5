"""A department's page: its unfinished teachers, its tasks, its figures and the files it handed in.

Read in one connection with the unit's own rows only (its teachers through the (unit, state)
index, its tasks through the (milestone, unit) key, its evidence), so a page costs the same at a
million teachers as at a thousand. Nothing is written: opening a page changes nothing.

"Unfinished" is measured against the state the unit's teachers are working towards now: the
`teachers_at_least` of the unit's earliest unfinished derived task (e.g. 已提交 while the filling
task runs, 已确认 once it is done), or the end of the line (已上报) when it has none left.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from cuiban.models import evidence_store, task_store, teacher_store
from cuiban.services.rejection import Refusal
from cuiban.workflow.completion import is_derived
from cuiban.workflow.plan.schema import Plan
from cuiban.workflow.task_machine import FINISHED
from cuiban.workflow.tasks import task_key
from cuiban.workflow.teacher_states import states_at_least

SHOWN = 200
"""A page lists at most this many unfinished teachers, then says how many more there are."""
FINAL_GOAL = "reported"


class UnknownUnit(Refusal, LookupError):
    pass


@dataclass(frozen=True)
class TeacherLine:
    staff_id: str
    name: str
    state: str


@dataclass(frozen=True)
class TaskLine:
    key: str
    milestone_id: str
    title: str
    deliverable: str
    occurrence: str
    state: str
    escalation_level: int
    due: datetime | None
    completed_at: datetime | None
    completed_by: str | None
    manual: bool

    @property
    def open(self) -> bool:
        return self.state not in FINISHED

    @property
    def can_mark_done(self) -> bool:
        """A manual task still open: the page offers a form to mark it done."""
        return self.manual and self.open


@dataclass(frozen=True)
class EvidenceLine:
    id: int
    task_key: str
    task: str
    """The task's title (with its occurrence for a monthly one)."""
    file_name: str
    size: int
    uploaded_by: str
    uploaded_at: datetime


@dataclass(frozen=True)
class UnitPage:
    unit_id: str
    name: str
    kind: str
    goal: str
    """The state the unit's teachers are measured against."""
    total: int
    """In-scope teachers of the unit."""
    done: int
    teachers: list[TeacherLine]
    """The first SHOWN unfinished teachers, by staff ID."""
    tasks: list[TaskLine]
    evidence: list[EvidenceLine]

    @property
    def missing(self) -> int:
        return self.total - self.done

    @property
    def more(self) -> int:
        """Unfinished teachers beyond those listed."""
        return max(self.missing - len(self.teachers), 0)


def unit_page(engine: Engine, plan: Plan, unit_id: str, shown: int = SHOWN) -> UnitPage:
    """What a unit's page shows, as of the database now."""
    unit = plan.units.get(unit_id)
    if unit is None:
        raise UnknownUnit(f"no unit {unit_id!r} in the plan")
    with engine.connect() as connection:
        rows = task_store.rows(connection, unit_id, list(plan.milestones), plan.cycle)
        tasks = [_task_line(plan, row) for row in rows]
        goal = goal_of(plan, tasks)
        reached = set(states_at_least(goal))
        counts = teacher_store.state_counts_of_unit(connection, unit_id)
        listed = teacher_store.unfinished(connection, unit_id, sorted(reached), shown)
        titles = {t.key: t.title + (f"（{t.occurrence}）" if t.occurrence else "") for t in tasks}
        evidence = [_evidence_line(row, titles) for row in evidence_store.of_tasks(connection, list(titles))]
    total = sum(counts.values())
    done = sum(n for state, n in counts.items() if state in reached)
    return UnitPage(
        unit_id,
        unit.name,
        unit.kind,
        goal,
        total,
        done,
        [TeacherLine(t["staff_id"], t["name"], t["state"]) for t in listed],
        tasks,
        evidence,
    )


def goal_of(plan: Plan, tasks: list[TaskLine]) -> str:
    """The `teachers_at_least` of the earliest unfinished derived task (undated ones last), else the
    end of the line."""
    derived = [t for t in tasks if t.open and is_derived(plan.milestones[t.milestone_id])]
    derived.sort(key=lambda t: (t.due is None, t.due.timestamp() if t.due else 0.0, t.key))
    if not derived:
        return FINAL_GOAL
    return str(plan.milestones[derived[0].milestone_id].teachers_at_least)


def _task_line(plan: Plan, row: dict[str, Any]) -> TaskLine:
    milestone = plan.milestones.get(row["milestone_id"])
    return TaskLine(
        task_key(row["milestone_id"], row["unit_id"], row["occurrence"]),
        row["milestone_id"],
        milestone.title if milestone else row["milestone_id"],
        milestone.deliverable if milestone else "",
        row["occurrence"],
        row["state"],
        row["escalation_level"],
        row["due_at"],
        row["completed_at"],
        row["completed_by"],
        milestone is not None and milestone.completion == "manual",
    )


def _evidence_line(row: dict[str, Any], titles: dict[str, str]) -> EvidenceLine:
    return EvidenceLine(
        row["id"],
        row["task_key"],
        titles.get(row["task_key"], row["task_key"]),
        row["file_name"],
        row["size"],
        row["uploaded_by"],
        row["uploaded_at"],
    )
