"""The typed schema of plan.yaml: what each key means and which values it accepts.

Types only; rules that span several keys (references, windows, cycles) live in
`workflow.plan.checks` so that every such error can name its own key and line.
Models are strict: a number where text is expected (an unquoted staff ID) is an
error, not silently converted.
"""

from __future__ import annotations

import re
from datetime import date, time
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from cuiban.workflow.teacher_states import PROGRESS_ORDER
from cuiban.workflow.wording import WordedValueError, words

ALL_DEPARTMENTS = "departments"
"""In a milestone's `units`: one task for every unit of kind department."""

UNIT_ROLES = ("collector", "head", "contacts")
"""Recipient words that mean a person of the task's own unit."""

PLAN_ROLES = ("coordinator", "group_leaders", "group_deputies", "group_members", "info_admins")
"""Recipient words that mean people named under `roles`."""

ROSTER_FIELDS = (
    "staff_id",
    "name",
    "gender",
    "birth_date",
    "department",
    "post",
    "employment",
    "contract_months",
    "in_service_elsewhere",
    "email",
    "education",
    "degree",
    "title",
    "id_card",
    "phone",
)
"""Teacher fields the engine knows; the plan maps each to a header of HR's template."""

REQUIRED_ROSTER_FIELDS = ("staff_id", "name", "department")

TENANT_ID = r"^[a-z][a-z0-9_]{0,39}$"
"""An institution id (`workflow.institution_id`): it names a database schema."""

_HH_MM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _clock_time(value: object) -> object:
    if isinstance(value, str):
        if not _HH_MM.match(value):
            raise WordedValueError(words("type.time_of_day", value=value))
        hours, minutes = value.split(":")
        return time(int(hours), int(minutes))
    return value


def _email(value: str) -> str:
    if not _EMAIL.match(value):
        raise WordedValueError(words("type.email", value=value))
    return value


def _one_or_many(value: object) -> object:
    return [value] if isinstance(value, str) else value


ClockTime = Annotated[time, BeforeValidator(_clock_time)]
Email = Annotated[str, AfterValidator(_email)]
Refs = Annotated[list[str], BeforeValidator(_one_or_many)]
LaxDate = Annotated[date, Field(strict=False)]
TeacherState = Literal[PROGRESS_ORDER]  # type: ignore[valid-type]
RemindableState = Literal[(*PROGRESS_ORDER, "returned", "correction_requested")]  # type: ignore[valid-type]
RosterField = Literal[ROSTER_FIELDS]  # type: ignore[valid-type]


class PlanModel(BaseModel):
    """Strict, closed models: unknown keys and silently converted values are errors."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, populate_by_name=True)


class Person(PlanModel):
    name: str
    email: Email
    unit: str | None = None
    staff_id: str | None = None
    title: str | None = None
    office_phone: str | None = None
    """A work line printed on the forms that ask for one (附表3, 附表4, 附表6) and, for the
    coordinator, in every message's footer (联系人): an office line, never a personal mobile."""


class Unit(PlanModel):
    name: str
    kind: Literal["office", "department", "institution"]
    """institution: a university of a province plan (`level: province`); its head is the institution's
    分管领导 or 联系人, its collector its 信息员, who get the province's reminders and escalations."""
    head: str | None = None
    collector: str | None = None
    contacts: list[str] = []
    aliases: list[str] = []
    bots: list[Literal["wecom", "dingtalk"]] = []
    """The unit's group chats that get its reminders as well as mail (企业微信, 钉钉 group bots);
    their webhook addresses and signing secrets come from the environment, named under `bots`."""
    tenant: Annotated[str, Field(pattern=TENANT_ID)] | None = None
    """kind institution: the institution's id in this deployment (its schema `inst_<id>`, its plan
    `<id>.yaml` in the plans folder); default the unit's own id."""


class WorkingGroup(PlanModel):
    leaders: list[str] = Field(min_length=1)
    deputies: list[str] = []
    members: list[str] = []


class Roles(PlanModel):
    working_group: WorkingGroup
    coordinator: str
    info_admins: list[str] = []


class CalendarSpec(PlanModel):
    kind: Literal["cn", "none"]
    extra_holidays: list[LaxDate] = []
    extra_workdays: list[LaxDate] = []


class Campaign(PlanModel):
    start: LaxDate
    end: LaxDate
    remind_until: LaxDate | None = None
    """Reminders and escalations go on until this day (default: `end`); the digest stops at `end`."""

    @property
    def reminders_end(self) -> date:
        return max(self.remind_until or self.end, self.end)


class Province(PlanModel):
    name: str
    email: Email


