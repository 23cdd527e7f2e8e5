"""Issue 13's pages: the SLA report and the whole log as downloads, the cycles of the database, and
what an uploaded plan would change (nothing written, nothing kept)."""

from __future__ import annotations

import csv
import io
import json
import re
import threading
from urllib.parse import unquote

import openpyxl
from sqlalchemy import text

from cuiban.services import log_export, web_exports
from tests.web_support import WebEnv


def _filename(answer) -> str:  # type: ignore[no-untyped-def]
    disposition = answer.headers["content-disposition"]
    assert disposition.startswith("attachment;"), disposition
    return unquote(disposition.split("filename*=UTF-8''", 1)[1])


def _log_rows(web_env: WebEnv) -> int:
    with web_env.engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM transition_log")).scalar_one()


def _count(page: str, key: str) -> int:
    found = re.search(rf'id="count-{key}">(\d+)<', page)
    assert found, f"no count of {key}"
    return int(found.group(1))


def _plan_diff(web_env: WebEnv, plan_text: str, days: str = "14"):  # type: ignore[no-untyped-def]
    files = {"file": ("plan.yaml", plan_text.encode("utf-8"), "application/x-yaml")}
    return web_env.post("/plan-diff", {"days": days}, files=files, form_page="/plan-diff")


def test_the_sla_report_downloads_for_the_coordinator_and_not_for_a_collector(web_env: WebEnv) -> None:
    client = web_env.sign_in("cheng_xing")
    page = client.get("/reports")
    assert 'href="/reports/sla?format=xlsx"' in page.text and 'href="/reports/sla?format=html"' in page.text

    workbook = client.get("/reports/sla", params={"format": "xlsx"})
    assert workbook.status_code == 200, workbook.text[:300]
    assert _filename(workbook) == "SLA报表_2016_2016-12-16.xlsx"
    assert workbook.headers["content-security-policy"] == "default-src 'none'; sandbox"
    book = openpyxl.load_workbook(io.BytesIO(workbook.content))
    cells = {str(c) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for c in row}
    assert "新闻传播学院" in cells and "按时完成" in cells

    html = client.get("/reports/sla", params={"format": "html"})
    assert html.status_code == 200 and _filename(html).endswith(".html") and "新闻传播学院" in html.text
    assert client.get("/reports/sla", params={"format": "docx"}).status_code == 404

    assert web_env.sign_in("c_news", web_env.new_client()).get("/reports/sla").status_code == 403


def test_the_log_streams_as_csv_with_every_row_for_the_coordinator(web_env: WebEnv) -> None:
    client = web_env.sign_in("cheng_xing")
    assert 'action="/reports/log"' in client.get("/reports").text

    answer = client.get("/reports/log", params={"format": "csv"})
    assert answer.status_code == 200, answer.text[:300]
    assert answer.headers["content-type"].startswith("text/csv")
    assert _filename(answer) == "变更日志_2016_2016-12-16.csv"
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["id", "at", "actor", "record_kind"] and rows[0][-1] == "changes"
    assert len(rows) - 1 == _log_rows(web_env) > 1000
    assert not re.search(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])", answer.text)  # no mobile numbers

    lines = client.get("/reports/log", params={"format": "jsonl", "unit": "news", "to": "2016-12-01"})
    assert lines.status_code == 200
    shown = [json.loads(line) for line in lines.text.splitlines()]
    assert shown and {row["unit"] for row in shown} == {"news"}
    assert max(row["at"] for row in shown) < "2016-12-02"


def test_the_log_is_refused_to_a_leader_and_a_collector(web_env: WebEnv) -> None:
    leader = web_env.sign_in("li_jinyun")
    assert leader.get("/reports").status_code == 200
    assert 'action="/reports/log"' not in leader.get("/reports").text
    assert leader.get("/reports/log", params={"format": "csv"}).status_code == 403
    collector = web_env.sign_in("c_news", web_env.new_client())
    assert collector.get("/reports/log", params={"format": "csv", "unit": "news"}).status_code == 403


def test_a_bad_log_window_is_refused_before_any_row(web_env: WebEnv) -> None:
    client = web_env.sign_in("cheng_xing")
    assert client.get("/reports/log", params={"format": "csv", "from": "yesterday"}).status_code == 400
    assert client.get("/reports/log", params={"format": "csv", "unit": "nowhere"}).status_code == 400
    assert client.get("/reports/log", params={"format": "xml"}).status_code == 404


