"""Roster and status-export uploads: preview first (every bad row, or what would change), then confirm.

The preview and the confirmation run the command line's services (`roster import`,
`sync`), with `dry_run=True` and then for real; `services.uploads` keeps the file between
the two under a random id. Uploaded files are never served back.
"""

from __future__ import annotations

from typing import Annotated

import pendulum
from fastapi import APIRouter, File, Form, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from cuiban.notifications.labels import state_label
from cuiban.services import uploads
from cuiban.services.rejection import FileRejected, Refusal, said
from cuiban.web import pages
from cuiban.workflow.access import Action
from cuiban.workflow.roster import RowProblem

router = APIRouter()

pages.words(
    {
        "up_title": ("上传名单与状态导出", "Uploads"),
        "up_intro": (
            "上传的文件先预览：列出每一处错误，或列出将要导入、更新、排除的人数；确认后才写入。",
            "An upload is previewed first: every bad row, or what would be imported, updated or excluded; "
            "nothing is written until you confirm.",
        ),
        "up_roster": ("人事处教职工名单", "HR's roster"),
        "up_roster_help": (
            "《教师用户导入模板》：.xlsx、.xls 或 .csv（任何中文编码均可），最大 {limit} MB。",
            "The 教师用户导入模板: .xlsx, .xls or .csv (any Chinese encoding), at most {limit} MB.",
        ),
        "up_status": ("全国系统状态导出", "Status export of the national system"),
        "up_status_help": (
            "全国教师管理信息系统导出的填报状态：.xlsx、.xls 或 .csv，最大 {limit} MB。",
            "The national system's export of statuses: .xlsx, .xls or .csv, at most {limit} MB.",
        ),
        "up_file": ("文件", "File"),
        "up_mark_left": ("名单中没有的教职工标记为已离职", "Mark teachers missing from the roster as left"),
        "up_as_of": ("导出日期（可不填）", "Exported on (optional)"),
        "up_as_of_help": (
            "不填时按文件名中的日期（如 status-2016-12-05.csv），文件名没有日期则按上传时间。",
            "Left empty: the date in the file's name (e.g. status-2016-12-05.csv), else the time of upload.",
        ),
        "up_force": ("即使比已导入的导出更早，也要应用", "Apply even if it is older than an export applied"),
        "up_force_warning": (
            "注意：应用较早的导出会把已经前进的状态退回。只有确知文件日期有误时才勾选。",
            "Careful: an older export walks records back. Tick this only when you know the file's date "
            "is wrong.",
        ),
        "up_preview_button": ("上传并预览", "Upload and preview"),
        "up_preview_title": ("预览：{name}", "Preview: {name}"),
        "up_preview_intro": (
            "以下是确认后将发生的变化，目前尚未写入任何数据。",
            "This is what confirming would do; nothing has been written yet.",
        ),
        "up_confirm": ("确认写入", "Confirm and apply"),
        "up_cancel": ("放弃", "Cancel"),
        "up_rejected_title": ("文件未通过检查：{name}", "File refused: {name}"),
        "up_rejected_text": (
            "共 {count} 处问题，未写入任何数据。请修改以下各行后重新上传。",
            "{count} problem(s); nothing was written. Fix these rows and upload the file again.",
        ),
        "up_refused_title": ("未能预览：{name}", "Could not preview: {name}"),
        "up_nothing_written": ("未写入任何数据。", "Nothing was written."),
        "up_more_problems": ("另有 {count} 处问题未列出。", "{count} more problem(s) not listed."),
        "up_row": ("行", "Row"),
        "up_column": ("列", "Column"),
        "up_value": ("内容", "Value"),
        "up_reason": ("原因", "Reason"),
        "up_figure": ("项目", "What"),
        "up_count": ("人数", "Records"),
        "up_rows": ("文件行数", "Rows in the file"),
        "up_imported": ("新导入", "Imported (new)"),
        "up_updated": ("信息更新", "Updated"),
        "up_moved": ("其中调动部门", "Of these, moved to another department"),
        "up_excluded": ("不在采集范围（排除）", "Out of scope (excluded)"),
        "up_included": ("重新纳入范围", "Back in scope"),
        "up_rejoined": ("重新入职", "Rejoined"),
        "up_unchanged": ("没有变化", "Unchanged"),
        "up_missing": ("名单中缺少的在册教职工", "Current records missing from this roster"),
        "up_marked_left": ("将标记为已离职", "To be marked as left"),
        "up_kept": ("已超出范围但保留（进度已较远）", "Out of scope but kept (too far along)"),
        "up_changed": ("状态变化", "Records whose state changes"),
        "up_steps": ("记录的状态步骤", "State steps logged"),
        "up_conflicts": ("冲突（不会应用）", "Conflicts (not applied)"),
        "up_unknown": ("未知工号", "Unknown staff IDs"),
        "up_moves": ("状态变化明细", "State changes"),
        "up_as_of_shown": ("导出时间：{as_of}（{how}）", "Exported at: {as_of} ({how})"),
        "up_as_of_option": ("填写的日期", "the date given"),
        "up_as_of_name": ("文件名中的日期", "the date in the file's name"),
        "up_as_of_modified": ("上传时间", "the time of upload"),
        "up_forced": ("已选择：即使较早也应用", "Chosen: apply even if older"),
        "up_listed": ("{what}（{count}）", "{what} ({count})"),
        "up_first_of": ("前 {count} 个：", "The first {count}:"),
        "up_no_file": ("请选择要上传的文件。", "Choose a file to upload."),
        "up_refused_suffix": (
            "{name}：只接受 .xlsx、.xls 或 .csv 文件。",
            "{name}: only .xlsx, .xls or .csv files are accepted.",
        ),
        "up_refused_too_large": (
            "{name} 超过 {limit} MB，未保存。", "{name} is larger than {limit} MB; not kept."
        ),
        "up_refused_empty": ("{name} 是空文件。", "{name} is empty."),
        "up_refused_as_of": (
            "“{name}”不是日期，请写成 2016-12-05 的形式。", "{name!r} is not a date such as 2016-12-05."
        ),
        "up_refused_kind": ("没有这种上传。", "No such kind of upload."),
        "up_refused_unreadable": ("{why}", "{why}"),
        "up_gone_title": ("这个上传已不在等待确认", "This upload is no longer waiting"),
        "up_gone": (
            "它已经导入过、已被放弃或已过期（24 小时）。如需再次导入，请重新上传。",
            "It has been applied already, was cancelled, or expired (24 hours). Upload the file again "
            "if needed.",
        ),
        "up_cancelled": ("已放弃 {name}，未写入任何数据。", "{name} cancelled; nothing was written."),
        "up_done_roster": (
            "已导入 {name}：共 {rows} 行，新导入 {imported}，更新 {updated}（调动部门 {moved}），"
            "排除 {excluded}，无变化 {unchanged}，标记离职 {marked_left}。",
            "{name} imported: {rows} rows, {imported} new, {updated} updated ({moved} moved), "
            "{excluded} excluded, {unchanged} unchanged, {marked_left} marked as left.",
        ),
        "up_done_status": (
            "已同步 {name}：共 {rows} 行，{changed} 人状态变化，{unchanged} 人无变化，"
            "冲突 {conflicts}，未知工号 {unknown}。",
            "{name} applied: {rows} rows, {changed} records changed, {unchanged} unchanged, "
            "{conflicts} conflicts, {unknown} unknown staff IDs.",
        ),
    }
)

