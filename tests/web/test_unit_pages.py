"""A department's page, marking its manual tasks done with an evidence file, and downloading that file.

The demo campaign as of 2016-12-16 10:00: 新闻传播学院 (news) has done its manual tasks by then,
公共基础教研室 (basics) has its 《数据审核报表》 task (dept_audit_report) still open, so the
tests that mark a task done act for basics and check that news cannot reach what basics handed in.
"""

from __future__ import annotations

import io
import re
import zipfile

from sqlalchemy import text

from cuiban.services import department
from cuiban.services.access import refusals
from cuiban.services.history import history
from tests.web_support import WebEnv

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
TASK = "/units/basics/tasks/dept_audit_report/done"
XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"


def _units_of(env: WebEnv, staff_ids: list[str]) -> set[str]:
    query = text("SELECT staff_id, unit_id FROM teacher")
    with env.engine.connect() as connection:
        return {unit for staff_id, unit in connection.execute(query) if staff_id in staff_ids}


def _task_state(env: WebEnv, milestone: str, unit: str) -> str:
    query = text("SELECT state FROM task WHERE milestone_id = :m AND unit_id = :u")
    with env.engine.connect() as connection:
        return connection.execute(query, {"m": milestone, "u": unit}).scalar_one()


def _hand_in(env: WebEnv, name: str, content: bytes, note: str = "", kind: str = "application/pdf"):  # type: ignore[no-untyped-def]
    files = {"evidence": (name, content, kind)}
    return env.post(TASK, {"note": note}, files=files, form_page="/units/basics")


def _evidence_ids(page: str) -> list[str]:
    return re.findall(r'href="/evidence/(\d+)"', page)


def test_a_collector_sees_their_unit_and_only_its_unfinished_teachers(web_env: WebEnv) -> None:
    client = web_env.sign_in("c_news")
    page = client.get("/units/news")
    assert page.status_code == 200
    staff_ids = re.findall(r"<td>(\d{6})</td>", page.text)
    assert staff_ids and _units_of(web_env, staff_ids) == {"news"}
    assert "新闻传播学院" in page.text and "已审核" in page.text
    assert "/reports/dept-audit?unit=news&amp;format=xlsx" in page.text
    assert "/reports/teacher-sheet?unit=news&amp;format=xlsx" in page.text
    with web_env.engine.connect() as connection:
        cards = connection.execute(text("SELECT id_card, phone FROM teacher WHERE unit_id = 'news'")).all()
    assert all(v not in page.text for row in cards for v in row if v)


def test_another_units_page_is_refused_and_logged(web_env: WebEnv) -> None:
    client = web_env.sign_in("c_news")
    assert client.get("/units/basics").status_code == 403
    refused = refusals(web_env.engine)[0]
    assert (refused["person_id"], refused["unit_id"]) == ("c_news", "basics")
    assert refused["path"] == "/units/basics"
    assert client.get("/units/nowhere").status_code == 404


def test_a_unit_page_asks_for_sign_in_first(web_env: WebEnv) -> None:
    answer = web_env.client.get("/units/news")
    assert answer.status_code == 303 and answer.headers["location"] == "/sign-in"


def test_the_list_is_capped_and_says_how_many_more(web_env: WebEnv) -> None:
    full = department.unit_page(web_env.engine, web_env.plan, "basics")
    capped = department.unit_page(web_env.engine, web_env.plan, "basics", shown=3)
    assert full.missing > 3 and full.more == 0 and len(full.teachers) == full.missing
    assert [t.staff_id for t in capped.teachers] == [t.staff_id for t in full.teachers[:3]]
    assert capped.more == full.missing - 3
    assert capped.total == full.total == capped.done + capped.missing


def test_marking_a_task_done_with_evidence(web_env: WebEnv) -> None:
    client = web_env.sign_in("c_basics")
    answer = _hand_in(web_env, "附表6 签字.pdf", PDF, note="纸质版已交")
    assert answer.status_code == 303 and answer.headers["location"] == "/units/basics"
    page = client.get("/units/basics").text
    assert "已标记完成" in page and "附表6 签字.pdf" in page
    assert _task_state(web_env, "dept_audit_report", "basics") == "done"
    last = history(web_env.engine, "dept_audit_report/basics")[-1]
    assert (last["event"], last["actor"], last["source"]) == ("complete", "c_basics", "web")
    assert last["note"] == "纸质版已交"
    (evidence_id,) = _evidence_ids(page)

    coordinator = web_env.sign_in("cheng_xing", web_env.new_client())
    download = coordinator.get(f"/evidence/{evidence_id}")
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["x-content-type-options"] == "nosniff"
    disposition = download.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%E9%99%84%E8%A1%A86%20%E7%AD%BE%E5%AD%97.pdf" in disposition

    other = web_env.sign_in("c_news", web_env.new_client())
    assert other.get(f"/evidence/{evidence_id}").status_code == 403
    refused = refusals(web_env.engine)[0]
    assert (refused["person_id"], refused["unit_id"], refused["path"]) == (
        "c_news", "basics", f"/evidence/{evidence_id}"
    )
    assert other.get("/evidence/99999").status_code == 403  # unknown ids tell a collector nothing
    assert coordinator.get("/evidence/99999").status_code == 404
    assert coordinator.get("/evidence/..%2F..%2Fetc%2Fpasswd").status_code in (403, 404)


