"""What a new plan would change, before it is saved: upload a plan.yaml, see the coming days' mail
added, moved (old → new time) and cancelled, and the tasks whose deadline or recipients change.

The same use case as `cuiban plan diff OLD NEW --db` with the plan in use as OLD and the upload
as NEW (services.web_exports.plan_change): the database is read in a transaction that is rolled
back, and the upload is parsed from memory by the project's strict loader and not kept.
A plan with errors is answered with them, each with its line and column, as `plan check` does.
Administering (ADMINISTER): a plan is the admins' to change.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from cuiban.services import web_exports
from cuiban.services.rejection import Refusal
from cuiban.web import pages, responses
from cuiban.workflow.access import Action
from cuiban.workflow.plan.schema import Plan
from cuiban.workflow.plan_diff import PlanDiff, Planned, TaskChange
from cuiban.workflow.recipients import Recipient

router = APIRouter()
Upload = Annotated[UploadFile | None, File()]
DEFAULT_DAYS = 14
SHOWN_PROBLEMS = 200

pages.words(
    {
        "nav_plan_diff": ("计划变更预览", "Plan change preview"),
        "pd_title": ("计划变更预览", "What a plan change will do"),
        "pd_intro": (
            "上传修改后的 plan.yaml，查看它与当前计划相比，在今后几天内会新增、改期或取消哪些邮件，"
            "以及哪些任务的截止时间或收件人会改变。只是预览：不写入任何数据，上传的文件也不保存。"
            "确认无误后，管理员再在服务器上替换计划文件。",
            "Upload an edited plan.yaml to see which messages of the coming days it adds, moves or "
            "cancels compared with the plan in use, and which tasks get another deadline or recipients. "
            "A preview only: nothing is written and the file is not kept. Once it looks right, an "
            "administrator replaces the plan file on the server.",
        ),
        "pd_file": (
            "新的计划文件（plan.yaml，最大 {limit} KB）", "The new plan (plan.yaml, at most {limit} KB)"
        ),
        "pd_days": ("比较今后的天数", "Days ahead to compare"),
        "pd_button": ("上传并比较", "Upload and compare"),
        "pd_again": ("再比较一个文件", "Compare another file"),
        "pd_no_file": ("请选择要上传的计划文件。", "Choose a plan file to upload."),
        "pd_bad_days": ("天数须为 1 到 366 之间的整数。", "Days must be a whole number from 1 to 366."),
        "pd_too_large": ("{name} 超过 {limit} KB，未读取。", "{name} is larger than {limit} KB; not read."),
        "pd_errors_title": ("计划文件有错误：{name}", "The plan has errors: {name}"),
        "pd_errors_text": ("共 {count} 处错误，未作比较。请修改后重新上传。",
                           "{count} error(s); nothing was compared. Fix them and upload the file again."),
        "pd_more_errors": ("另有 {count} 处错误未列出。", "{count} more error(s) not listed."),
        "pd_line": ("行", "Line"),
        "pd_column": ("列", "Column"),
        "pd_where": ("位置", "Where"),
        "pd_problem": ("问题", "Problem"),
        "pd_result_title": ("计划变更预览：{name}", "Plan change preview: {name}"),
        "pd_window": ("比较时段：{start} 至 {until}（当前计划为旧，上传的计划为新）。",
                      "Compared from {start} to {until} (the plan in use is old, the upload new)."),
        "pd_other_cycle": (
            "注意：上传的计划是 {new} 周期，本网站使用的计划是 {old} 周期；比较按本数据库的记录进行。",
            "Note: the uploaded plan is cycle {new} and the plan in use is cycle {old}; the comparison "
            "reads this database's records.",
        ),
        "pd_no_changes": ("没有变化：今后 {days} 天内的邮件和各任务的截止时间、收件人都不变。",
                          "No changes: the next {days} days' messages and every task's deadline and "
                          "recipients stay as they are."),
        "pd_count_added": ("新增邮件", "Messages added"),
        "pd_count_moved": ("改期邮件", "Messages moved"),
        "pd_count_cancelled": ("取消邮件", "Messages cancelled"),
        "pd_count_tasks": ("变化的任务", "Tasks changed"),
        "pd_added": ("新增的邮件", "Messages added"),
        "pd_moved": ("改期的邮件", "Messages moved"),
        "pd_cancelled": ("取消的邮件", "Messages cancelled"),
        "pd_tasks": ("截止时间或收件人变化的任务", "Tasks whose deadline or recipients change"),
        "pd_at": ("时间", "Time"),
        "pd_old_at": ("原时间", "Old time"),
        "pd_new_at": ("新时间", "New time"),
        "pd_kind": ("类型", "Kind"),
        "pd_milestone": ("工作节点", "Milestone"),
        "pd_unit": ("单位", "Unit"),
        "pd_recipient": ("收件人", "Recipient"),
        "pd_slot": ("时段", "Slot"),
        "pd_change": ("变化", "Change"),
        "pd_old_due": ("原截止时间", "Old deadline"),
        "pd_new_due": ("新截止时间", "New deadline"),
        "pd_old_to": ("原收件人", "Old recipients"),
        "pd_new_to": ("新收件人", "New recipients"),
        "pd_kind_reminder": ("提醒", "reminder"),
        "pd_kind_escalation": ("升级通报", "escalation"),
        "pd_kind_digest": ("进度日报", "digest"),
        "pd_change_added": ("新任务", "added"),
        "pd_change_removed": ("取消", "removed"),
        "pd_change_changed": ("变更", "changed"),
        "pd_slot_reminder": ("提醒", "reminder"),
        "pd_slot_level": ("第 {n} 级升级", "escalation level {n}"),
        "pd_slot_before": ("截止前 {n} 个工作日", "{n} working day(s) before the deadline"),
        "pd_slot_before-0": ("截止当天", "on the deadline day"),
        "pd_slot_overdue": ("逾期提醒（{day}）", "overdue ({day})"),
    }
)


@router.get("/plan-diff")
def plan_diff_form(request: Request) -> Response:
    pages.guard(request, Action.ADMINISTER)
    return _form(request)


@router.post("/plan-diff")
def plan_diff(request: Request, file: Upload = None, days: str = Form(str(DEFAULT_DAYS))) -> Response:
    """Parse the upload, compare, show; nothing written, nothing kept."""
    pages.guard(request, Action.ADMINISTER)
    if file is None or not file.filename:
        return _form(request, pages.translate(request, "pd_no_file"))
    wanted = days.strip()[:4]
    if not (wanted.isascii() and wanted.isdecimal()) or int(wanted) not in web_exports.DAYS:
        return _form(request, pages.translate(request, "pd_bad_days"))
    ctx = pages.context_of(request)
    name = _shown_name(file.filename)
    try:
        change = web_exports.plan_change(ctx.engine, (ctx.plan, ctx.calendar), file.file, name,
                                         pages.now_of(request), int(wanted))
    except web_exports.PlanTooLarge:
        return _form(request, pages.translate(request, "pd_too_large", name=name, limit=_limit_kb()))
    except Refusal as refusal:
        return _form(request, str(refusal))
    if change.diff is None or change.new is None:
        problems = change.problems
        return pages.page(request, "plan_diff.html", status=400, file_name=name,
                          problems=problems[:SHOWN_PROBLEMS], more=max(0, len(problems) - SHOWN_PROBLEMS),
                          count=len(problems), result=None, refusal=None, days=int(wanted), limit=_limit_kb())
    shown = _result(request, ctx.plan, change.new, change.diff)
    return pages.page(request, "plan_diff.html", file_name=name, problems=[], more=0, count=0, result=shown,
                      refusal=None, days=int(wanted), limit=_limit_kb(), new_cycle=change.new.cycle)


def _form(request: Request, refusal: str | None = None) -> Response:
    return pages.page(request, "plan_diff.html", status=400 if refusal else 200, file_name="", problems=[],
                      more=0, count=0, result=None, refusal=refusal, days=DEFAULT_DAYS, limit=_limit_kb())


def _limit_kb() -> int:
    return web_exports.MAX_PLAN_BYTES // 1024


def _shown_name(filename: str) -> str:
    """The file's own name (no folders), printable, short: it is only shown."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(c for c in base if c.isprintable())[:100] or "plan.yaml"