class ReminderPolicy(PlanModel):
    before: list[Annotated[int, Field(ge=0)]]
    at: ClockTime
    working_days_only: bool
    repeat_while_overdue: bool
    combine: bool = True
    """One mail per person per reminder time, a section per task (False: one mail per task).
    Plan-wide: a milestone's `reminders` cannot set it."""


class ReminderOverride(PlanModel):
    """A milestone's changes to the default reminder policy; unset keys keep the default."""

    before: list[Annotated[int, Field(ge=0)]] | None = None
    at: ClockTime | None = None
    working_days_only: bool | None = None
    repeat_while_overdue: bool | None = None


class EscalationStep(PlanModel):
    after: Annotated[int, Field(ge=1)]
    to: Refs = Field(min_length=1)


class RelativeDue(PlanModel):
    """Due a number of days after another milestone is done (section 四: "接到…3天内")."""

    milestone: str
    days: Annotated[int, Field(ge=0)]
    working_days: bool = False


class Monthly(PlanModel):
    """Due on the same day of every month between two dates (附表4: "每月1日")."""

    day: Annotated[int, Field(ge=1, le=28)]
    from_: LaxDate = Field(alias="from")
    until: LaxDate


class Milestone(PlanModel):
    title: str
    deliverable: str
    source: str
    units: Refs = Field(min_length=1)
    owners: Refs = Field(min_length=1)
    start: LaxDate | None = None
    due: LaxDate | None = None
    after: RelativeDue | None = None
    monthly: Monthly | None = None
    depends_on: list[str] = []
    completion: Literal["manual", "derived"] = "manual"
    teachers_at_least: TeacherState | None = None
    reminders: ReminderOverride | None = None
    escalation: list[EscalationStep] | None = None
    report: Literal["dept-audit", "monthly", "teacher-sheet", "working-group"] | None = None
    """The form (`cuiban report NAME`) that delivers this milestone: its reminders attach it (附表4)
    or say where to download it."""
    next_step: str | None = None
    """What the recipient does next, in the reminders' 「下一步」 line (the title when absent)."""
    note: str | None = None
    from_institution: str | None = None
    """A province plan's milestone: the id of the institutions' own milestone that delivers it
    (`form_4` ← `monthly_report`): `cuiban province sync` marks an institution's task done once the
    institution's own task for the same month is."""

    @property
    def undated(self) -> bool:
        """Explicit `due: null`: the date is still to be announced (待通知)."""
        return "due" in self.model_fields_set and self.due is None and not self.after

    @property
    def fans_out(self) -> bool:
        return ALL_DEPARTMENTS in self.units


class ScopeRule(PlanModel):
    """One rule of section 二; a roster row is in scope only if it passes every rule."""

    id: str
    field: RosterField
    reason: str
    at_least: float | int | None = None
    at_most: float | int | None = None
    in_: list[str] | None = Field(default=None, alias="in")
    not_in: list[str] | None = None


class RosterSpec(PlanModel):
    columns: dict[RosterField, str]
    scope: list[ScopeRule] = []


PROVINCE_ROSTER = {"columns": {"staff_id": "工号", "name": "姓名", "department": "所属部门"}}
"""A province plan's roster when it names none: the institutions hold the teachers, not the province."""

SyncTarget = Literal[(*PROGRESS_ORDER, "returned")]  # type: ignore[valid-type]


class SyncSpec(PlanModel):
    """The national system's status export: which columns, and what each status means."""

    columns: dict[Literal["staff_id", "status"], str]
    status_map: dict[str, SyncTarget] = Field(min_length=1)


class DigestSpec(PlanModel):
    at: ClockTime
    to: Refs = Field(min_length=1)
    cc: Refs = []


class TeacherReminders(PlanModel):
    """Reminders to the teachers themselves (opt-in): each unfinished in-scope teacher of a
    department gets a short mail `before` working days before the department's teacher
    milestone is due, while in one of `states`; at most one a day."""

    before: list[Annotated[int, Field(ge=0)]] = Field(min_length=1)
    states: list[RemindableState] = Field(min_length=1)
    """Any in-scope state, `returned` (sent back by review) among them; never excluded or left."""
    cc_collector: bool = False
    """Copy the teacher's department's collector on each teacher's mail."""


class TeacherSpec(PlanModel):
    remind: TeacherReminders | None = None


