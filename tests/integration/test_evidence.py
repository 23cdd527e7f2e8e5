"""Evidence files and corrections through the services, on each real backend: a task completed with its
file in one transaction (or neither), pending correction requests found by unit, never one's own decision."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import docx
import openpyxl
import pendulum
import pytest
from sqlalchemy import func, select

from cuiban.models.tables import Evidence
from cuiban.services import corrections, evidence, tasks, teachers
from cuiban.services.history import history
from tests.factories import import_minimal_roster

T0 = pendulum.datetime(2016, 12, 16, 9, tz="Asia/Shanghai")
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << >> endobj\n%%EOF\n"
EVIDENCE = Evidence.__table__


@pytest.fixture
def imported(engine, tmp_path: Path, minimal_plan):
    plan, calendar = minimal_plan
    import_minimal_roster(engine, plan, calendar, tmp_path, ["甲学院", "乙学院"], 3, T0.subtract(days=20))
    return engine, plan, calendar


def _complete(imported, folder: Path, name: str, content: bytes, at=T0):  # type: ignore[no-untyped-def]
    engine, plan, calendar = imported
    upload = evidence.Upload(name, io.BytesIO(content))
    return evidence.complete(engine, plan, calendar, folder, "audit", "dept_a", at, actor="c_a",
                             note="已交", upload=upload)


def _rows(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(EVIDENCE)).scalar_one()


def test_a_task_and_its_file_are_written_together(imported, tmp_path: Path) -> None:
    engine = imported[0]
    folder = tmp_path / "evidence"
    done = _complete(imported, folder, "C:\\scans\\附表6.pdf", PDF)
    assert done.state == "done" and done.evidence_id is not None
    assert [p.name for p in folder.iterdir()] == [f"{done.evidence_id:010d}"]
    found = evidence.download(engine, folder, done.evidence_id)
    assert (found.file_name, found.content_type) == ("附表6.pdf", "application/pdf")
    assert found.path.read_bytes() == PDF
    assert found.unit_id == "dept_a"
    last = history(engine, "audit/dept_a")[-1]
    assert (last["actor"], last["source"], last["note"]) == ("c_a", "web", "已交")


def test_a_refused_completion_keeps_no_file(imported, tmp_path: Path) -> None:
    engine = imported[0]
    folder = tmp_path / "evidence"
    _complete(imported, folder, "first.pdf", PDF)
    with pytest.raises(tasks.AlreadyDone):
        _complete(imported, folder, "second.pdf", PDF, at=T0.add(hours=1))
    with pytest.raises(evidence.EvidenceRefused) as refused:
        _complete(imported, folder, "page.pdf", b"<html><body>hello</body></html>", at=T0.add(hours=1))
    assert refused.value.reason == "type"
    assert _rows(engine) == 1 and len(list(folder.iterdir())) == 1


def test_the_cli_keeps_its_source_and_refusals_stay_value_errors(imported) -> None:
    engine, plan, calendar = imported
    assert tasks.mark_done(engine, plan, calendar, "audit", "dept_b", T0, actor="程兴") == "done"
    assert history(engine, "audit/dept_b")[-1]["source"] == "cli"
    with pytest.raises(ValueError, match="already done"):
        tasks.mark_done(engine, plan, calendar, "audit", "dept_b", T0)
    with pytest.raises(ValueError, match="completes by itself"):
        tasks.mark_done(engine, plan, calendar, "filling", "dept_b", T0)


def test_pending_requests_and_no_decision_on_ones_own(imported) -> None:
    engine, plan, _ = imported
    staff_id = "000001"
    name = teachers.show(engine, staff_id)["name"]
    with pytest.raises(corrections.NotReported) as refused:  # one call says whose record and where it is
        corrections.request(engine, plan, "dept_a", staff_id, {"name": "张三丰"}, T0, actor="c_a")
    assert (refused.value.name, refused.value.state) == (name, "pending")
    for event in ("issue_account", "start", "submit", "review", "confirm", "report"):
        teachers.fire(engine, plan, staff_id, event, T0)
    requested = corrections.request(engine, plan, "dept_a", staff_id, {"name": "张三丰"}, T0, actor="c_a",
                                    note="错字")
    assert (requested.name, requested.happened.event) == (name, "request_correction")
    (pending,) = corrections.pending(engine, plan)
    assert (pending.staff_id, pending.unit_id, pending.requested_by, pending.note) == (
        staff_id, "dept_a", "c_a", "错字"
    )
    assert [(c.field, c.new) for c in pending.changes] == [("name", "张三丰")]
    with pytest.raises(teachers.OwnRequest):
        corrections.decide(engine, plan, staff_id, False, T0, actor="c_a", request_id=pending.request_id)
    with pytest.raises(teachers.NotFound):
        corrections.request(engine, plan, "dept_b", staff_id, {"name": "x"}, T0, actor="h_b")
    corrections.decide(engine, plan, staff_id, True, T0, actor="coord", request_id=pending.request_id)
    assert corrections.pending(engine, plan) == []
    assert teachers.show(engine, staff_id)["name"] == "张三丰"

    corrections.request(engine, plan, "dept_a", staff_id, {"name": "张三"}, T0, actor="c_a")
    (again,) = corrections.pending(engine, plan)
    assert again.request_id > pending.request_id
    with pytest.raises(teachers.ChangedRequest):  # decided on the first request's page: refused
        corrections.decide(engine, plan, staff_id, True, T0, actor="coord", request_id=pending.request_id)
    assert teachers.show(engine, staff_id)["state"] == "correction_requested"
    corrections.decide(engine, plan, staff_id, False, T0, actor="coord", request_id=again.request_id)
    assert teachers.show(engine, staff_id)["name"] == "张三丰"


CONTENT_TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
XLSM_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
VBA = "application/vnd.ms-office.vbaProject"


def _types(overrides: dict[str, str], extra: str = "") -> str:
    body = "".join(f'<Override PartName="{part}" ContentType="{kind}"/>' for part, kind in overrides.items())
    return (f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{CONTENT_TYPES}">'
            f'<Default Extension="xml" ContentType="application/xml"/>{body}{extra}</Types>')


def _package(path: Path, overrides: dict[str, str], *, types: str | None = None,
             parts: list[str] | None = None) -> Path:
    """A zip with this [Content_Types].xml (made from `overrides` unless given) and these parts (default:
    those the overrides name)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", types if types is not None else _types(overrides))
        for part in parts if parts is not None else list(overrides):
            package.writestr(part.lstrip("/"), "<x/>")
    return path