ROSTER_FIGURES = ("rows", "imported", "updated", "moved", "excluded", "included", "rejoined", "unchanged",
                  "missing", "marked_left", "kept")
SYNC_FIGURES = ("rows", "changed", "steps", "unchanged", "conflicts", "unknown")
LISTED = {"roster": ("missing", "kept"), "status": ("conflicts", "unknown")}
SHOWN_PROBLEMS = 10_000
"""Bad rows listed on the page; a file with more says how many more (fix those, upload again)."""
LIMIT_MB = uploads.MAX_BYTES // (1024 * 1024)
AS_OF_FROM = {"option": "up_as_of_option", "file name": "up_as_of_name", "modified": "up_as_of_modified"}
"""How a sync knew when an export was taken (services.status_sync's FROM_*), in words."""
Upload = Annotated[UploadFile | None, File()]


@router.get("/uploads")
def uploads_page(request: Request) -> Response:
    pages.guard(request, Action.ADMINISTER)
    return pages.page(request, "uploads.html", limit=LIMIT_MB)


@router.post("/uploads/roster")
def upload_roster(request: Request, file: Upload = None, mark_missing_left: str = Form("")) -> Response:
    person = pages.guard(request, Action.ADMINISTER)
    options = uploads.Options(mark_missing_left=bool(mark_missing_left))
    return _receive(request, person, "roster", file, options)


@router.post("/uploads/status")
def upload_status(
    request: Request, file: Upload = None, as_of: str = Form(""), force: str = Form("")
) -> Response:
    person = pages.guard(request, Action.ADMINISTER)
    tz = pages.context_of(request).plan.timezone
    try:
        options = uploads.Options(as_of=uploads.as_of_option(as_of[:40], tz), force=bool(force))
    except uploads.UploadRefused as refused:
        return _refused(request, as_of[:40], _sentence(request, refused))
    return _receive(request, person, "status", file, options)


@router.get("/uploads/{upload_id}")
def preview(request: Request, upload_id: str) -> Response:
    pages.guard(request, Action.ADMINISTER)
    try:
        staged = uploads.waiting(pages.context_of(request).staging, upload_id)
    except uploads.UploadGone:
        return _gone(request, 404)
    return pages.page(request, "upload_preview.html", staged=staged, **_shown(request, staged.kind,
                                                                               staged.figures))


