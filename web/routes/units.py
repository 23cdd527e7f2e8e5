"""A department's page (its unfinished teachers, tasks, figures and evidence files), marking its manual
tasks done with an optional evidence file, and downloading an evidence file.

Each route guards first (VIEW_UNIT to see a unit, ACT_UNIT to act for it; an evidence file is
guarded by the unit that handed it in), then calls one service. A file comes back only as a
download (attachment, its checked type, nosniff, a sandbox policy), found by its id alone.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from cuiban.notifications.labels import state_label
from cuiban.services import department
from cuiban.services import evidence as evidence_service
from cuiban.services.rejection import Refusal
from cuiban.services.tasks import AlreadyDone, DerivedTask, TaskNotFound
from cuiban.web import pages, responses
from cuiban.workflow.access import Action, decide

router = APIRouter()

pages.words(
    {
        "unit_goal": ("当前目标：教职工达到“{state}”", "Working towards: every teacher {state}"),
        "unit_teachers": ("在采集范围内教职工", "Teachers in scope"),
        "unit_done": ("已完成", "Done"),
        "unit_missing": ("未完成", "Not yet"),
        "unit_downloads": ("下载本部门报表", "This department's forms"),
        "unit_dept_audit": ("附表6 数据审核报表（xlsx）", "附表6 data audit report (xlsx)"),
        "unit_teacher_sheet": ("附表5 教师信息审核表（xlsx）", "附表5 teacher sheets (xlsx)"),
        "unit_tasks": ("本单位任务", "Tasks"),
        "unit_col_task": ("任务", "Task"),
        "unit_col_due": ("截止时间", "Due"),
        "unit_col_state": ("状态", "State"),
        "unit_col_level": ("通报级别", "Escalation"),
        "unit_col_completed": ("完成", "Completed"),
        "unit_col_action": ("办理", "Action"),
        "unit_undated": ("待通知", "to be announced"),
        "unit_level": ("第 {n} 级", "level {n}"),
        "unit_derived": ("按教职工状态自动完成", "completes by the teachers' states"),
        "unit_completed_by": ("{at}（{who}）", "{at} ({who})"),
        "unit_note": ("说明（可不填）", "Note (optional)"),
        "unit_evidence_file": (
            "证明材料（可不传；PDF、PNG 或 JPEG 图片、Excel（.xlsx）或 Word（.docx），不含宏，不超过 10 MB）",
            "Evidence (optional; PDF, a PNG or JPEG picture, Excel (.xlsx) or Word (.docx) without macros, "
            "at most 10 MB)",
        ),
        "unit_mark_done": ("标记完成", "Mark done"),
        "unit_unfinished": ("未完成的教职工", "Teachers not there yet"),
        "unit_unfinished_none": ("本单位教职工都已达到当前目标。", "Every teacher here has got there."),
        "unit_col_staff_id": ("工号", "Staff ID"),
        "unit_col_name": ("姓名", "Name"),
        "unit_col_teacher_state": ("填报状态", "State"),
        "unit_and_more": ("另有 {n} 人未列出。", "and {n} more not listed."),
        "unit_correction": ("申请更正已上报的信息", "Ask to correct a reported record"),
        "unit_correction_help": (
            "教职工信息已上报后发现有误，输入其工号申请更正，由教师发展中心审批。",
            "A record reported with a mistake: enter the staff ID to ask for a correction; the teacher "
            "development centre decides.",
        ),
        "unit_correction_go": ("填写更正申请", "Fill in a request"),
        "unit_evidence": ("已提交的证明材料", "Evidence handed in"),
        "unit_evidence_none": ("还没有提交证明材料。", "No evidence handed in yet."),
        "unit_col_file": ("文件", "File"),
        "unit_col_size": ("大小", "Size"),
        "unit_col_uploaded": ("提交", "Handed in"),
        "unit_task_upcoming": ("未开始", "upcoming"),
        "unit_task_open": ("进行中", "open"),
        "unit_task_overdue": ("已逾期", "overdue"),
        "unit_task_done": ("已完成", "done"),
        "unit_task_done_late": ("逾期完成", "done late"),
        "unit_marked": ("已标记完成：{task}（{state}）。", "Marked done: {task} ({state})."),
        "unit_marked_with_file": (
            "已标记完成：{task}（{state}），证明材料“{file}”已保存。",
            "Marked done: {task} ({state}); the evidence “{file}” is kept.",
        ),
        "unit_refused_already": ("“{task}”已经完成，无需再次标记。", "“{task}” is done already."),
        "unit_refused_derived": (
            "“{task}”在本单位教职工都达到要求后自动完成，不能手动标记。",
            "“{task}” completes by itself when the unit's teachers get there; it cannot be marked by hand.",
        ),
        "unit_refused_unknown": ("没有这项任务：{task}。", "No such task: {task}."),
        "unit_refused_other": ("未能标记完成：{why}", "Could not mark it done: {why}"),
        "ev_too_big": (
            "证明材料不能超过 {limit} MB，这个文件更大；请压缩或拆分后重新上传。任务未标记完成。",
            "Evidence may be at most {limit} MB and this file is larger; compress or split it and try again. "
            "The task was not marked done.",
        ),
        "ev_empty": (
            "上传的文件是空的，请重新选择文件。任务未标记完成。",
            "The file uploaded is empty; choose the file again. The task was not marked done.",
        ),
        "ev_type": (
            "只能上传 {allowed} 文件；这个文件的内容不是其中任何一种。任务未标记完成。",
            "Only {allowed} files are accepted, and this file's content is none of them. "
            "The task was not marked done.",
        ),
        "ev_macro": (
            "含有宏的 Office 文件不能上传；请另存为不含宏的 Excel（.xlsx）或 Word（.docx）后重新上传。"
            "任务未标记完成。",
            "Office files with macros are not accepted; save it as a workbook (.xlsx) or document (.docx) "
            "without macros and try again. The task was not marked done.",
        ),
        "ev_name": (
            "文件内容是 {kind}，但文件名的扩展名是“{suffix}”；请改为 {expected} 后重新上传。任务未标记完成。",
            "The file's content is {kind} but its name ends in “{suffix}”; rename it to {expected} and try "
            "again. The task was not marked done.",
        ),
    }
)

def known_unit(request: Request, unit_id: str) -> None:
    """404 for a unit the plan does not have (once signed in: nobody learns anything before that)."""
    if unit_id in pages.context_of(request).plan.units:
        return
    if not pages.session_of(request).signed_in:
        raise pages.SignInNeeded(request.url.path)
    raise HTTPException(404)


@router.get("/units/{unit_id}")
def unit_page(request: Request, unit_id: str) -> Response:
    known_unit(request, unit_id)
    me = pages.guard(request, Action.VIEW_UNIT, unit_id)
    ctx = pages.context_of(request)
    found = department.unit_page(ctx.engine, ctx.plan, unit_id)
    language = pages.language(request)
    return pages.page(
        request,
        "unit.html",
        unit=found,
        can_act=decide(ctx.plan, me, Action.ACT_UNIT, unit_id).allowed,
        is_department=found.kind == "department",
        teacher_state=lambda state: state_label(language, state),
        shown_at=responses.shown_at(request),
        person_name=lambda person: responses.person_name(ctx.plan, person),
        size_of=size_of,
    )


@router.post("/units/{unit_id}/tasks/{milestone}/done")
def mark_done(
    request: Request,
    unit_id: str,
    milestone: str,
    note: Annotated[str, Form()] = "",
    evidence: Annotated[UploadFile | None, File()] = None,
) -> Response:
    known_unit(request, unit_id)
    me = pages.guard(request, Action.ACT_UNIT, unit_id)
    ctx = pages.context_of(request)
    upload = None
    if evidence is not None and evidence.filename:  # a form sent with no file chosen has an empty name
        upload = evidence_service.Upload(evidence.filename, evidence.file)
    spec = ctx.plan.milestones.get(milestone)
    here = f"/units/{unit_id}"
    if spec is None:  # no such task, whatever the URL holds: answered without asking the database
        refused = pages.translate(request, "unit_refused_unknown", task=milestone[:80])
        return pages.back(request, here, refused)
    task = spec.title
    try:
        done = evidence_service.complete(
            ctx.engine, ctx.plan, ctx.calendar, ctx.evidence_dir, milestone, unit_id, pages.now_of(request),
            actor=me, note=note.strip()[:2000] or None, upload=upload,
        )
    except evidence_service.EvidenceRefused as refused:
        return pages.back(request, here, pages.translate(request, f"ev_{refused.reason}", **refused.values))
    except Refusal as refused:
        key = {AlreadyDone: "already", DerivedTask: "derived", TaskNotFound: "unknown"}.get(type(refused))
        if key is None:
            return pages.back(request, here, pages.translate(request, "unit_refused_other", why=str(refused)))
        return pages.back(request, here, pages.translate(request, f"unit_refused_{key}", task=task))
    except ValueError as refused:  # the log's order (an event dated before the last): its own sentence
        return pages.back(request, here, pages.translate(request, "unit_refused_other", why=str(refused)))
    state = pages.translate(request, f"unit_task_{done.state}")
    if upload is None:
        return pages.back(request, here, pages.translate(request, "unit_marked", task=task, state=state))
    message = pages.translate(
        request, "unit_marked_with_file", task=task, state=state, file=evidence_service.label_of(upload.name)
    )
    return pages.back(request, here, message)


@router.get("/evidence/{evidence_id}")
def evidence_file(request: Request, evidence_id: str) -> Response:
    """An evidence file, by id, to the people who may see its unit: always a download. The record is read
    once, and nothing of it leaves before the guard of its unit."""
    ctx = pages.context_of(request)
    number = responses.record_id(evidence_id)
    found, unit = None, None
    if number is not None:
        try:
            found = evidence_service.download(ctx.engine, ctx.evidence_dir, number)
            unit = found.unit_id
        except evidence_service.EvidenceNotFound as missing:
            unit = missing.unit
    if unit is None:  # an unknown id: 403 (logged) unless one may see every unit
        pages.guard(request, Action.VIEW_ALL)
    else:
        pages.guard(request, Action.VIEW_UNIT, unit)
    if found is None:
        raise HTTPException(404)
    headers = responses.download_headers(found.file_name)
    return FileResponse(found.path, media_type=found.content_type, headers=headers)


def size_of(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{max(size // 1024, 1)} KB"
