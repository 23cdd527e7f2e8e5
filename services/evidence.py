"""Evidence files: what a unit hands in with a manual task (the collectors' list, a signed 附表6 scan).

An upload is checked before anything is written to the database: at most MAX_SIZE bytes, and
its type read from its bytes (PDF, PNG, JPEG, an Excel or Word file), not from its name or the
browser's say-so, so an HTML or SVG page can never come back from us as a page. Office files are
the current formats only (.xlsx, .docx), told by their package's table of contents, and never
with macros: the old .xls/.doc formats can carry macros and were told by a signature alone, and a
package holding a VBA project (vbaProject.bin) or a macro-enabled part is refused. The file is
kept under `evidence_dir` by its id alone (the sender's file name is only a label in the
database, never a path), and is only ever sent back as a download.

The task's completion and the evidence row are one transaction: the bytes go to a temporary
name first, take their id's name inside the transaction, and are deleted if it fails. A temporary
file a stopped server left behind is swept by a later upload once it is a day old.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import struct
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path, PurePosixPath
from typing import BinaryIO
from xml.etree import ElementTree

from sqlalchemy import Connection, Engine

from cuiban.models import evidence_store
from cuiban.services import tasks
from cuiban.services.rejection import Refusal
from cuiban.workflow.calendar import WorkingCalendar
from cuiban.workflow.plan.schema import Plan

MAX_SIZE = 10 * 1024 * 1024
"""The largest evidence file accepted (a scanned form is well under it)."""
CHUNK = 256 * 1024
DIRECTORY_LIMIT = 1024 * 1024
"""The most of an Office package's zip directory, and of its table of contents, that is read: a real
workbook or document needs a few kilobytes; a zip bomb's directory of a million entries is refused."""
OCTET = "application/octet-stream"
TEMPORARY = ".upload-"
"""The name of an upload on its way in, before its id names it."""
TEMPORARY_KEPT = timedelta(days=1)
"""A temporary file older than this was left by a server that stopped mid-upload: swept."""


@dataclass(frozen=True)
class Kind:
    label: str
    content_type: str
    extensions: tuple[str, ...]


KINDS: dict[str, Kind] = {
    "pdf": Kind("PDF", "application/pdf", (".pdf",)),
    "png": Kind("PNG", "image/png", (".png",)),
    "jpeg": Kind("JPEG", "image/jpeg", (".jpg", ".jpeg")),
    "xlsx": Kind("Excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",)),
    "docx": Kind(
        "Word", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",)
    ),
}
SERVED_TYPES = frozenset(k.content_type for k in KINDS.values())
ALLOWED = "PDF、PNG、JPEG、Excel（.xlsx）、Word（.docx）"

MAIN_PARTS = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": "xlsx",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": "docx",
}
"""The content type of an OOXML package's main part (a workbook, a document) → its kind. A macro-enabled
workbook's or document's main part has another type (…macroEnabled.main+xml): it is no kind of ours."""
TYPES_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"
MACRO_PROJECT = "vbaproject.bin"
MACRO_TYPE = "application/vnd.ms-office.vbaproject"


class EvidenceRefused(Refusal):
    """The file was refused; nothing was written. `reason` names why, for the pages' words."""

    def __init__(self, reason: str, message: str, **values: object) -> None:
        self.reason = reason
        self.values = values
        super().__init__(message)


class EvidenceNotFound(Refusal, LookupError):
    """No file with this id; `unit` is the unit whose record it was when only the file is missing (its
    page may learn that), None when there is no record at all."""

    def __init__(self, message: str, unit: str | None = None) -> None:
        self.unit = unit
        super().__init__(message)


@dataclass(frozen=True)
class Upload:
    """A file as the browser sent it: the name is only a label."""

    name: str
    stream: BinaryIO


@dataclass(frozen=True)
class Completed:
    state: str
    """The task's state now (done, or done_late)."""
    evidence_id: int | None


@dataclass(frozen=True)
class Download:
    unit_id: str
    """The unit that handed the file in: whose page may download it (the route guards with it)."""
    path: Path
    file_name: str
    content_type: str
    size: int


