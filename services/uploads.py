"""Uploads from the browser: HR's roster and the national system's status export, previewed, then applied.

An upload is staged under a random id (hex, fixed length) with its original suffix: the
name the browser sent is only shown, never used as a path. Receiving it runs the same
service as `cuiban roster import` / `cuiban sync` with `dry_run=True`; a file with bad rows
or one the service refuses is deleted at once and nothing is kept. A good file waits, with
what the preview found, until someone confirms it (the same service again, for real, in
its one transaction, with the confirming person as the actor) or cancels it, or until it
is older than KEPT. Confirming claims the upload by renaming its record, so the same upload
is never applied twice.

Whatever a stopped server leaves behind is swept when the next upload arrives, once older
than KEPT: records never confirmed, claims (`*.applying`) whose apply never finished, half-written
records (`*.part`), and files whose record is gone. Only names this module makes are touched.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from sqlalchemy import Engine

from cuiban.intake.tables import UnreadableFile
from cuiban.services.rejection import FileRejected, Refusal
from cuiban.services.roster_import import ImportReport, import_roster
from cuiban.services.status_sync import SyncReport, export_as_of, sync_statuses
from cuiban.workflow.calendar import WorkingCalendar
from cuiban.workflow.clock import start_of_day
from cuiban.workflow.plan.schema import Plan

KINDS = ("roster", "status")
SUFFIXES = (".csv", ".xlsx", ".xls")
MAX_BYTES = 200 * 1024 * 1024
KEPT = timedelta(hours=24)
"""How long a previewed upload waits for its confirmation."""
SAMPLE = 50
"""Staff IDs listed in a preview (missing, unknown, conflicts); the count is always whole."""
CHUNK = 1 << 20
_ID = re.compile(r"[0-9a-f]{32}")
_STAGED_NAME = re.compile(r"([0-9a-f]{32})(\.json|\.applying|\.part|\.csv|\.xlsx|\.xls)")
"""Every name this module writes in the staging folder: a record, a claim, a half-written record, a file."""


class UploadRefused(Refusal):
    """The file was not staged: wrong kind of file, too large or empty. `reason` names which (for a
    page's words), `values` what the sentence names."""

    def __init__(self, reason: str, sentence: str, **values: Any) -> None:
        super().__init__(sentence)
        self.reason = reason
        self.values = values


class UploadGone(Refusal):
    """No upload with this id is waiting: applied already, cancelled, expired, or never made."""


def _gone(upload_id: str) -> UploadGone:
    return UploadGone(f"upload {upload_id} is not waiting (applied already, cancelled or expired)")


@dataclass(frozen=True)
class Options:
    """What the office may choose: the roster's --mark-missing-left, the sync's --as-of and --force."""

    mark_missing_left: bool = False
    as_of: str | None = None
    """ISO moment with its offset, when the person gave one."""
    force: bool = False


@dataclass(frozen=True)
class Staged:
    id: str
    kind: str
    name: str
    """The name the file came with (shown, logged), never a path."""
    suffix: str
    size: int
    person: str
    staged_at: str
    options: Options = field(default_factory=Options)
    figures: dict[str, Any] = field(default_factory=dict)
    """What the preview found (ImportReport or SyncReport as plain values, long lists cut to SAMPLE)."""

    def file(self, folder: Path) -> Path:
        return folder / f"{self.id}{self.suffix}"


@dataclass(frozen=True)
class Applied:
    kind: str
    name: str
    figures: dict[str, Any]


def valid_id(upload_id: str) -> bool:
    """Whether `upload_id` is one this module could have made (32 hex digits)."""
    return _ID.fullmatch(upload_id) is not None


def checked_id(upload_id: str) -> str:
    """The id, or UploadGone: only 32 hex digits ever reach a path."""
    if not valid_id(upload_id):
        raise UploadGone(f"{upload_id[:40]!r} is not an upload id")
    return upload_id


def shown_name(name: str) -> str:
    """The last part of what the browser sent (some send a whole Windows path), printable, short."""
    last = PurePosixPath(name.replace("\\", "/")).name
    return "".join(c for c in last if c.isprintable())[:200] or "upload"


def receive(
    engine: Engine,
    plan: Plan,
    calendar: WorkingCalendar,
    folder: Path,
    kind: str,
    name: str,
    content: BinaryIO,
    person: str,
    now: datetime,
    options: Options,
) -> Staged:
    """Stage the file and preview it (dry run). FileRejected or a Refusal when it cannot be applied;
    then nothing is kept."""
    if kind not in KINDS:
        raise UploadRefused("kind", f"{kind!r} is not a kind of upload ({', '.join(KINDS)})", name=kind)
    _prune(folder, now)
    name = shown_name(name)
    suffix = PurePosixPath(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise UploadRefused("suffix", f"{name}: expected a {', '.join(SUFFIXES)} file", name=name)
    staged = Staged(secrets.token_hex(16), kind, name, suffix, 0, person, now.isoformat(), options)
    path = staged.file(folder)
    try:
        staged = replace(staged, size=_store(content, path, name))
        _stamp(path, now)  # the upload's "modification time" is when it arrived, by the campaign's clock
        report = _run(engine, plan, calendar, staged, path, now, dry_run=True, actor=person)
        staged = replace(staged, figures={**_figures(report), **_dated(staged, path, plan.timezone)})
        _write_record(folder, staged)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return staged


def waiting(folder: Path, upload_id: str) -> Staged:
    """The upload still waiting for confirmation, or UploadGone."""
    return _read_record(_record(folder, checked_id(upload_id)))


def apply(
    engine: Engine,
    plan: Plan,
    calendar: WorkingCalendar,
    folder: Path,
    upload_id: str,
    kind: str,
    person: str,
    now: datetime,
) -> Applied:
    """Apply a previewed upload for real, once; the staged file is deleted when it has been applied.

    When the service refuses it now (the database changed since the preview), the upload waits
    again: the person may cancel it."""
    record = _record(folder, checked_id(upload_id))
    claimed = record.with_suffix(".applying")
    try:
        os.rename(record, claimed)  # atomic: of two confirmations, one claims it
    except FileNotFoundError:
        raise _gone(upload_id) from None
    try:
        _stamp(claimed, now)  # claimed now: the sweep leaves it alone while it is being applied
        staged = _read_record(claimed)
        if staged.kind != kind:
            raise UploadGone(f"upload {upload_id} is a {staged.kind} upload, not {kind}")
        report = _run(engine, plan, calendar, staged, staged.file(folder), now, dry_run=False, actor=person)
    except BaseException:
        os.rename(claimed, record)
        raise
    staged.file(folder).unlink(missing_ok=True)
    claimed.unlink(missing_ok=True)
    return Applied(staged.kind, staged.name, _figures(report))


def cancel(folder: Path, upload_id: str) -> Staged:
    """Forget a waiting upload and delete its file."""
    record = _record(folder, checked_id(upload_id))
    staged = _read_record(record)
    record.unlink(missing_ok=True)
    staged.file(folder).unlink(missing_ok=True)
    return staged


# ── running the services ──


def _run(
    engine: Engine,
    plan: Plan,
    calendar: WorkingCalendar,
    staged: Staged,
    path: Path,
    now: datetime,
    *,
    dry_run: bool,
    actor: str,
) -> ImportReport | SyncReport:
    """The CLI's service for this kind of upload; the file is named by its own name in every sentence."""
    options = staged.options
    try:
        if staged.kind == "roster":
            return import_roster(
                engine, plan, calendar, path, now, dry_run=dry_run, actor=actor, source_name=staged.name,
                mark_missing_left=options.mark_missing_left,
            )
        return sync_statuses(
            engine, plan, calendar, path, now, dry_run=dry_run, actor=actor, source_name=staged.name,
            as_of=datetime.fromisoformat(options.as_of) if options.as_of else None, force=options.force,
        )
    except FileRejected:
        raise
    except (Refusal, UnreadableFile) as error:  # an intake refusal says the staged path: say the name
        raise _renamed(error, str(path), staged.name) from None


def _dated(staged: Staged, path: Path, tz: str) -> dict[str, str]:
    """For a status export: the moment it is taken as of, and how that was found (as the sync finds it)."""
    if staged.kind != "status":
        return {}
    given = datetime.fromisoformat(staged.options.as_of) if staged.options.as_of else None
    stamp = export_as_of(path, given, tz, staged.name)
    return {"as_of": stamp.moment.isoformat(), "as_of_from": stamp.source}


def _renamed(error: Exception, path: str, name: str) -> Refusal:
    """The refusal naming the upload by its name where it named the staged path, in words and in text."""
    text = str(error).replace(path, name)
    found = tuple(line.replaced(path, name) for line in getattr(error, "words", ()))
    if isinstance(error, Refusal):
        error.args = (text,)
        error.words = found
        return error
    refused = UploadRefused("unreadable", text, name=name, why=text)
    refused.words = found
    return refused


def _figures(report: ImportReport | SyncReport) -> dict[str, Any]:
    """The report as plain values for the page: every count, lists cut to SAMPLE with their length."""
    figures: dict[str, Any] = {}
    for key, value in asdict(report).items():
        if isinstance(value, list):
            figures[key] = len(value)
            figures[f"{key}_sample"] = value[:SAMPLE]
        elif key == "moves":
            figures[key] = [[*pair.split(" → "), count] for pair, count in sorted(value.items())]
        else:
            figures[key] = value
    return figures


def as_of_option(text: str, tz: str) -> str | None:
    """The as-of moment an office typed (a date: its start, like a date in a file name; or a date and
    time, in the plan's timezone unless it says its offset), as ISO; None when nothing was typed."""
    text = text.strip()
    if not text:
        return None
    try:
        if len(text) == 10:
            return start_of_day(date.fromisoformat(text), tz).isoformat()
        moment = datetime.fromisoformat(text)
    except ValueError:
        shown = text[:40]
        raise UploadRefused("as_of", f"{shown!r} is not a date such as 2016-12-05", name=shown) from None
    if moment.tzinfo is None:
        moment = start_of_day(moment.date(), tz).replace(hour=moment.hour, minute=moment.minute)
    return moment.isoformat()


# ── the staging folder ──


def _store(content: BinaryIO, path: Path, name: str) -> int:
    """Copy the upload to `path` (created new, readable by this user only), refusing more than MAX_BYTES."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    size = 0
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
        while chunk := content.read(CHUNK):
            size += len(chunk)
            if size > MAX_BYTES:
                limit = MAX_BYTES // (1024 * 1024)
                raise UploadRefused("too_large", f"{name} is larger than {limit} MB", name=name, limit=limit)
            out.write(chunk)
    if size == 0:
        raise UploadRefused("empty", f"{name} is empty", name=name)
    return size


def _stamp(path: Path, now: datetime) -> None:
    os.utime(path, (now.timestamp(), now.timestamp()))


def _record(folder: Path, upload_id: str) -> Path:
    return folder / f"{upload_id}.json"


def _write_record(folder: Path, staged: Staged) -> None:
    record = _record(folder, staged.id)
    partial = record.with_suffix(".part")
    partial.write_text(json.dumps(asdict(staged), ensure_ascii=False), encoding="utf-8")
    os.replace(partial, record)


def _read_record(record: Path) -> Staged:
    try:
        values = json.loads(record.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _gone(record.stem) from None
    staged = Staged(**{**values, "options": Options(**values["options"])})
    if staged.suffix not in SUFFIXES or staged.id != record.stem:
        raise UploadGone(f"upload {record.stem} is not a usable upload")
    return staged


def _prune(folder: Path, now: datetime) -> None:
    """Forget uploads previewed more than KEPT ago and never confirmed, and sweep what a stopped server
    left behind older than KEPT: unreadable records, claims never finished, half-written records, and
    files without a record."""
    if not folder.is_dir():
        return
    cutoff = (now - KEPT).timestamp()
    for record in folder.glob("*.json"):
        try:
            staged = _read_record(record)
            old = now - datetime.fromisoformat(staged.staged_at) > KEPT
        except (UploadGone, ValueError, TypeError, KeyError):
            if _older(record, cutoff):
                record.unlink(missing_ok=True)
            continue
        if old:
            record.unlink(missing_ok=True)
            staged.file(folder).unlink(missing_ok=True)
    _sweep(folder, cutoff)


def _sweep(folder: Path, cutoff: float) -> None:
    """Delete claims and half-written records last changed before `cutoff`, then staged files as old
    whose id has no record or claim left (a claim is stamped when it is made: one being applied stays)."""
    found = [m for p in folder.iterdir() if (m := _STAGED_NAME.fullmatch(p.name)) and m.group(2) != ".json"]
    for match in sorted(found, key=lambda m: m.group(2) in SUFFIXES):  # claims before the files they keep
        upload_id, suffix = match.groups()
        if suffix in SUFFIXES and any((folder / f"{upload_id}{s}").exists() for s in (".json", ".applying")):
            continue
        path = folder / match.group(0)
        if _older(path, cutoff):
            path.unlink(missing_ok=True)


def _older(path: Path, cutoff: float) -> bool:
    try:
        return path.stat().st_mtime < cutoff
    except FileNotFoundError:
        return False
