"""附表3–6 downloads: the command line's files, as attachments, to those who may see them."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote

import openpyxl
import pytest
from sqlalchemy import text

from tests.web_support import WebEnv


def _filename(answer) -> str:  # type: ignore[no-untyped-def]
    """The UTF-8 name of an attachment (RFC 6266 filename*)."""
    disposition = answer.headers["content-disposition"]
    assert disposition.startswith("attachment;"), disposition
    return unquote(disposition.split("filename*=UTF-8''", 1)[1])


def _text(workbook: bytes) -> str:
    book = openpyxl.load_workbook(io.BytesIO(workbook))
    return " ".join(str(c) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                    for c in row if c is not None)


def test_the_coordinator_downloads_form_6_and_form_4_as_workbooks(web_env: WebEnv) -> None:
    client = web_env.sign_in("cheng_xing")
    page = client.get("/reports")
    assert page.status_code == 200
    assert 'href="/reports/dept-audit?unit=news&amp;format=xlsx"' in page.text
    assert 'href="/reports/monthly?format=docx"' in page.text

    audit = client.get("/reports/dept-audit", params={"unit": "news", "format": "xlsx"})
    assert audit.status_code == 200, audit.text
    assert audit.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument")
    assert _filename(audit) == "附表6_数据审核报表_新闻传播学院_2016-12-16.xlsx"
    assert "新闻传播学院" in _text(audit.content)

    monthly = client.get("/reports/monthly", params={"format": "xlsx"})
    assert monthly.status_code == 200
    assert _filename(monthly) == "附表4_月报表_2016-12-16.xlsx"
    assert "2016年12月" in _text(monthly.content)

    for subject, fmt in (("working-group", "docx"), ("dept-audit", "html"), ("teacher-sheet", "xlsx")):
        answer = client.get(f"/reports/{subject}", params={"unit": "music", "format": fmt})
        assert answer.status_code == 200 and answer.headers["content-disposition"].startswith("attachment;")
        assert answer.content


def test_a_collector_downloads_their_own_form_6_only(web_env: WebEnv) -> None:
    client = web_env.sign_in("c_news")
    own = client.get("/reports/dept-audit", params={"unit": "news"})
    assert own.status_code == 200 and _filename(own).endswith(".xlsx")
    assert client.get("/reports/teacher-sheet", params={"unit": "news", "format": "docx"}).status_code == 200
    assert client.get("/reports/dept-audit", params={"unit": "basics"}).status_code == 403
    assert client.get("/reports/dept-audit").status_code == 403  # every department: the school's
    assert client.get("/reports/monthly", params={"unit": "news"}).status_code == 403
    assert client.get("/reports").status_code == 403
    with web_env.engine.connect() as connection:
        refused = connection.execute(
            text("SELECT unit_id FROM access_log WHERE person_id = 'c_news' AND path = '/reports/dept-audit'")
        ).scalars().all()
    assert "basics" in refused


def test_unknown_reports_formats_and_units_are_not_found(web_env: WebEnv) -> None:
    client = web_env.sign_in("cheng_xing")
    assert client.get("/reports/passwd").status_code == 404
    assert client.get("/reports/monthly", params={"format": "exe"}).status_code == 404
    assert client.get("/reports/teacher-sheet").status_code == 404  # 附表5 is one department's
    assert client.get("/reports/dept-audit", params={"unit": "hr"}).status_code == 404  # an office


def test_a_pdf_download_works_where_libreoffice_is_installed(web_env: WebEnv) -> None:
    if shutil.which("soffice") is None:
        if os.environ.get("CUIBAN_REQUIRE_PDF") == "1":
            pytest.fail("CUIBAN_REQUIRE_PDF=1 but LibreOffice (soffice) is not installed")
        pytest.skip("LibreOffice is not installed: bash .ci/converters.sh installs it (PDF output)")
    client = web_env.sign_in("c_news")
    answer = client.get("/reports/dept-audit", params={"unit": "news", "format": "pdf"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf" and answer.content.startswith(b"%PDF")
    assert _filename(answer) == "附表6_数据审核报表_新闻传播学院_2016-12-16.pdf"
    if shutil.which("pdftotext"):
        words = subprocess.run(["pdftotext", "-", "-"], input=answer.content, capture_output=True,
                               check=True).stdout.decode()
        assert "新闻传播学院" in words


def test_without_libreoffice_a_pdf_is_refused_in_words(web_env: WebEnv, monkeypatch: pytest.MonkeyPatch,
                                                       tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no soffice on this PATH: the server as it would be without
    client = web_env.sign_in("cheng_xing")
    answer = client.get("/reports/monthly", params={"format": "pdf"})
    assert answer.status_code == 503 and "未安装 LibreOffice" in answer.text
    assert "Traceback" not in answer.text
    page = client.get("/reports").text
    assert "format=pdf" not in page and "未安装 LibreOffice" in page


def test_every_download_is_an_attachment_whose_plain_name_cannot_break_its_header() -> None:
    from cuiban.web.responses import attachment, download_headers

    hostile = '附表6 "x";\r\nSet-Cookie: a=b%41.xlsx'
    value = attachment(hostile)
    plain = value.split('filename="', 1)[1].split('"; filename*=', 1)[0]
    assert not set(plain) & set('"\\;%\r\n') and plain.isascii() and plain.endswith(".xlsx")
    assert unquote(value.split("filename*=UTF-8''", 1)[1]) == hostile
    assert attachment("附表6.xlsx", "dept-audit.xlsx").startswith('attachment; filename="dept-audit.xlsx";')
    headers = download_headers("a.pdf")
    assert headers["X-Content-Type-Options"] == "nosniff" and "sandbox" in headers["Content-Security-Policy"]


def test_reports_and_evidence_come_with_the_same_download_headers(web_env: WebEnv) -> None:
    client = web_env.sign_in("c_basics")
    pdf = b"%PDF-1.4\n%%EOF\n"
    files = {"evidence": ('签字 "终版";v2.pdf', pdf, "application/pdf")}
    web_env.post("/units/basics/tasks/dept_audit_report/done", {"note": ""}, files=files,
                 form_page="/units/basics")
    with web_env.engine.connect() as connection:
        evidence_id = connection.execute(text("SELECT max(id) FROM evidence")).scalar_one()
    answers = (
        client.get(f"/evidence/{evidence_id}"),
        client.get("/reports/dept-audit", params={"unit": "basics"}),
    )
    for answer in answers:
        assert answer.status_code == 200
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["content-security-policy"] == "default-src 'none'; sandbox"
        plain = answer.headers["content-disposition"].split('filename="', 1)[1].split('"; filename*=', 1)[0]
        assert '"' not in plain and ";" not in plain
    assert _filename(answers[0]).startswith("签字 ") and _filename(answers[0]).endswith(";v2.pdf")
    assert answers[1].headers["content-disposition"].startswith('attachment; filename="dept-audit.xlsx";')
