"""The web pages in a real headless Chromium (Debian's, driven by Playwright) against a real `cuiban serve`.

One server on a copy of the demo campaign (replayed to 2016-12-16, served from 2016-12-18 10:00,
so the national system's export of 12-17 is the newest the coordinator has). Each person has
their own browser context (cookies), signs in by the link mailed to the .eml outbox, and walks
their own journey: the collector of 公共基础教研室, then the coordinator; a used and an expired
link are refused. The journeys touch different rows, so each test stands on its own.

Screenshots (1280×900, the whole page) go to $CUIBAN_WEB_SCREENSHOTS (docs/images when the
pictures of docs/web.md are remade) or a temporary folder.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import date
from pathlib import Path

import pendulum
import pytest
from openpyxl import load_workbook

from cuiban.cli.bootstrap import packaged_plan
from cuiban.models.database import open_engine
from cuiban.planfile.loader import load_plan
from cuiban.services.sign_in import dev_link
from tests.e2e.browser_support import Served, need_browser, screenshot, screenshots_folder, serve
from tests.web_support import SAMPLE, campaign_file, link_in

NOW = "2016-12-18T10:00:00+08:00"
VIEWPORT = {"width": 1280, "height": 900}
COLLECTOR, COLLECTOR_MAIL, UNIT, OTHER_UNIT = "c_basics", "c.basics@hebcm.example", "basics", "news"
OPEN_TASK = "dept_audit_report"
"""A manual task of 公共基础教研室 still open on 12-18 (news's were all marked done on 12-16)."""
COORDINATOR_MAIL = "cheng.xing@hebcm.example"
REFUSED_TEXT = "这个登录链接已经使用过、已过期或无效"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    need_browser()
    folder = tmp_path_factory.mktemp("browser")
    database = folder / "cuiban.sqlite3"
    shutil.copyfile(campaign_file(tmp_path_factory.mktemp("campaign"), date(2016, 12, 16)), database)
    yield from serve(database, folder, NOW)


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        arguments = ["--no-sandbox", "--lang=zh-CN"]  # the browser's own controls in Chinese too (LANGUAGE)
        chinese = {**os.environ, "LANGUAGE": "zh_CN:zh"}
        chromium = playwright.chromium.launch(executable_path=need_browser(), args=arguments, env=chinese)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return screenshots_folder(tmp_path_factory.mktemp("screenshots"))


def new_page(browser):  # type: ignore[no-untyped-def]
    """A fresh browser profile (its own cookies) and a tab in it."""
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    context.set_default_timeout(15_000)
    return context.new_page()


def query(served: Served, sql: str, *values: object) -> list[tuple]:
    """What the server wrote, read straight from its SQLite file."""
    with closing(sqlite3.connect(served.database)) as connection:
        return connection.execute(sql, values).fetchall()


def mailed_link(served: Served, address: str, before: set[Path]) -> str:
    """The sign-in link in the new mail to `address` (it is sent just after the page answers)."""
    deadline = time.monotonic() + 15
    while not (new := set(served.mails_to(address)) - before):
        if time.monotonic() > deadline:
            raise AssertionError(f"no mail to {address} in {served.outbox}:\n{served.log.read_text()}")
        time.sleep(0.1)
    assert len(new) == 1, new
    return link_in(new.pop())


def ask_and_sign_in(page, served: Served, address: str, shots: Path | None = None) -> str:  # type: ignore[no-untyped-def]
    """Ask for a link on /sign-in, read it from the outbox, open it and press the button; the link."""
    before = set(served.mails_to(address))
    page.goto(f"{served.url}/sign-in")
    if shots:
        screenshot(page, shots, "sign-in")
    page.fill("input[name=email]", address)
    page.click("form[action='/sign-in'] button[type=submit]")
    page.wait_for_selector("text=请查收邮件")
    assert address in page.inner_text("main")
    if shots:
        screenshot(page, shots, "link-sent")
    link = mailed_link(served, address, before)
    assert link.startswith(f"{served.url}/sign-in/link?token=")
    page.goto(link)
    if shots:
        screenshot(page, shots, "link")
    with page.expect_navigation():
        page.click("#confirm")
    return link


def column(page, table: str, index: int) -> list[str]:  # type: ignore[no-untyped-def]
    cells = page.locator(f"{table} tbody tr td:nth-child({index})").all_inner_texts()
    return [cell.strip() for cell in cells]


def small_pdf(path: Path) -> Path:
    """A real one-page PDF (header, objects, cross-reference table, trailer) standing for a signed scan."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]
    body, offsets = b"%PDF-1.4\n", []
    for number, content in enumerate(objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n%s\nendobj\n" % (number, content)
    table = b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    table += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    trailer = b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, len(body))
    path.write_bytes(body + table + trailer)
    return path


# ── a department's collector ──


def test_a_collector_signs_in_by_mail_sees_only_their_department_and_marks_a_task_done(
    served: Served, browser, shots: Path, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    page = new_page(browser)
    ask_and_sign_in(page, served, COLLECTOR_MAIL, shots)

    assert page.url == f"{served.url}/units/{UNIT}"  # home for a collector: their own unit's page
    assert page.inner_text("h1") == "公共基础教研室"
    menu = page.locator("header nav a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert menu == [f"/units/{UNIT}"]  # no dashboard, uploads or other departments
    staff_ids = column(page, "h2:has-text('未完成的教职工') + table", 1)
    assert staff_ids, "the unit page lists no unfinished teachers"
    units = {row[0] for row in query(
        served, f"SELECT DISTINCT unit_id FROM teacher WHERE staff_id IN ({','.join('?' * len(staff_ids))})",
        *staff_ids)}
    assert units == {UNIT}, f"teachers of other units on {UNIT}'s page: {units}"
    listed_tasks = page.locator(f"form[action='/units/{UNIT}/tasks/{OPEN_TASK}/done']")
    assert listed_tasks.count() == 1
    screenshot(page, shots, "unit")

    refused = page.goto(f"{served.url}/units/{OTHER_UNIT}")
    assert refused is not None and refused.status == 403
    assert "无权访问" in page.inner_text("h1")
    assert "新闻传播学院" not in page.inner_text("main")
    screenshot(page, shots, "forbidden")
    logged = query(served, "SELECT person_id, action, unit_id, outcome FROM access_log WHERE path = ?",
                   f"/units/{OTHER_UNIT}")
    assert (COLLECTOR, "view_unit", OTHER_UNIT, "refused") in [tuple(r) for r in logged], logged

    page.goto(f"{served.url}/units/{UNIT}")
    form = page.locator(f"form[action='/units/{UNIT}/tasks/{OPEN_TASK}/done']")
    form.locator("input[name=note]").fill("附表6 已签字，扫描件见附件")
    form.locator("input[name=evidence]").set_input_files(str(small_pdf(tmp_path / "附表6-签字.pdf")))
    with page.expect_navigation():
        form.locator("button[type=submit]").click()

    assert page.url == f"{served.url}/units/{UNIT}"
    flash = page.inner_text(".flash")
    assert "已标记完成" in flash and "附表6-签字.pdf" in flash, flash
    assert query(served, "SELECT state, completed_by FROM task WHERE milestone_id = ? AND unit_id = ?",
                 OPEN_TASK, UNIT) == [("done", COLLECTOR)]
    kept = query(served, "SELECT id, file_name, uploaded_by FROM evidence WHERE unit_id = ?", UNIT)
    assert [(name, by) for _, name, by in kept] == [("附表6-签字.pdf", COLLECTOR)]
    assert page.locator(f"a[href='/evidence/{kept[0][0]}']").inner_text() == "附表6-签字.pdf"
    assert page.locator(f"form[action='/units/{UNIT}/tasks/{OPEN_TASK}/done']").count() == 0
    screenshot(page, shots, "unit-marked")
    page.context.close()


# ── the coordinator ──


def roster_rows() -> list[list[str]]:
    with (SAMPLE / "roster.csv").open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def write_roster(path: Path, rows: list[list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="gbk", newline="") as handle:  # HR's Excel saves GBK
        csv.writer(handle).writerows(rows)
    return path


def upload(page, form: str, file: Path) -> None:  # type: ignore[no-untyped-def]
    """Choose `file` in the /uploads form posting to `form` and press its preview button."""
    chosen = page.locator(f"form[action='{form}']")
    chosen.locator("input[name=file]").set_input_files(str(file))
    with page.expect_navigation():
        chosen.locator("button[type=submit]").click()


def figures(page) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The preview's (what, count) table."""
    cells = page.locator("main table").first.locator("tbody tr").all()
    return {row.locator("td").nth(0).inner_text(): row.locator("td").nth(1).inner_text() for row in cells}


def board(page) -> dict[str, tuple[str, ...]]:  # type: ignore[no-untyped-def]
    """The dashboard's per-department figures, as the page shows them."""
    return {
        row.get_attribute("data-unit"): tuple(t.strip() for t in row.locator("td").all_inner_texts()[1:])
        for row in page.locator("tr[data-unit]").all()
    }


def test_the_coordinator_uploads_rosters_and_an_export_sees_the_dashboard_change_and_downloads_a_form(
    served: Served, browser, shots: Path, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    page = new_page(browser)
    ask_and_sign_in(page, served, COORDINATOR_MAIL)
    assert page.url == f"{served.url}/dashboard"
    teachers = query(served, "SELECT COUNT(*) FROM teacher")[0][0]

    rows = roster_rows()
    rows[3][3] = "1980-13-01"  # 出生日期: no 13th month          (file row 4)
    rows[10][4] = "火星学院"  # 所属部门: no such department        (file row 11)
    rows[20][0] = rows[19][0]  # 工号: the one of the row above    (file row 21)
    rows[30][9] = "not-an-email"  # 电子邮箱                        (file row 31)
    page.goto(f"{served.url}/uploads")
    screenshot(page, shots, "uploads")
    upload(page, "/uploads/roster", write_roster(tmp_path / "bad" / "教职工名单.csv", rows))
    assert "共 4 处问题，未写入任何数据" in page.inner_text(".problem")
    listed = zip(column(page, "main table", 2), column(page, "main table", 3), strict=True)
    problems = [(int(row), name) for row, name in listed]
    assert problems == [(4, "出生日期"), (11, "所属部门"), (21, "工号"), (31, "电子邮箱")]
    assert query(served, "SELECT COUNT(*) FROM teacher")[0][0] == teachers
    screenshot(page, shots, "upload-problems")

    good = roster_rows()  # HR's corrected file, with a teacher who joined since
    good.append(["001226", "孙晓梅", "女", "1990-05-01", "新闻传播学院", "教师岗位", "合同", "36", "否",
                 "t1226@hebcm.example"])
    page.goto(f"{served.url}/uploads")
    upload(page, "/uploads/roster", write_roster(tmp_path / "good" / "教职工名单.csv", good))
    assert re.fullmatch(rf"{served.url}/uploads/[0-9a-f]{{32}}", page.url), page.url
    shown = figures(page)
    assert (shown["文件行数"], shown["新导入"], shown["信息更新"]) == ("301", "1", "0"), shown
    assert query(served, "SELECT COUNT(*) FROM teacher")[0][0] == teachers  # a preview writes nothing
    screenshot(page, shots, "upload-preview")
    with page.expect_navigation():
        page.click("form[action$='/confirm'] button")
    assert page.url == f"{served.url}/dashboard"
    flash = page.inner_text(".flash")
    assert flash.startswith("已导入 教职工名单.csv：共 301 行，新导入 1，更新 0"), flash
    assert query(served, "SELECT COUNT(*) FROM teacher")[0][0] == teachers + 1
    before = board(page)

    page.goto(f"{served.url}/uploads")
    upload(page, "/uploads/status", SAMPLE / "status" / "status-2016-12-17.csv")
    assert "导出时间：2016-12-17（文件名中的日期）" in page.inner_text("main")
    changes = int(figures(page)["状态变化"])
    assert changes > 0
    screenshot(page, shots, "status-preview")
    with page.expect_navigation():
        page.click("form[action$='/confirm'] button")
    assert page.url == f"{served.url}/dashboard"
    flash = page.inner_text(".flash")
    assert flash.startswith(f"已同步 status-2016-12-17.csv：共 276 行，{changes} 人状态变化"), flash
    after = board(page)
    assert before.keys() == after.keys() and len(after) == 12
    changed = {unit for unit in after if after[unit] != before[unit]}
    assert changed, f"no department's figures changed on the dashboard: {after}"
    screenshot(page, shots, "dashboard")

    page.goto(f"{served.url}/timeline")
    assert page.locator("main table tbody tr").count() > 10
    screenshot(page, shots, "timeline")

    page.goto(f"{served.url}/reports")
    screenshot(page, shots, "reports")
    with page.expect_download() as waiting:
        page.click("a[href='/reports/dept-audit?unit=news&format=xlsx']")
    download = waiting.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.suffix == ".xlsx", saved.name
    workbook = load_workbook(saved, read_only=True)
    text = " ".join(str(v) for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True)
                    for v in row if v is not None)
    assert "新闻传播学院" in text and "数据审核" in text
    page.context.close()


# ── links that no longer work ──


def test_a_used_link_and_an_expired_link_are_refused(served: Served, browser, shots: Path) -> None:  # type: ignore[no-untyped-def]
    first = new_page(browser)
    link = ask_and_sign_in(first, served, "h.news@hebcm.example")
    assert first.url == f"{served.url}/units/{OTHER_UNIT}"  # the head of news, signed in once
    first.context.close()

    again = new_page(browser)  # the same link, opened again (another browser, or the mail forwarded)
    opened = again.goto(link)  # a used link is refused as soon as it is opened: no button to press
    assert opened is not None and opened.status == 400
    assert again.locator("#confirm").count() == 0
    assert REFUSED_TEXT in again.inner_text(".problem")
    assert again.locator("header nav").count() == 0  # not signed in
    screenshot(again, shots, "link-refused")
    again.context.close()

    plan, _ = load_plan(packaged_plan())  # the plan the server was started with
    engine = open_engine(f"sqlite:///{served.database}")
    an_hour_ago = pendulum.parse(NOW).subtract(hours=1)  # the server's clock is past NOW: long expired
    expired = dev_link(engine, plan, an_hour_ago, served.url, "c_news")
    engine.dispose()
    late = new_page(browser)
    opened = late.goto(expired)
    assert opened is not None and opened.status == 400 and late.locator("#confirm").count() == 0
    assert REFUSED_TEXT in late.inner_text(".problem")
    refused = late.goto(f"{served.url}/units/{OTHER_UNIT}")
    assert refused is not None and refused.url == f"{served.url}/sign-in"  # still nobody
    late.context.close()