def complete(
    engine: Engine,
    plan: Plan,
    calendar: WorkingCalendar,
    evidence_dir: Path,
    milestone: str,
    unit: str,
    now: datetime,
    *,
    actor: str,
    note: str | None = None,
    upload: Upload | None = None,
) -> Completed:
    """Mark a unit's manual task done from the web page, with an evidence file when one is given.

    The file is checked first (size, type from its bytes, a name that matches its type), so a
    refused file leaves the task as it was; then the task and the file's record are written in
    one transaction (tasks.mark_done with the record as its `also`)."""
    done = partial(tasks.mark_done, engine, plan, calendar, milestone, unit, now, actor=actor, note=note)
    if upload is None:
        return Completed(done(source="web"), None)
    evidence_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    sweep(evidence_dir, now)
    keeper = _Keeper(evidence_dir, evidence_dir / f"{TEMPORARY}{secrets.token_hex(12)}", unit, actor, now)
    try:
        keeper.receive(upload)
        state = done(source="web", also=keeper.record)
    except BaseException:
        keeper.discard()
        raise
    return Completed(state, keeper.evidence_id)


def sweep(evidence_dir: Path, now: datetime) -> int:
    """Delete uploads a stopped server left half-received (`.upload-*`, never given an id) older than
    TEMPORARY_KEPT; how many. Kept files (named by their id) are never touched."""
    cutoff = (now - TEMPORARY_KEPT).timestamp()
    swept = 0
    for path in evidence_dir.glob(f"{TEMPORARY}*"):
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                swept += 1
        except FileNotFoundError:
            continue
    return swept


@dataclass
class _Keeper:
    """One upload on its way in: received under a temporary name, checked, then recorded and
    renamed to its id inside the task's transaction; discarded if anything fails."""

    folder: Path
    temporary: Path
    unit: str
    actor: str
    now: datetime
    name: str = ""
    kind: str = ""
    size: int = 0
    digest: str = ""
    evidence_id: int | None = None
    kept: Path | None = None

    def receive(self, upload: Upload) -> None:
        self.name = label_of(upload.name)
        self.size, self.digest = _receive(upload.stream, self.temporary)
        self.kind = _checked_kind(self.temporary, self.name, self.size)

    def record(self, connection: Connection, task_key: str) -> None:
        self.evidence_id = evidence_store.add(
            connection,
            task_key=task_key,
            unit_id=self.unit,
            file_name=self.name,
            content_type=KINDS[self.kind].content_type,
            size=self.size,
            sha256=self.digest,
            uploaded_by=self.actor,
            uploaded_at=self.now,
        )
        self.kept = path_of(self.folder, self.evidence_id)
        os.replace(self.temporary, self.kept)

    def discard(self) -> None:
        for path in (self.temporary, self.kept):
            if path is not None:
                path.unlink(missing_ok=True)


def _receive(stream: BinaryIO, target: Path) -> tuple[int, str]:
    """Copy the upload to `target` (readable by its owner only); its size and SHA-256. Refused past
    MAX_SIZE without reading the rest."""
    digest, size = hashlib.sha256(), 0
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if size > MAX_SIZE:
                limit = MAX_SIZE // (1024 * 1024)
                sentence = f"证明材料不能超过 {limit} MB，这个文件更大；请压缩或拆分后重新上传。"
                raise EvidenceRefused("too_big", sentence, limit=limit)
            digest.update(chunk)
            out.write(chunk)
    return size, digest.hexdigest()


def _checked_kind(path: Path, name: str, size: int) -> str:
    if size == 0:
        raise EvidenceRefused("empty", "上传的文件是空的，请重新选择文件。")
    kind = kind_of(path)
    if kind == "macro":
        raise EvidenceRefused(
            "macro", "含有宏的 Office 文件不能上传；请另存为不含宏的 .xlsx 或 .docx 后重新上传。"
        )
    if kind is None:
        raise EvidenceRefused(
            "type", f"只能上传 {ALLOWED} 文件；这个文件的内容不是其中任何一种。", allowed=ALLOWED
        )
    suffix = PurePosixPath(label_of(name)).suffix.lower()
    extensions = KINDS[kind].extensions
    if suffix not in extensions:
        label = KINDS[kind].label
        expected = "、".join(extensions)
        raise EvidenceRefused(
            "name",
            f"文件内容是 {label}，但文件名的扩展名是“{suffix or '无'}”；请改为 {expected} 后重新上传。",
            kind=label,
            suffix=suffix or "—",
            expected=expected,
        )
    return kind


def kind_of(path: Path) -> str | None:
    """What the file is, from its first bytes (and an Office package's table of contents): a key of
    KINDS, "macro" for an Office package with macros, or None."""
    with path.open("rb") as file:
        head = file.read(8)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head == b"\x89PNG\r\n\x1a\n":
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"PK\x03\x04"):
        return _office_package(path)
    return None