def test_the_file_is_kept_by_its_id_outside_the_served_folders(web_env: WebEnv) -> None:
    web_env.sign_in("c_basics")
    _hand_in(web_env, "../../static/evil.pdf", PDF)
    kept = [p for p in web_env.context.evidence_dir.rglob("*") if p.is_file()]
    assert [p.name for p in kept] == ["0000000001"]
    assert kept[0].read_bytes() == PDF
    page = web_env.client.get("/units/basics").text
    assert "evil.pdf" in page and "../" not in page


def test_a_page_or_a_picture_that_could_run_is_refused(web_env: WebEnv) -> None:
    web_env.sign_in("c_basics")
    html = b"<!doctype html><html><script>alert(1)</script></html>"
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    for name, content in (("a.html", html), ("a.svg", svg), ("disguised.pdf", html), ("a.png", svg)):
        answer = _hand_in(web_env, name, content, kind="application/pdf")
        assert answer.status_code == 303
        assert "只能上传" in web_env.client.get("/units/basics").text, name
    assert _task_state(web_env, "dept_audit_report", "basics") == "open"
    assert not [p for p in web_env.context.evidence_dir.rglob("*") if p.is_file()]


def test_a_pdf_named_as_something_else_is_refused(web_env: WebEnv) -> None:
    web_env.sign_in("c_basics")
    _hand_in(web_env, "report.html", PDF)
    assert "扩展名" in web_env.client.get("/units/basics").text
    assert _task_state(web_env, "dept_audit_report", "basics") == "open"


def test_a_file_over_10_mb_is_refused_and_nothing_is_done(web_env: WebEnv) -> None:
    web_env.sign_in("c_basics")
    answer = _hand_in(web_env, "big.pdf", PDF + b"0" * (10 * 1024 * 1024))
    assert answer.status_code == 303
    assert "不能超过 10 MB" in web_env.client.get("/units/basics").text
    assert _task_state(web_env, "dept_audit_report", "basics") == "open"
    assert not [p for p in web_env.context.evidence_dir.rglob("*") if p.is_file()]


def _package(main: str, *extra: str) -> bytes:
    """An Office package whose main part /xl/workbook.xml has the content type `main`, with `extra` parts."""
    types = (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        f'<Override PartName="/xl/workbook.xml" ContentType="{main}"/></Types>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", types)
        for part in ("xl/workbook.xml", *extra):
            archive.writestr(part, "<workbook/>")
    return buffer.getvalue()


def test_office_files_are_told_by_their_contents(web_env: WebEnv) -> None:
    sheet = _package(XLSX_MAIN)
    web_env.sign_in("c_basics")
    page = web_env.client.get("/units/basics").text
    assert "Excel（.xlsx）或 Word（.docx）" in page and 'accept=".pdf,.png,.jpg,.jpeg,.xlsx,.docx"' in page
    _hand_in(web_env, "名单.docx", sheet)  # a workbook named as a Word file
    assert "扩展名" in web_env.client.get("/units/basics").text
    _hand_in(web_env, "any.xlsx", _package("application/zip"))  # a zip that is no workbook
    assert "只能上传" in web_env.client.get("/units/basics").text
    _hand_in(web_env, "old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504)  # .xls/.doc: no more
    assert "只能上传" in web_env.client.get("/units/basics").text
    _hand_in(web_env, "宏.xlsm", _package("application/vnd.ms-excel.sheet.macroEnabled.main+xml"))
    assert "含有宏的 Office 文件不能上传" in web_env.client.get("/units/basics").text
    _hand_in(web_env, "宏.xlsx", _package(XLSX_MAIN, "xl/vbaProject.bin"))
    assert "含有宏的 Office 文件不能上传" in web_env.client.get("/units/basics").text
    assert _task_state(web_env, "dept_audit_report", "basics") == "open"
    _hand_in(web_env, "名单.xlsx", sheet)
    assert _task_state(web_env, "dept_audit_report", "basics") == "done"
    (evidence_id,) = _evidence_ids(web_env.client.get("/units/basics").text)
    download = web_env.client.get(f"/evidence/{evidence_id}")
    assert download.headers["content-type"].endswith("officedocument.spreadsheetml.sheet")


def test_marking_without_a_file_and_refusals_are_messages(web_env: WebEnv) -> None:
    web_env.sign_in("c_basics")
    answer = web_env.post(TASK, {"note": ""}, form_page="/units/basics")
    assert answer.status_code == 303
    assert "已标记完成" in web_env.client.get("/units/basics").text
    assert history(web_env.engine, "dept_audit_report/basics")[-1]["source"] == "web"
    web_env.post(TASK, {}, form_page="/units/basics")
    assert "已经完成" in web_env.client.get("/units/basics").text
    web_env.post("/units/basics/tasks/dept_filling/done", {}, form_page="/units/basics")
    assert "自动完成" in web_env.client.get("/units/basics").text
    web_env.post("/units/basics/tasks/no_such_milestone/done", {}, form_page="/units/basics")
    assert "没有这项任务" in web_env.client.get("/units/basics").text


def test_a_leader_sees_every_unit_but_cannot_act(web_env: WebEnv) -> None:
    client = web_env.sign_in("li_jinyun")
    page = client.get("/units/basics")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' not in page.text
    answer = web_env.post(TASK, {"note": "x"}, files={"evidence": ("a.pdf", PDF, "application/pdf")},
                          form_page="/units/basics")
    assert answer.status_code == 403
    assert _task_state(web_env, "dept_audit_report", "basics") == "open"
    assert refusals(web_env.engine)[0]["person_id"] == "li_jinyun"
