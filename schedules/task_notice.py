"""What a reminder or escalation says about its task: the allow-listed fields, no ID-card or phone
numbers, gathered once per task even when it gets a reminder and an escalation.

The templates are the admins' to edit and take fields by name, so `context` gives them the
same names as ever (`task.title`, `task.working_days_left`, `teachers`, `counts` …;
docs/notifications.md, notifications/samples.py), and `link`: the task's unit's page on
the web, or None when CUIBAN_BASE_URL is not set (the templates then leave the line out).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

from sqlalchemy import Connection

from cuiban.models import teacher_store
from cuiban.notifications.labels import state_label
from cuiban.workflow.completion import Progress, is_derived, progress_of
from cuiban.workflow.links import Links
from cuiban.workflow.plan.schema import Unit
from cuiban.workflow.teacher_states import states_at_least
from cuiban.workflow.tick_decisions import TaskTick, Timetable

TEACHERS_SHOWN = 100
"""A reminder lists at most this many unfinished teachers, then says how many more there are."""


@dataclass(frozen=True)
class TeacherLine:
    staff_id: str
    name: str
    state: str
    """The state's label in the plan's language."""


@dataclass(frozen=True)
class TaskNotice:
    plan_title: str
    institution: str
    title: str
    deliverable: str
    unit_name: str
    due: str
    due_date: str
    working_days_left: int
    overdue: bool
    overdue_days: int
    owners: str
    next_step: str
    report: str | None
    counts: Progress | None = None
    """A derived department task's teachers: how many, how many there, how many not."""
    teachers: tuple[TeacherLine, ...] = ()
    more: int = 0
    link: str | None = None
    """The task's unit's page (`<base>/units/<unit>`), None without a base URL."""
    attachments: tuple[dict[str, Any], ...] = ()
    """Files the reminder carries (the filled 附表4 for a `report: monthly` milestone): dicts with
    filename, content_type, content (bytes) and content_id (None), as the outbox stores them."""

    @cached_property
    def context(self) -> dict[str, Any]:
        """The template variables, built once and shared by every message about this task."""
        counts = self.counts
        return {
            "plan": {"title": self.plan_title, "institution": self.institution},
            "task": {
                "title": self.title,
                "deliverable": self.deliverable,
                "unit_name": self.unit_name,
                "due": self.due,
                "due_date": self.due_date,
                "working_days_left": self.working_days_left,
                "overdue": self.overdue,
                "overdue_days": self.overdue_days,
                "owners": self.owners,
                "next_step": self.next_step,
                "report": self.report,
            },
            "teachers": [{"staff_id": t.staff_id, "name": t.name, "state": t.state} for t in self.teachers],
            "more": self.more,
            "counts": None if counts is None else _counts(counts),
            "link": self.link,
        }


def _counts(progress: Progress) -> dict[str, int]:
    return {"total": progress.total, "done": progress.done, "missing": progress.missing}


def notice(
    connection: Connection,
    timetable: Timetable,
    links: Links,
    decided: TaskTick,
    counts: dict[str, dict[str, int]],
) -> TaskNotice:
    """The notice of a task due a message; `counts` are the tick's teachers per unit and state,
    `links` where the web pages are (the recipient is sent to the task's unit's page)."""
    plan, task = timetable.plan, decided.task
    assert decided.due is not None  # only tasks with a due time are reminded or escalated
    milestone, unit = plan.milestones[task.milestone_id], plan.units[task.unit_id]
    left = timetable.working_days_left(decided.due.date())
    found = TaskNotice(
        plan.title,
        plan.institution,
        milestone.title,
        milestone.deliverable,
        unit.name,
        decided.due.format("YYYY-MM-DD HH:mm"),
        decided.due.date().isoformat(),
        max(left, 0),
        decided.state == "overdue" or timetable.now > decided.due,
        max(-left, 0),
        "、".join(r.name for r in timetable.people(milestone.owners, task)),
        milestone.title,
        report_command(milestone.report, unit),
        link=links.unit(task.unit_id),
    )
    if not (is_derived(milestone) and unit.kind == "department"):
        return found
    reached = states_at_least(milestone.teachers_at_least or "")
    progress = progress_of(counts.get(task.unit_id, {}), set(reached))
    rows = teacher_store.unfinished(connection, task.unit_id, reached, TEACHERS_SHOWN)
    teachers = tuple(
        TeacherLine(t["staff_id"], t["name"], state_label(plan.language, t["state"])) for t in rows
    )
    more = max(progress.missing - len(teachers), 0)
    return replace(found, counts=progress, teachers=teachers, more=more)


def report_command(report: str | None, unit: Unit) -> str | None:
    """The command that writes the milestone's form, for this unit where the form is per department."""
    if report is None:
        return None
    if report == "monthly":
        return "cuiban report monthly --send"
    if report in ("dept-audit", "teacher-sheet") and unit.kind == "department":
        return f"cuiban report {report} --unit {unit.name}"
    return f"cuiban report {report}"
