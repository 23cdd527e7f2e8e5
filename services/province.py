"""The province's use cases (`cuiban province …`): its 附表4 from the institutions' own, an uploaded 附表4
stored, and the province tasks that the institutions' own tasks deliver marked done.

The province is a plan of its own (`level: province`) whose units are institutions. An institution that
runs in the same PostgreSQL deployment has a schema here: its figures are read there, with its own plan,
by the very function its own `cuiban report monthly` uses (`services.reports.monthly`), so the two
cannot disagree. An institution that runs elsewhere sends its 附表4, whose figures are kept in the
province's own schema. Nothing here writes to an institution's schema: the province only reads it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, Engine

from cuiban.models import log_store, province_store, task_store
from cuiban.models.unit_of_work import transaction
from cuiban.reports import context as contexts
from cuiban.reports.catalog import PROVINCE_REPORT
from cuiban.reports.monthly_read import UnreadableForm, monthly_cells
from cuiban.reports.output import write
from cuiban.services import reports
from cuiban.services.rejection import Refusal
from cuiban.services.tasks import list_tasks, mark_done
from cuiban.workflow.calendar import WorkingCalendar
from cuiban.workflow.clock import local_date, local_iso
from cuiban.workflow.forms import Stage
from cuiban.workflow.plan.schema import Plan
from cuiban.workflow.province import (
    OWN,
    UPLOAD,
    InstitutionLine,
    ProvinceMonthly,
    ProvinceRefusal,
    delivered_at,
    deliveries,
    month_label,
    report_moment,
    say,
)
from cuiban.workflow.province_upload import BadForm, uploaded_form
from cuiban.workflow.task_machine import FINISHED

ACTOR = "province"
"""Who marks the province's tasks done in its log when the institutions' own tasks were."""


@dataclass(frozen=True)
class Institutions:
    """Where the province reads its institutions: the database as each sees it (its schema), and each
    one's plan (the plans folder's `<id>.yaml`; None when there is none). Given by the composition root."""

    open: Callable[[str], Engine]
    plan_of: Callable[[str], Plan | None]

    @contextmanager
    def reading(self, tenant: str) -> Iterator[Connection]:
        """A connection to the institution's schema, closed after: a province of a hundred institutions
        must not keep a pooled connection to each (PostgreSQL allows a hundred by default)."""
        engine = self.open(tenant)
        try:
            with engine.connect() as connection:
                yield connection
        finally:
            engine.dispose()  # the engine stays usable: only its idle connections are closed


def require_province(plan: Plan) -> None:
    if plan.level != "province":
        raise Refusal(
            f"{plan.institution}'s plan is an institution's (level: institution); the province commands need "
            "the province's plan (level: province, units of kind institution: see docs/province.md)"
        )


def require_tenancy(engine: Engine) -> None:
    """The commands that read institutions' own data need them in one PostgreSQL database."""
    if engine.dialect.name != "postgresql":
        raise Refusal(
            "reading the institutions' own data needs PostgreSQL with the institutions as tenants "
            "(--institution, $CUIBAN_PLANS); a SQLite database holds one institution"
        )


# ── the province's 附表4 ──


def monthly_table(
    engine: Engine, plan: Plan, institutions: Institutions, now: datetime, month: str | None = None
) -> ProvinceMonthly:
    """附表4 全省汇总 of `month` (2016-12; default the month of `now`), as of its end or `now` if earlier."""
    require_province(plan)
    try:
        key, moment = report_moment(month, now, plan.timezone, plan.language)
    except ProvinceRefusal as error:
        raise Refusal(str(error)) from None
    with engine.connect() as connection:
        hosted = province_store.hosted(connection)
        uploads = province_store.for_month(connection, key)
    lines = [_line(plan, uid, hosted, uploads.get(uid), institutions, moment) for uid in plan.institutions()]
    filler = plan.people[plan.roles.coordinator]
    today = local_date(now, plan.timezone)
    return ProvinceMonthly(
        plan.institution, month_label(key), filler.name, filler.office_phone or "", today, lines
    )