def test_the_cycles_page_lists_the_cycle_and_the_command_to_start_the_next(web_env: WebEnv) -> None:
    page = web_env.sign_in("li_jinyun").get("/cycles")
    assert page.status_code == 200
    assert re.search(r'<td class="num">2016</td>', page.text)
    assert "cuiban cycle start --plan plan-2017.yaml" in page.text
    assert "<form" not in page.text.split("</header>", 1)[1]  # read only
    assert web_env.sign_in("c_news", web_env.new_client()).get("/cycles").status_code == 403


def test_the_shipped_plan_uploaded_again_changes_nothing(web_env: WebEnv) -> None:
    client = web_env.sign_in("cheng_xing")
    form = client.get("/plan-diff")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
    before = _log_rows(web_env)

    answer = _plan_diff(web_env, web_env.plan_file.read_text(encoding="utf-8"))

    assert answer.status_code == 200, answer.text[:500]
    assert [_count(answer.text, k) for k in ("added", "moved", "cancelled", "tasks")] == [0, 0, 0, 0]
    assert _log_rows(web_env) == before


def test_a_moved_deadline_shows_its_moved_messages(web_env: WebEnv) -> None:
    client = web_env.sign_in("cheng_xing")
    shipped = web_env.plan_file.read_text(encoding="utf-8")
    moved = shipped.replace("    due: 2016-12-19\n", "    due: 2016-12-21\n", 1)  # dept_audit_report
    assert moved != shipped

    answer = _plan_diff(web_env, moved)

    assert answer.status_code == 200, answer.text[:500]
    assert _count(answer.text, "moved") > 0 and _count(answer.text, "tasks") > 0
    assert "改期的邮件" in answer.text and "填写《数据审核报表》并上报教师发展中心备案" in answer.text
    assert "2016-12-21 23:59" in answer.text  # the task's new deadline
    assert "@" not in answer.text.split("</header>", 1)[1]  # names, never addresses
    assert client.get("/plan-diff").status_code == 200


def test_a_broken_plan_shows_its_errors_with_line_and_column(web_env: WebEnv) -> None:
    web_env.sign_in("cheng_xing")
    shipped = web_env.plan_file.read_text(encoding="utf-8")
    broken = shipped.replace("    due: 2016-12-19\n", "    due: 2016-12-32\n", 1)
    answer = _plan_diff(web_env, broken)
    assert answer.status_code == 400
    assert "计划文件有错误" in answer.text and "milestones.dept_audit_report.due" in answer.text

    answer = _plan_diff(web_env, "cycle: [2016,\n")
    assert answer.status_code == 400 and "YAML" in answer.text
    assert re.search(r'<td class="num">2</td><td class="num">1</td>', answer.text)

    assert _plan_diff(web_env, shipped, days="0").status_code == 400


def test_plan_diff_is_refused_to_a_leader(web_env: WebEnv) -> None:
    web_env.sign_in("li_jinyun")
    assert web_env.client.get("/plan-diff").status_code == 403
    answer = _plan_diff(web_env, "cycle: 2016\n")
    assert answer.status_code == 403


def test_the_menu_links_the_new_pages(web_env: WebEnv) -> None:
    admin = web_env.sign_in("cheng_xing").get("/dashboard").text
    assert 'href="/cycles"' in admin and 'href="/plan-diff"' in admin
    leader = web_env.sign_in("li_jinyun", web_env.new_client()).get("/dashboard").text
    assert 'href="/cycles"' in leader and 'href="/plan-diff"' not in leader


def test_the_stream_is_the_command_s_export_in_chunks(web_env: WebEnv) -> None:
    """The pump hands over the service's own output, a chunk at a time; a reader that stops early
    ends the export's thread."""
    written = io.StringIO()
    log_export.export_log(web_env.engine, web_env.plan, written, "csv")
    chunks = list(web_exports.log_stream(web_env.engine, web_env.plan, "csv"))
    assert len(chunks) > 1 and max(map(len, chunks)) < 4 * web_exports.CHUNK
    assert b"".join(chunks).decode("utf-8") == written.getvalue()

    stream = web_exports.log_stream(web_env.engine, web_env.plan, "jsonl")
    assert next(stream)
    stream.close()  # type: ignore[attr-defined]
    for worker in [t for t in threading.enumerate() if t.name == "cuiban-log-export"]:
        worker.join(timeout=5)
        assert not worker.is_alive()
