"""Which unit tasks a plan calls for, and when each is due.

One task per milestone and responsible unit (every department for a fan-out
milestone), and for a monthly milestone one per occurrence. A relative milestone's
tasks get their due time once the anchor milestone is complete.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

import pendulum

from cuiban.workflow.calendar import WorkingCalendar
from cuiban.workflow.clock import end_of_day, start_of_day
from cuiban.workflow.plan.schema import ALL_DEPARTMENTS, Plan
from cuiban.workflow.plan.timeline import due_date, monthly_occurrences
from cuiban.workflow.task_machine import UnitTask


@dataclass(frozen=True)
class TaskSpec:
    milestone_id: str
    unit_id: str
    occurrence: str
    due: datetime | None
    opens: datetime

    @property
    def key(self) -> str:
        return "/".join(p for p in (self.milestone_id, self.unit_id, self.occurrence) if p)


@dataclass(frozen=True)
class TaskState:
    """A unit task as the store holds it: what the tick and the completion rule decide from.

    `id` and the completion record are carried so that saving can keep a task's record of
    who finished it, when, without loading the row again."""

    id: int
    milestone_id: str
    unit_id: str
    occurrence: str
    state: str
    escalation_level: int
    due: datetime | None
    completed_at: datetime | None = None
    completed_by: str | None = None

    @property
    def key(self) -> str:
        return task_key(self.milestone_id, self.unit_id, self.occurrence)

    def machine(self) -> UnitTask:
        """A fresh domain record to fire events on (the state machine keeps what happened)."""
        return UnitTask(self.key, self.state, self.escalation_level, self.due)


def task_key(milestone_id: str, unit_id: str, occurrence: str = "") -> str:
    return "/".join(p for p in (milestone_id, unit_id, occurrence) if p)


def parse_task_key(key: str) -> tuple[str, str, str]:
    parts = key.split("/")
    if len(parts) not in (2, 3):
        raise ValueError(f"{key!r} is not a task (MILESTONE/UNIT or MILESTONE/UNIT/YYYY-MM-DD)")
    return parts[0], parts[1], parts[2] if len(parts) == 3 else ""


def responsible_units(plan: Plan, milestone_id: str) -> list[str]:
    units: list[str] = []
    for ref in plan.milestones[milestone_id].units:
        units += plan.departments() if ref == ALL_DEPARTMENTS else [ref]
    return list(dict.fromkeys(units))


def opens_at(plan: Plan, milestone_id: str, occurrence: str = "") -> datetime:
    """When a task's window opens: its milestone's `start`, else the campaign's.

    A monthly occurrence's window opens the day after the previous occurrence (12-01's
    on 11-02), so that its reminders can come before the day, as the plan's `before` says.
    """
    tz = plan.timezone
    if occurrence:
        day = pendulum.Date.fromisoformat(occurrence)
        return start_of_day(day.subtract(months=1).add(days=1), tz)
    return start_of_day(plan.milestones[milestone_id].start or plan.campaign.start, tz)


def task_specs(plan: Plan, calendar: WorkingCalendar, completed: Mapping[str, date]) -> list[TaskSpec]:
    """Every task of the plan; `completed` gives the date each finished milestone was done."""
    tz = plan.timezone
    specs: list[TaskSpec] = []
    for mid, milestone in plan.milestones.items():
        dues: list[tuple[str, datetime | None]]
        if milestone.monthly is not None:
            # occurrences due before the campaign starts were before the engine ran: no task
            dues = [
                (d.isoformat(), end_of_day(d, tz))
                for d in monthly_occurrences(milestone)
                if d >= plan.campaign.start
            ]
        elif milestone.after is not None:
            due_day = due_date(milestone, plan.campaign.start, calendar, completed)
            dues = [("", end_of_day(due_day, tz) if due_day else None)]
        else:
            dues = [("", end_of_day(milestone.due, tz) if milestone.due else None)]
        for unit_id in responsible_units(plan, mid):
            for occurrence, due in dues:
                task_opens = opens_at(plan, mid, occurrence)
                specs.append(TaskSpec(mid, unit_id, occurrence, due, min(task_opens, due or task_opens)))
    return specs
