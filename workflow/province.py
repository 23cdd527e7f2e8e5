"""The province's view as domain: the province's 附表4 from its institutions' own, a province plan's rules,
and which institution task delivers which province task.

A 教育厅 asks every 高校 for the same forms; cuiban runs the province as a plan of its own
(`level: province`) whose units are the institutions. The figures of its 附表4 (全省汇总) come from each
institution's own 附表4, read where the institution's data is (its schema in the same deployment, or
the form it uploaded when it runs elsewhere); an institution with neither is 未报送 and never counted
as zero. The 合计 row is the sum of the lines above it and of nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

import pendulum

from cuiban.workflow.clock import end_of_day, local_date, start_of_day
from cuiban.workflow.forms import Stage
from cuiban.workflow.plan.findings import Finding
from cuiban.workflow.plan.schema import ALL_DEPARTMENTS, Plan
from cuiban.workflow.task_machine import FINISHED
from cuiban.workflow.tasks import TaskState

OWN, UPLOAD = "own", "upload"
"""Where a line's figures come from: the institution's data in this deployment, or its uploaded form."""
SOURCE_LABELS = {OWN: "本系统", UPLOAD: "上传", None: "未报送"}
MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class ProvinceRefusal(ValueError):
    """A province request that cannot be met (a month not begun, a malformed month): one sentence."""


def say(language: str, zh: str, en: str) -> str:
    """The sentence in the plan's language (zh unless en)."""
    return en if language == "en" else zh


# ── the province's 附表4 ──


@dataclass(frozen=True)
class InstitutionLine:
    """One institution's line of the province's 附表4."""

    unit_id: str
    name: str
    source: str | None
    """OWN, UPLOAD, or None: 未报送 (no figures at all)."""
    entry: Stage | None = None
    review: Stage | None = None
    as_of: date | None = None
    """The day the figures are of: the moment read (own data) or the form's 填表日期 (an upload)."""
    file_name: str | None = None
    """An upload's file."""
    received_on: date | None = None
    """The day an upload came."""
    note: str = ""
    """Why a line has no figures, or anything else the province should know about it."""


@dataclass(frozen=True)
class ProvinceMonthly:
    """附表4 全省汇总: the province's table of its institutions' 附表4 for one month."""

    province: str
    month: str
    """年月, e.g. 2016年12月."""
    filler: str
    phone: str
    filled_on: date
    lines: list[InstitutionLine]

    @property
    def reported(self) -> list[InstitutionLine]:
        return [line for line in self.lines if line.source is not None]

    @property
    def entry(self) -> Stage:
        """合计 of entry: the sum of the reported lines."""
        return summed(line.entry for line in self.reported if line.entry is not None)

    @property
    def review(self) -> Stage:
        return summed(line.review for line in self.reported if line.review is not None)


def summed(stages: Iterable[Stage]) -> Stage:
    """Stages added up; complete on the day the last of them was, when every one is."""
    stages = list(stages)
    total = Stage(sum(s.total for s in stages), sum(s.done for s in stages))
    days = [s.completed_on for s in stages]
    if total.complete and all(days):
        return Stage(total.total, total.done, [], max(d for d in days if d))
    return total


def percent(stage: Stage | None) -> str:
    """Done of total as 87.5%; a dash when there is nothing to divide."""
    if stage is None or stage.total == 0:
        return "—"
    return f"{100 * stage.done / stage.total:.1f}%"


def report_moment(month: str | None, now: datetime, tz: str, language: str = "zh") -> tuple[str, datetime]:
    """The month (2016-12) and the moment its figures are read at: the month's end, or `now` when that
    is earlier; the month of `now` when none is given. A month that has not begun is refused."""
    if month is None:
        return local_date(now, tz).strftime("%Y-%m"), now
    match = MONTH.match(month)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ProvinceRefusal(
            say(
                language,
                f"--month {month} 不是年月：请写成 2016-12",
                f"--month {month} is not a month: write 2016-12",
            )
        )
    first = pendulum.date(int(match.group(1)), int(match.group(2)), 1)
    if start_of_day(first, tz) > now:
        shown = local_date(now, tz).isoformat()
        raise ProvinceRefusal(
            say(
                language,
                f"{month} 还没有开始（现在是 {shown}）",
                f"{month} has not begun (it is {shown} now)",
            )
        )
    return month, min(end_of_day(first.end_of("month"), tz), now)