class BotSpec(PlanModel):
    """Where a group bot's secrets are: names of environment variables, `{unit}` standing for
    the unit's id in capitals (`CUIBAN_WECOM_{unit}` → `CUIBAN_WECOM_NEWS`). Never the URLs."""

    webhook_env: str = Field(pattern=r"^[A-Z][A-Z0-9_]*(\{unit\}[A-Z0-9_]*)?$")
    secret_env: str | None = Field(default=None, pattern=r"^[A-Z][A-Z0-9_]*(\{unit\}[A-Z0-9_]*)?$")
    """钉钉's signing secret (加签); 企业微信's webhook has none."""

    def variable(self, name: str, unit_id: str) -> str:
        return name.replace("{unit}", unit_id.upper())


class Bots(PlanModel):
    wecom: BotSpec = BotSpec(webhook_env="CUIBAN_WECOM_WEBHOOK_{unit}")
    dingtalk: BotSpec = BotSpec(
        webhook_env="CUIBAN_DINGTALK_WEBHOOK_{unit}", secret_env="CUIBAN_DINGTALK_SECRET_{unit}"
    )


class MailSpec(PlanModel):
    """Who messages come from and whom replies reach (CUIBAN_MAIL_FROM and CUIBAN_MAIL_REPLY_TO,
    when set, win: an operator may move mail to another account without editing the plan)."""

    sender: Email | None = None
    sender_name: str | None = None
    reply_to: Email | None = None


class Retention(PlanModel):
    """How long the personal data of a closed campaign is kept (PIPL Art. 19: no longer than the
    purpose needs): `cuiban purge` removes ID-card and phone numbers and teachers' emails once
    `campaign.end` plus `days_after_end` days have passed. Staff IDs, names, departments and the
    transition log stay: the reports and the audit trail need them."""

    days_after_end: Annotated[int, Field(ge=0, le=3650)]


class Plan(PlanModel):
    version: Literal[1]
    cycle: int
    title: str
    institution: str
    timezone: str
    language: Literal["zh", "en"] = "zh"
    level: Literal["institution", "province"] = "institution"
    """province: the plan of a 教育厅 whose units are institutions (kind institution), each running
    its own plan in the same deployment or elsewhere (docs/province.md)."""
    templates: str | None = None
    """A folder of the admin's own message templates, relative to the plan file."""
    calendar: CalendarSpec
    campaign: Campaign
    province: Province
    people: dict[str, Person]
    units: dict[str, Unit]
    roles: Roles
    reminders: ReminderPolicy
    escalation: list[EscalationStep]
    milestones: dict[str, Milestone]
    roster: RosterSpec
    sync: SyncSpec | None = None
    digest: DigestSpec
    teachers: TeacherSpec = TeacherSpec()
    bots: Bots = Bots()
    mail: MailSpec = MailSpec()
    retention: Retention | None = None
    """None: personal data is kept until the plan sets a retention period and `cuiban purge` runs."""

    @model_validator(mode="before")
    @classmethod
    def _province_roster(cls, data: Any) -> Any:
        """A province plan holds no teachers of its own: its `roster` may be left out."""
        if isinstance(data, dict) and data.get("level") == "province" and "roster" not in data:
            return {**data, "roster": PROVINCE_ROSTER}
        return data

    def reminder_policy(self, milestone_id: str) -> ReminderPolicy:
        """The defaults with this milestone's overrides applied."""
        override = self.milestones[milestone_id].reminders
        if override is None:
            return self.reminders
        return self.reminders.model_copy(update=override.model_dump(exclude_none=True))

    def escalation_ladder(self, milestone_id: str) -> list[EscalationStep]:
        own = self.milestones[milestone_id].escalation
        return self.escalation if own is None else own

    def unit_names(self, unit_refs: list[str]) -> list[str]:
        return ["各部门" if ref == ALL_DEPARTMENTS else self.units[ref].name for ref in unit_refs]

    def role_people(self, word: str) -> list[str] | None:
        """Person ids meant by a plan-level role word (`coordinator`, `group_leaders`, …), or None."""
        group = self.roles.working_group
        roles = {
            "coordinator": [self.roles.coordinator],
            "group_leaders": group.leaders,
            "group_deputies": group.deputies,
            "group_members": group.members,
            "info_admins": self.roles.info_admins,
        }
        return list(roles[word]) if word in roles else None

    def departments(self) -> list[str]:
        return [uid for uid, unit in self.units.items() if unit.kind == "department"]

    def institutions(self) -> list[str]:
        """A province plan's institutions, by unit id, in the plan's order."""
        return [uid for uid, unit in self.units.items() if unit.kind == "institution"]

    def tenant_of(self, unit_id: str) -> str:
        """The institution's id in the deployment: its `tenant`, else the unit's id."""
        return self.units[unit_id].tenant or unit_id