def _real_workbook(path: Path) -> Path:
    book = openpyxl.Workbook()
    book.active["A1"] = "信息采集员名单"
    book.save(path)
    return path


def _real_document(path: Path) -> Path:
    document = docx.Document()
    document.add_paragraph("附表6 签字")
    document.save(str(path))
    return path


def _crowded(path: Path) -> Path:
    """A workbook whose zip directory is over 1 MB (12,000 parts with long names)."""
    _package(path, WORKBOOK)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_STORED) as package:
        for n in range(12_000):
            package.writestr(f"xl/media/{n:06d}-{'x' * 80}.xml", b"")
    return path


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504
"""The start of an old Office file (.doc, .xls): accepted on this signature alone before."""
WORKBOOK = {"/xl/workbook.xml": XLSX_MAIN}
BARE = f'<Types><Override PartName="/x.xml" ContentType="{XLSX_MAIN}"/></Types>'
ENTITIES = f'<!DOCTYPE Types [<!ENTITY m "{XLSX_MAIN}">]>' + _types({"/x.xml": "&m;"})
DOCUMENT = {"/word/document.xml": DOCX_MAIN}
PACKAGES = {
    "workbook": (lambda p: _package(p, WORKBOOK), "xlsx"),
    "document": (lambda p: _package(p, DOCUMENT), "docx"),
    "openpyxl's workbook": (_real_workbook, "xlsx"),
    "python-docx's document": (_real_document, "docx"),
    "macro-enabled workbook": (lambda p: _package(p, {"/xl/workbook.xml": XLSM_MAIN}), "macro"),
    "document with a VBA project": (
        lambda p: _package(p, DOCUMENT, parts=["word/document.xml", "word/vbaProject.bin"]),
        "macro",
    ),
    "VBA project declared": (lambda p: _package(p, {**DOCUMENT, "/word/vbaProject.bin": VBA}), "macro"),
    "main type only in a comment": (
        lambda p: _package(p, {}, types=_types({}, f"<!-- {DOCX_MAIN} -->")),
        None,
    ),
    "main part missing": (lambda p: _package(p, DOCUMENT, parts=[]), None),
    "workbook and document": (lambda p: _package(p, {**WORKBOOK, **DOCUMENT}), None),
    "no namespace": (lambda p: _package(p, {}, types=BARE, parts=["x.xml"]), None),
    "entities": (lambda p: _package(p, {}, types=ENTITIES, parts=["x.xml"]), None),
    "table of contents over 1 MB": (
        lambda p: _package(p, {}, types=_types(WORKBOOK, " " * (1024 * 1024)), parts=["xl/workbook.xml"]),
        None,
    ),
    "zip directory over 1 MB": (_crowded, None),
    "an old .doc (OLE)": (lambda p: p.write_bytes(OLE) and p, None),
    "not a zip past its signature": (lambda p: p.write_bytes(b"PK\x03\x04 broken") and p, None),
}


@pytest.mark.parametrize("case", list(PACKAGES))
def test_office_files_are_told_by_their_package_and_never_carry_macros(case: str, tmp_path: Path) -> None:
    make, expected = PACKAGES[case]
    assert evidence.kind_of(make(tmp_path / "upload")) == expected


def test_macros_and_old_office_files_are_refused_and_nothing_is_kept(imported, tmp_path: Path) -> None:
    folder = tmp_path / "evidence"
    macro = _package(tmp_path / "m.xlsx", {"/xl/workbook.xml": XLSM_MAIN}).read_bytes()
    for name, content, reason in (
        ("名单.xlsx", macro, "macro"),
        ("名单.xlsm", macro, "macro"),
        ("名单.xls", OLE, "type"),
    ):
        with pytest.raises(evidence.EvidenceRefused) as refused:
            _complete(imported, folder, name, content)
        assert refused.value.reason == reason, name
    assert _rows(imported[0]) == 0 and not list(folder.iterdir())
    done = _complete(imported, folder, "名单.xlsx", _real_workbook(tmp_path / "ok.xlsx").read_bytes())
    assert done.evidence_id is not None


def test_temporary_files_a_stopped_server_left_are_swept_after_a_day(imported, tmp_path: Path) -> None:
    folder = tmp_path / "evidence"
    folder.mkdir()
    stale, fresh = folder / ".upload-0123456789ab", folder / ".upload-ba9876543210"
    kept = folder / "0000000042"
    for path, age in ((stale, 25), (fresh, 2), (kept, 24 * 30)):
        path.write_bytes(PDF)
        stamp = T0.subtract(hours=age).timestamp()
        os.utime(path, (stamp, stamp))
    done = _complete(imported, folder, "附表6.pdf", PDF)
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [fresh.name, kept.name, f"{done.evidence_id:010d}"]
    )