def month_label(month: str) -> str:
    """2016-12 → 2016年12月, the forms' 年月."""
    year, number = month.split("-")
    return f"{int(year)}年{int(number)}月"


# ── province tasks delivered by the institutions' own ──


def deliveries(plan: Plan) -> dict[str, str]:
    """Province milestone → the institutions' own milestone that delivers it (`from_institution`)."""
    return {mid: m.from_institution for mid, m in plan.milestones.items() if m.from_institution}


def delivered_at(theirs: Iterable[TaskState], occurrence: str, now: datetime) -> datetime | None:
    """When the institution's own milestone was done for a province task's `occurrence`: the last of its
    tasks for the same month (a one-off task: its one-off tasks) to finish, once all had by `now`."""
    matching = [t for t in theirs if t.occurrence[:7] == occurrence[:7]]
    finished = [t.completed_at for t in matching if t.state in FINISHED and t.completed_at is not None]
    if not matching or len(finished) < len(matching) or max(finished) > now:
        return None
    return max(finished)


# ── the rules of a province plan (and of institution plans about it) ──


def province_findings(plan: Plan) -> Iterator[Finding]:
    """Errors of the province keys: institutions only in a province plan, which has no departments and
    no teachers of its own (its tasks are done by hand or by `cuiban province sync`)."""
    zh = plan.language != "en"
    province = plan.level == "province"
    tenants: dict[str, str] = {}
    for uid, unit in plan.units.items():
        if unit.kind == "institution" and not province:
            yield Finding(("units", uid, "kind"), _words(zh, "institution_unit"))
        if unit.kind == "department" and province:
            yield Finding(("units", uid, "kind"), _words(zh, "province_department"))
        if unit.tenant is not None and unit.kind != "institution":
            yield Finding(("units", uid, "tenant"), _words(zh, "tenant_kind"))
        if unit.kind == "institution":
            tenant = plan.tenant_of(uid)
            if tenant in tenants:
                yield Finding(("units", uid, "tenant"), _words(zh, "tenant_twice", other=tenants[tenant]))
            tenants.setdefault(tenant, uid)
    for mid, milestone in plan.milestones.items():
        path = ("milestones", mid)
        if milestone.from_institution and not province:
            yield Finding((*path, "from_institution"), _words(zh, "from_institution"))
        if province and milestone.completion == "derived":
            yield Finding((*path, "completion"), _words(zh, "province_derived"))
        if province and ALL_DEPARTMENTS in milestone.units:
            i = milestone.units.index(ALL_DEPARTMENTS)
            yield Finding((*path, "units", i), _words(zh, "province_department"))


_PLAN_WORDS = {
    "institution_unit": (
        "高校（kind: institution）只能是省级计划（level: province）的单位",
        "an institution (kind: institution) is a unit of a province plan (level: province) only",
    ),
    "province_department": (
        "省级计划的单位是高校（kind: institution）或省厅的处室（office），没有院系",
        "a province plan's units are institutions (kind: institution) or offices, never departments",
    ),
    "tenant_kind": (
        "tenant 只用于高校（kind: institution）",
        "tenant is for institutions (kind: institution)",
    ),
    "tenant_twice": ("与 units.{other} 的 tenant 相同", "the same tenant as units.{other}"),
    "from_institution": (
        "from_institution 只用于省级计划（level: province）",
        "from_institution belongs in a province plan (level: province)",
    ),
    "province_derived": (
        "省级计划没有自己的教师：任务由人工或 cuiban province sync 标记完成（completion: manual）",
        "a province plan has no teachers of its own: its tasks are marked done by hand or by "
        "cuiban province sync (completion: manual)",
    ),
}


def _words(zh: bool, key: str, **fields: str) -> str:
    chinese, english = _PLAN_WORDS[key]
    return (chinese if zh else english).format(**fields)