@router.post("/uploads/{upload_id}/confirm")
def confirm(request: Request, upload_id: str, kind: str = Form("")) -> Response:
    """The same service for real, with the signed-in person as the actor; then the dashboard."""
    person = pages.guard(request, Action.ADMINISTER)
    ctx = pages.context_of(request)
    try:
        done = uploads.apply(ctx.engine, ctx.plan, ctx.calendar, ctx.staging, upload_id, kind, person,
                             pages.now_of(request))
    except uploads.UploadGone:
        return _gone(request, 404 if not uploads.valid_id(upload_id) else 409)
    figures = {k: v for k, v in done.figures.items() if not isinstance(v, list)}
    message = pages.translate(request, f"up_done_{done.kind}", **{**figures, "name": done.name})
    return pages.back(request, "/dashboard", message)


@router.post("/uploads/{upload_id}/cancel")
def cancel(request: Request, upload_id: str) -> Response:
    pages.guard(request, Action.ADMINISTER)
    try:
        staged = uploads.cancel(pages.context_of(request).staging, upload_id)
    except uploads.UploadGone:
        return _gone(request, 404 if not uploads.valid_id(upload_id) else 409)
    return pages.back(request, "/uploads", pages.translate(request, "up_cancelled", name=staged.name))


def _receive(
    request: Request, person: str, kind: str, file: UploadFile | None, options: uploads.Options
) -> Response:
    """Stage and preview: the preview's page (PRG) for a good file, the problems for a bad one."""
    if file is None or not file.filename:
        return _refused(request, "", pages.translate(request, "up_no_file"))
    ctx = pages.context_of(request)
    name = uploads.shown_name(file.filename)
    try:
        staged = uploads.receive(ctx.engine, ctx.plan, ctx.calendar, ctx.staging, kind, file.filename,
                                 file.file, person, pages.now_of(request), options)
    except FileRejected as rejected:
        problems, language = rejected.problems, pages.language(request)
        shown = [_problem(p, language) for p in problems[:SHOWN_PROBLEMS]]
        return pages.page(request, "upload_preview.html", status=400, staged=None, file_name=name,
                          problems=shown, more=max(0, len(problems) - SHOWN_PROBLEMS),
                          count=len(problems), refusal=None)
    except Refusal as refusal:
        return _refused(request, name, _sentence(request, refusal))
    return pages.back(request, f"/uploads/{staged.id}")


def _problem(problem: RowProblem, language: str) -> dict[str, object]:
    """A bad cell as the page lists it: row, column and value as they are, the reason in the plan's
    language (the command line's words: `workflow.wording`)."""
    return {"row": problem.row, "column": problem.column, "value": problem.value,
            "reason": problem.why.say(language)}


def _sentence(request: Request, refusal: Refusal) -> str:
    """Our own refusals in the page's words; the services' as they say them, in the plan's language."""
    if isinstance(refusal, uploads.UploadRefused) and not refusal.words:
        return pages.translate(request, f"up_refused_{refusal.reason}", **refusal.values)
    return "\n".join(said(refusal, pages.language(request)))


def _refused(request: Request, name: str, sentence: str) -> Response:
    return pages.page(request, "upload_preview.html", status=400, staged=None, file_name=name, problems=[],
                      more=0, count=0, refusal=sentence)


def _gone(request: Request, status: int) -> Response:
    return pages.page(request, "error.html", status=status, title=pages.translate(request, "up_gone_title"),
                      message=pages.translate(request, "up_gone"))


def _shown(request: Request, kind: str, figures: dict) -> dict:
    """What the preview page lists: (word, count) rows, the state moves in words, sample lists."""
    keys = ROSTER_FIGURES if kind == "roster" else SYNC_FIGURES
    language = pages.language(request)
    moves = [(state_label(language, a), state_label(language, b), n) for a, b, n in figures.get("moves", [])]
    listed = [(key, figures[key], figures[f"{key}_sample"]) for key in LISTED[kind] if figures.get(key)]
    rows = [(f"up_{key}", figures.get(key, 0)) for key in keys]
    return {"rows": rows, "moves": moves, "listed": listed, "as_of": _as_of(request, figures)}


def _as_of(request: Request, figures: dict) -> str | None:
    """When a status export is taken to be from, in the campaign's zone, and how that was found."""
    if "as_of" not in figures:
        return None
    moment = pendulum.parse(figures["as_of"]).in_timezone(pages.context_of(request).plan.timezone)
    how = AS_OF_FROM.get(figures["as_of_from"], "up_as_of_modified")
    shown = moment.format("YYYY-MM-DD" if how == "up_as_of_name" else "YYYY-MM-DD HH:mm")
    return pages.translate(request, "up_as_of_shown", as_of=shown, how=pages.translate(request, how))
