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
from urllib.parse import quote

from sqlalchemy import Connection

from cuiban.models import teacher_store
from cuiban.notifications.labels import state_label
from cuiban.schedules.monthly_form import monthly_attachments
from cuiban.workflow.completion import Progress, is_derived, progress_of
from cuiban.workflow.links import Links
from cuiban.workflow.plan.schema import Plan
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
        milestone.next_step or milestone.title,
        form_note(plan, milestone.report, task.unit_id, links),
        link=links.unit(task.unit_id),
    )
    if milestone.report == "monthly":
        files = monthly_attachments(connection, plan, timetable.now, decided.due.date())
        found = replace(found, attachments=files)
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


FORMS = {
    "monthly": ("附表4《全国教师管理信息系统部署与启用月报表》", "Form 4 (the monthly report)"),
    "dept-audit": ("附表6《数据审核报表》", "Form 6 (the data audit)"),
    "teacher-sheet": ("附表5《教师信息审核表》", "Form 5 (the teacher information sheets)"),
    "working-group": ("附表3《工作组名单》", "Form 3 (the working group)"),
}
"""Each form as the office calls it, in the plan's language (zh, en)."""


def form_note(plan: Plan, report: str | None, unit_id: str, links: Links) -> str | None:
    """What a reminder says about the milestone's form, in the plan's language: 附表4 is attached,
    filled, ready to forward to the province; any other form is on the web page, to download
    (a link to it with CUIBAN_BASE_URL). Never a command: office staff have no shell."""
    if report is None:
        return None
    zh, en = FORMS.get(report, (report, report))
    english = plan.language == "en"
    province = f"{plan.province.name}（{plan.province.email}）"
    if report == "monthly":
        if english:
            return (
                f"Attached: {en}, filled in (one xlsx and one docx); check it, then forward it to "
                f"{plan.province.name} ({plan.province.email})."
            )
        return f"附件为已填好的附表4（xlsx、docx 各一份），核对后可直接转发至{province}。"
    link = form_link(links, report, unit_id if plan.units[unit_id].kind == "department" else None)
    if link is None:
        if english:
            return f"Form: {en}; the coordinator can download it, filled in, from the web pages (Reports)."
        return f"所需报表：{zh}，总协调人可在催办网页「报表下载」中下载已填好的报表。"
    if english:
        return f"Form: {en}, filled in, to download from the web page: {link}"
    return f"所需报表：{zh}，已按当前数据填好，可在网页上下载 {link}"  # a space: mail programs link it


def form_link(links: Links, report: str, unit_id: str | None) -> str | None:
    """The web page's download of the form (one department's own 附表5/6), None without a base URL."""
    if links.base_url is None:
        return None
    unit = f"&unit={quote(unit_id, safe='')}" if unit_id else ""
    return f"{links.base_url.rstrip('/')}/reports/{quote(report, safe='')}?format=xlsx{unit}"