def _result(request: Request, old: Plan, new: Plan, diff: PlanDiff) -> dict[str, Any]:
    """The diff as rows of words: names and titles (never addresses), times in the plan's zone."""
    at = responses.shown_at(request)

    def named(p: Planned) -> dict[str, str]:
        return {
            "kind": responses.word(request, "pd_kind_", p.kind),
            "milestone": _milestone(old, new, p.milestone_id),
            "unit": _unit(old, new, p.unit_id),
            "recipient": p.recipient.name,
            "slot": _slot(request, p.slot),
        }

    return {
        "start": at(diff.start),
        "until": at(diff.until),
        "counts": {"added": len(diff.added), "moved": len(diff.moved), "cancelled": len(diff.cancelled),
                   "tasks": len(diff.tasks)},
        "added": [{**named(p), "at": at(p.at)} for p in diff.added],
        "moved": [{**named(m.new), "old_at": at(m.old.at), "new_at": at(m.new.at)} for m in diff.moved],
        "cancelled": [{**named(p), "at": at(p.at)} for p in diff.cancelled],
        "tasks": [_task(request, old, new, change) for change in diff.tasks],
    }


def _task(request: Request, old: Plan, new: Plan, change: TaskChange) -> dict[str, str]:
    at = responses.shown_at(request)
    return {
        "change": responses.word(request, "pd_change_", change.change),
        "milestone": _milestone(old, new, change.milestone_id),
        "unit": _unit(old, new, change.unit_id),
        "old_due": at(change.old_due) or "—",
        "new_due": at(change.new_due) or "—",
        "old_to": _told(request, change.old_to),
        "new_to": _told(request, change.new_to),
    }


def _told(request: Request, told: dict[str, tuple[Recipient, ...]]) -> str:
    """Who is told at each stage, by name: 提醒 王立新；第 1 级升级 …"""
    shown = [f"{_slot(request, slot)} {'、'.join(r.name for r in people)}" for slot, people in told.items()
             if people]
    return "；".join(shown) or "—"


def _slot(request: Request, slot: str) -> str:
    """A slot in words: before-2, overdue-2016-12-20, level-1, reminder; any other (a digest's) as it is."""
    kind, _, rest = slot.partition("-")
    if kind in ("level", "before") and rest.isdecimal() and slot != "before-0":
        return pages.translate(request, f"pd_slot_{kind}", n=rest)
    if kind == "overdue" and rest:
        return pages.translate(request, "pd_slot_overdue", day=rest)
    return responses.word(request, "pd_slot_", slot)


def _milestone(old: Plan, new: Plan, milestone_id: str) -> str:
    found = new.milestones.get(milestone_id) or old.milestones.get(milestone_id)
    return found.title if found else milestone_id


def _unit(old: Plan, new: Plan, unit_id: str) -> str:
    found = new.units.get(unit_id) or old.units.get(unit_id)
    return found.name if found else unit_id