def _line(
    plan: Plan,
    uid: str,
    hosted: frozenset[str],
    upload: dict | None,
    institutions: Institutions,
    moment: datetime,
) -> InstitutionLine:
    """One institution's figures: its own data here, else its upload of the month, else none (未报送)."""
    name, tenant, lang = plan.units[uid].name, plan.tenant_of(uid), plan.language
    if tenant in hosted:
        theirs = institutions.plan_of(tenant)
        if theirs is None:
            note = say(lang, f"本系统有其数据，但计划文件夹中没有 {tenant}.yaml", f"no plan {tenant}.yaml")
            return InstitutionLine(uid, name, None, note=note)
        with institutions.reading(tenant) as connection:
            own = reports.monthly(connection, theirs, moment)
        note = say(lang, "尚未导入教师名单", "no roster imported yet") if own.entry.total == 0 else ""
        return InstitutionLine(
            uid, name, OWN, own.entry, own.review, local_date(moment, plan.timezone), note=note
        )
    if upload is None:
        return InstitutionLine(
            uid, name, None, note=say(lang, "未上传本月附表4", "no 附表4 uploaded this month")
        )
    entry = Stage(upload["entry_total"], upload["entry_done"], [], upload["entry_completed_on"])
    review = Stage(upload["review_total"], upload["review_done"], [], upload["review_completed_on"])
    received = local_date(upload["uploaded_at"], plan.timezone)
    return InstitutionLine(
        uid, name, UPLOAD, entry, review, upload["filled_on"] or received, upload["file_name"], received
    )


def default_name(plan: Plan, table: ProvinceMonthly, fmt: str) -> str:
    """附表4_全省汇总_河北省教育厅_2016年12月.xlsx."""
    return f"{PROVINCE_REPORT[1]}_{plan.institution}_{table.month}.{fmt}"


def write_table(
    table: ProvinceMonthly, plan: Plan, fmt: str, output: Path | None, override: Path | None = None
) -> Path:
    """The province's 附表4 as a file (-o, else its default name in the working folder)."""
    from cuiban.reports.pdf import NoConverter

    target = output or Path(default_name(plan, table, fmt))
    if target.is_dir():
        target = target / default_name(plan, table, fmt)
    try:
        return write(PROVINCE_REPORT[0], contexts.province_monthly(table), fmt, target, None, override)
    except NoConverter as error:
        raise Refusal(str(error)) from None


# ── an institution's uploaded 附表4 ──


@dataclass(frozen=True)
class Uploaded:
    unit_id: str
    name: str
    month: str
    file_name: str
    replaced: str | None
    """The upload of the same month it replaced (its file and day), if any."""


def upload(engine: Engine, plan: Plan, unit: str, path: Path, now: datetime) -> Uploaded:
    """Store the figures of institution `unit`'s 附表4 (an xlsx as cuiban writes it) for the form's month,
    replacing an earlier upload of that month; a file that does not add up is refused, nothing stored."""
    require_province(plan)
    uid = institution_of(plan, unit)
    spec, lang = plan.units[uid], plan.language
    with engine.connect() as connection:
        hosted = province_store.hosted(connection)
    if plan.tenant_of(uid) in hosted:
        raise Refusal(
            say(
                lang,
                f"{spec.name}在本系统中运行：其附表4来自它自己的数据，无需上传；未保存任何内容",
                f"{spec.name} runs in this deployment: its 附表4 comes from its own data; nothing was stored",
            )
        )
    try:
        form = uploaded_form(monthly_cells(path), path.name, [spec.name, *spec.aliases], lang)
    except UnreadableForm as error:
        raise Refusal(_unreadable(path.name, error.reason, lang)) from None
    except BadForm as error:
        raise Refusal(str(error)) from None
    row = {
        "unit_id": uid, "month": form.month, "file_name": path.name, "uploaded_at": now,
        "filled_on": form.filled_on, "entry_total": form.entry.total, "entry_done": form.entry.done,
        "entry_completed_on": form.entry.completed_on, "review_total": form.review.total,
        "review_done": form.review.done, "review_completed_on": form.review.completed_on,
    }  # fmt: skip
    with transaction(engine) as connection:
        old = province_store.replace(connection, row)
    replaced = f"{old['file_name']} of {local_date(old['uploaded_at'], plan.timezone)}" if old else None
    return Uploaded(uid, spec.name, month_label(form.month), path.name, replaced)