def _office_package(path: Path) -> str | None:
    """xlsx or docx by the content type of the package's main part, "macro" when it holds a VBA project
    or a macro-enabled part, None for any other zip (or a directory or table of contents too large)."""
    if not 0 <= _directory_size(path) <= DIRECTORY_LIMIT:
        return None
    try:
        with zipfile.ZipFile(path) as package:
            names = package.namelist()
            with package.open("[Content_Types].xml") as types:
                listing = types.read(DIRECTORY_LIMIT + 1)
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError, NotImplementedError, EOFError):
        return None
    if len(listing) > DIRECTORY_LIMIT:
        return None
    parts = _content_types(listing)
    if parts is None:
        return None
    if _has_macros(names, parts):
        return "macro"
    present = {n.lstrip("/") for n in names}
    mains = {MAIN_PARTS[t] for part, t in parts.items() if t in MAIN_PARTS and part.lstrip("/") in present}
    return mains.pop() if len(mains) == 1 else None


def _has_macros(names: list[str], parts: dict[str, str]) -> bool:
    """A VBA project in the package, or a part whose type is macro-enabled (.xlsm, .docm, .dotm …)."""
    types = [t.lower() for t in parts.values()]
    return any(n.rsplit("/", 1)[-1].lower() == MACRO_PROJECT for n in names) or any(
        "macroenabled" in t or t == MACRO_TYPE for t in types
    )


def _directory_size(path: Path) -> int:
    """The size of a zip's central directory from its end record (-1 when there is no end record, or a
    ZIP64 one: a 10 MB workbook never needs it)."""
    with path.open("rb") as file:
        file.seek(0, os.SEEK_END)
        length = file.tell()
        file.seek(max(0, length - (22 + 65535)))
        tail = file.read()
    end = tail.rfind(b"PK\x05\x06")
    if end < 0 or len(tail) - end < 22:
        return -1
    size = struct.unpack("<I", tail[end + 12 : end + 16])[0]
    return -1 if size == 0xFFFFFFFF else size


def _content_types(listing: bytes) -> dict[str, str] | None:
    """[Content_Types].xml as part name → content type (its Overrides; Defaults by extension as
    `*.ext`), or None when it is not one (not XML, a DOCTYPE, another root)."""
    if b"<!DOCTYPE" in listing or b"<!ENTITY" in listing:  # never in a real package: no entity tricks
        return None
    try:
        root = ElementTree.fromstring(listing)
    except ElementTree.ParseError:
        return None
    if root.tag != f"{TYPES_NS}Types":
        return None
    parts = {}
    for element in root:
        if element.tag == f"{TYPES_NS}Override" and element.get("PartName"):
            parts[element.get("PartName", "")] = element.get("ContentType", "")
        elif element.tag == f"{TYPES_NS}Default" and element.get("Extension"):
            parts[f"*.{element.get('Extension')}"] = element.get("ContentType", "")
    return parts


def label_of(name: str) -> str:
    """The sender's file name as a label: no folders, no control characters, at most 200 characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(c for c in base if c.isprintable()).strip().strip(".") or "evidence"
    if len(base) > 200:
        suffix = PurePosixPath(base).suffix[:20]
        base = base[: 200 - len(suffix)] + suffix
    return base


def path_of(evidence_dir: Path, evidence_id: int) -> Path:
    """Where a file is kept: its id, nothing the sender chose."""
    return evidence_dir / f"{int(evidence_id):010d}"


def download(engine: Engine, evidence_dir: Path, evidence_id: int) -> Download:
    """The file of `evidence_id` and the unit it belongs to, with the type its bytes were checked to be
    (else octet-stream); read once, nothing opened: the caller guards with `unit_id` before sending it."""
    with engine.connect() as connection:
        row = evidence_store.one(connection, evidence_id)
    if row is None:
        raise EvidenceNotFound(f"no evidence file {evidence_id}")
    path = path_of(evidence_dir, evidence_id)
    if not path.is_file():
        raise EvidenceNotFound(f"evidence file {evidence_id} is missing from its folder", str(row["unit_id"]))
    content_type = row["content_type"] if row["content_type"] in SERVED_TYPES else OCTET
    return Download(str(row["unit_id"]), path, label_of(row["file_name"]), content_type, path.stat().st_size)
