"""The seed's forms as data: 附表6 数据审核报表, 附表4 月报表, 附表5 教师信息审核表, 附表3 工作组名单.

Each form is a plain value built from figures the caller read (counts, names, dates)
and the plan; `reports/` lays them out as xlsx, docx, PDF or HTML. Which states
count as "entered" (录入完成) and "reviewed" (审核完成) is decided here, once, for
every form and the chart.

Personal data: a form carries names, staff IDs and departments. The only phone number
that can appear is a teacher's own, on that teacher's own 附表5, and only when the
plan maps the phone column; office phones of the people who sign a form come from the
plan (`people.*.office_phone`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from cuiban.workflow.plan.schema import Plan
from cuiban.workflow.teacher_states import states_at_least

ENTERED = states_at_least("submitted")
"""录入完成: the teacher has submitted (a returned record is back to not entered)."""
REVIEWED = states_at_least("reviewed")
"""审核完成: the department's collector has reviewed it."""


@dataclass(frozen=True)
class Stage:
    """One half of 附表6 or 附表4: how many, how many done, who is missing, when it was all done."""

    total: int
    done: int
    missing_names: list[str] = field(default_factory=list)
    completed_on: date | None = None
    """The day the last teacher reached the stage; None while some are missing."""

    @property
    def missing(self) -> int:
        return self.total - self.done

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.done == self.total


@dataclass(frozen=True)
class DeptAudit:
    """附表6 数据审核报表 of one department."""

    unit_id: str
    unit_name: str
    auditor: str
    """审核人: the department's 信息采集员 (its head when it has none)."""
    phone: str
    """联系电话: the auditor's office phone from the plan, or empty."""
    entry: Stage
    review: Stage
    report_date: date


@dataclass(frozen=True)
class MonthlyReport:
    """附表4 全国教师管理信息系统部署与启用月报表 (高校填报)."""

    institution: str
    month: str
    """年月, e.g. 2016年12月."""
    filler: str
    phone: str
    filled_on: date
    entry: Stage
    review: Stage


@dataclass(frozen=True)
class TeacherSheet:
    """附表5 教师信息审核表 of one teacher: what the teacher confirms and signs."""

    staff_id: str
    name: str
    gender: str
    birth_month: str
    post: str
    department: str
    phone: str | None
    """Only when the plan maps the phone column; None leaves the form's cell empty."""
    education: str
    degree: str
    title: str


@dataclass(frozen=True)
class GroupRow:
    """One line of 附表3: a member of the working group."""

    role: str
    name: str
    office: str
    duty: str
    office_phone: str
    email: str


@dataclass(frozen=True)
class WorkingGroupForm:
    """附表3 全国教师管理信息系统联合工作组名单."""

    institution: str
    rows: list[GroupRow]
    contact: GroupRow | None
    technical_contact: GroupRow | None


@dataclass(frozen=True)
class Progress:
    """Per department, how many teachers had entered their data by the end of each day."""

    days: list[date]
    totals: dict[str, int]
    """Department name → in-scope teachers as of the chart's moment."""
    entered: dict[str, list[int]]
    """Department name → entered by the end of each of `days`."""


def month_label(day: date) -> str:
    return f"{day.year}年{day.month}月"


def auditor_of(plan: Plan, unit_id: str) -> tuple[str, str]:
    """附表6's 审核人 and 联系电话: the unit's collector, else its head; empty when neither is named."""
    unit = plan.units[unit_id]
    person_id = unit.collector or unit.head
    if person_id is None:
        return "", ""
    person = plan.people[person_id]
    return person.name, person.office_phone or ""


def working_group_form(plan: Plan) -> WorkingGroupForm:
    """附表3 from the plan's roles: 组长 as 主管校领导, 副组长 as 牵头处室负责人, 成员 as 参与处室."""
    group = plan.roles.working_group

    def row(role: str, person_id: str) -> GroupRow:
        person = plan.people[person_id]
        office = plan.units[person.unit].name if person.unit else ""
        return GroupRow(
            role, person.name, office, person.title or "", person.office_phone or "", person.email
        )

    rows = [row("主管局（校）领导", p) for p in group.leaders]
    rows += [row("牵头处室负责人", p) for p in group.deputies]
    rows += [row("参与处室负责人", p) for p in group.members]
    technical = plan.roles.info_admins[0] if plan.roles.info_admins else None
    return WorkingGroupForm(
        plan.institution,
        rows,
        row("工作联系人", plan.roles.coordinator),
        row("技术工作联系人", technical) if technical else None,
    )