def institution_of(plan: Plan, given: str) -> str:
    """The institution's unit id, from its id, tenant id, name or an alias."""
    for uid in plan.institutions():
        unit = plan.units[uid]
        if given in (uid, plan.tenant_of(uid), unit.name, *unit.aliases):
            return uid
    known = "、".join(f"{uid}（{plan.units[uid].name}）" for uid in plan.institutions())
    raise Refusal(
        say(
            plan.language,
            f"{given} 不是计划中的高校（{known}）",
            f"{given} is not an institution of the plan ({known})",
        )
    )


def _unreadable(name: str, reason: str, lang: str) -> str:
    zh, en = {
        "too_large": ("文件过大，不是附表4", "the file is too large to be a 附表4"),
        "not_xlsx": ("不是 Excel 工作簿（.xlsx）", "not an Excel workbook (.xlsx)"),
        "no_sheet": ("没有名为「附表4」的工作表", "has no sheet named 附表4"),
    }[reason]
    hint = say(
        lang, "请上传 cuiban report monthly 生成的附表4", "upload the 附表4 cuiban report monthly writes"
    )
    return say(lang, f"{name}：{zh}；{hint}", f"{name}: {en}; {hint}")


# ── province tasks delivered by the institutions' own ──


@dataclass(frozen=True)
class Synced:
    key: str
    name: str
    state: str
    """done, or done_late."""
    delivered: str
    """The institution's own task's completion, in the plan's timezone."""


@dataclass(frozen=True)
class SyncDone:
    marked: list[Synced]
    skipped: list[str]
    """Institutions whose own data is not here (they run elsewhere, or have no plan in the folder)."""


def sync(
    engine: Engine, plan: Plan, calendar: WorkingCalendar, institutions: Institutions, now: datetime
) -> SyncDone:
    """Mark each open province task done whose institution's own matching task (`from_institution`, the
    same month) is done by `now`, through `cuiban task done`'s service; idempotent (a done task is left)."""
    require_province(plan)
    require_tenancy(engine)
    pairs = deliveries(plan)
    if not pairs:
        raise Refusal("no milestone of the plan names from_institution: there is nothing to sync")
    with engine.connect() as connection:
        hosted = province_store.hosted(connection)
    waiting = [t for t in list_tasks(engine, plan, calendar, now) if t.milestone_id in pairs]
    waiting = [t for t in waiting if t.state not in FINISHED]
    marked, skipped = [], []
    for uid in plan.institutions():
        tenant = plan.tenant_of(uid)
        theirs = institutions.plan_of(tenant) if tenant in hosted else None
        if theirs is None:
            skipped.append(plan.units[uid].name)
            continue
        with institutions.reading(tenant) as connection:
            own = task_store.states(connection, set(pairs.values()), cycle=theirs.cycle)
        for task in (t for t in waiting if t.unit_id == uid):
            mine = [s for s in own if s.milestone_id == pairs[task.milestone_id]]
            at = delivered_at(mine, task.occurrence, now)
            if at is not None:
                marked.append(_mark(engine, plan, calendar, task.milestone_id, uid, task.occurrence, at))
    return SyncDone(marked, skipped)


def _mark(
    engine: Engine,
    plan: Plan,
    calendar: WorkingCalendar,
    milestone: str,
    uid: str,
    occurrence: str,
    at: datetime,
) -> Synced:
    """Done as of the institution's own completion (on time if that was), or as of the province task's
    last log entry when the province's record had moved on since (its log is written in order)."""
    key = "/".join(p for p in (milestone, uid, occurrence) if p)
    with engine.connect() as connection:
        last = log_store.last_at(connection, "task", key)
    delivered = local_iso(at, plan.timezone) or ""
    note = f"{plan.tenant_of(uid)}: {plan.milestones[milestone].from_institution} done {delivered}"
    when = max(at, last) if last is not None else at
    state = mark_done(
        engine, plan, calendar, milestone, uid, when, occurrence=occurrence, actor=ACTOR, note=note
    )
    return Synced(key, plan.units[uid].name, state, delivered)
