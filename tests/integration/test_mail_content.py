"""What every message says (issue 14, "Mails"): a footer naming the coordinator with 请勿直接回复 on
every kind, 下一步 from the plan, the 附表4 reminder carrying the filled form as xlsx and docx with
Chinese names, no shell command in any mail to office staff, the sender and Reply-To from the plan
or the environment."""

from __future__ import annotations

import email
import email.policy
import io
import re
from email.message import EmailMessage
from pathlib import Path

import openpyxl
import pendulum
import pytest
from docx import Document

from cuiban.models import outbox_store
from cuiban.notifications.render import Renderer, contact_of
from cuiban.notifications.samples import SAMPLES
from cuiban.notifications.transports import FileTransport, mail_identity
from cuiban.planfile.loader import load_plan
from cuiban.services.tick_and_send import tick_and_send
from cuiban.workflow.links import NO_LINKS, Links
from tests.conftest import MINIMAL_PLAN, SHIPPED_PLAN

TZ = "Asia/Shanghai"
BASE = "https://cuiban.hebcm.example"
CONTACT_ZH = "联系人：程兴（cheng.xing@hebcm.example，办公电话 0311-80000000）"
CONTACT_EN = "Contact: 程兴 (cheng.xing@hebcm.example, office phone 0311-80000000)"
NO_REPLY = {"zh": "本邮件由催办系统自动发送，请勿直接回复。", "en": "please do not reply to it"}
COMMAND = re.compile(r"cuiban (report|tick|run|plan|roster|sync|notify)\b|--(send|unit|now)\b")
"""What a shell command in a mail would look like."""


def at(day: str, clock: str = "09:30") -> pendulum.DateTime:
    return pendulum.parse(f"2016-{day}T{clock}:00", tz=TZ)


@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_kind_of_message_ends_with_the_contact_and_no_reply(language: str) -> None:
    plan, _ = load_plan(SHIPPED_PLAN)
    renderer = Renderer(language, contact=contact_of(plan))
    contact = CONTACT_ZH if language == "zh" else CONTACT_EN
    kinds = {"reminder", "escalation", "digest", "sign_in"}
    samples = [s for s in SAMPLES if s.kind in kinds]
    assert {s.kind for s in samples} == kinds
    for sample in samples:
        rendered = renderer.render(sample.kind, sample.context)
        last = rendered.text.rstrip().rstrip("。.")
        assert contact in rendered.text and last.endswith(NO_REPLY[language].rstrip("。"))
        name = contact.partition("cheng.xing@hebcm.example")[0]
        assert name in rendered.html and 'href="mailto:cheng.xing@hebcm.example"' in rendered.html
        assert "0311-80000000" in rendered.html and NO_REPLY[language] in rendered.html, sample.name
    # without a plan (a renderer made for a check) the footer still says not to reply, naming nobody
    bare = Renderer(language).render("reminder", samples[0].context)
    assert NO_REPLY[language] in bare.text and "0311" not in bare.text


def _send(  # type: ignore[no-untyped-def]
    engine, plan, calendar, folder: Path, day: str, links: Links = NO_LINKS, **identity: str
) -> list[EmailMessage]:
    transport = FileTransport.for_identity(folder, mail_identity(plan, **identity))
    renderer = Renderer("zh", contact=contact_of(plan))
    tick_and_send(engine, plan, calendar, renderer, transport, at(day), links=links)
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(folder.glob("*.eml"))
    ]


def _text(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


@pytest.mark.parametrize("combine", [True, False], ids=["combined", "one-per-task"])
def test_the_monthly_reminder_carries_the_filled_form_4(sqlite_engine, tmp_path: Path, combine: bool) -> None:
    plan, calendar = load_plan(SHIPPED_PLAN)
    plan = plan.model_copy(update={"reminders": plan.reminders.model_copy(update={"combine": combine})})
    # 附表4 is due on Thursday 12-01; with `before: [2, 0]` its first reminder goes out on Tuesday 11-29
    sent = _send(sqlite_engine, plan, calendar, tmp_path / "outbox", "11-29", reply_to="rsc@hebcm.example")
    (monthly,) = [m for m in sent if "附表4" in _text(m) and "附件为已填好的附表4" in _text(m)]
    assert monthly["To"].addresses[0].addr_spec == "cheng.xing@hebcm.example"
    text = _text(monthly)
    assert "附件为已填好的附表4（xlsx、docx 各一份），核对后可直接转发至河北省教育厅人事处" in text
    assert "下一步：核对附件中的附表4，确认无误后转发省教育厅人事处" in text
    files = {part.get_filename(): part.get_content() for part in monthly.iter_attachments()}
    assert set(files) == {"附表4_河北传媒学院_2016年12月.xlsx", "附表4_河北传媒学院_2016年12月.docx"}
    sheet = openpyxl.load_workbook(io.BytesIO(files["附表4_河北传媒学院_2016年12月.xlsx"])).active
    cells = [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]
    assert "河北传媒学院" in cells and "2016年12月" in cells and "程兴" in cells
    document = Document(io.BytesIO(files["附表4_河北传媒学院_2016年12月.docx"]))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    words = "\n".join([p.text for p in document.paragraphs] + cells)
    assert "河北传媒学院" in words and "程兴" in words and "2016年12月" in words
    # the legacy parser reads the same names (RFC 2047 on Content-Type for the clients that need it)
    legacy = email.message_from_bytes(monthly.as_bytes(), policy=email.policy.compat32)
    names = {p.get_filename() for p in legacy.walk() if p.get_content_disposition() == "attachment"}
    assert names == set(files)
    # sender and Reply-To: the coordinator's domain (the plan names no sender), the reply-to given
    assert monthly["From"].addresses[0].addr_spec == "cuiban@hebcm.example"
    assert monthly["Reply-To"].addresses[0].addr_spec == "rsc@hebcm.example"
    assert all(m["Reply-To"] is not None for m in sent)


def test_no_mail_to_office_staff_holds_a_shell_command(sqlite_engine, tmp_path: Path) -> None:
    plan, calendar = load_plan(SHIPPED_PLAN)
    plan = plan.model_copy(update={"reminders": plan.reminders.model_copy(update={"combine": False})})
    for day in ("11-29", "12-01", "12-16", "12-19"):
        _send(sqlite_engine, plan, calendar, tmp_path / "outbox", day, Links(BASE))
    with sqlite_engine.connect() as connection:
        rows = outbox_store.rows(connection)
    assert {r["kind"] for r in rows} >= {"reminder", "escalation", "digest"}
    for row in rows:
        for body in (row["subject"], row["body_text"], row["body_html"]):
            assert not COMMAND.search(body), (row["key"], COMMAND.search(body))
        assert "请勿直接回复" in row["body_text"] and "联系人：程兴" in row["body_text"], row["key"]
    audit = [r for r in rows if r["key"].startswith("reminder|dept_audit_paper/news|")]
    assert audit and "所需报表：附表6《数据审核报表》" in audit[0]["body_text"]
    download = f"{BASE}/reports/dept-audit?format=xlsx&amp;unit=news"  # the department's own file
    assert f'<a href="{download}"' in audit[0]["body_html"]
    escalations = [r for r in rows if r["kind"] == "escalation"]
    assert all("下一步：" in r["body_text"] for r in escalations)


def test_next_step_is_the_title_when_the_plan_gives_none(sqlite_engine, tmp_path: Path) -> None:
    plan, calendar = load_plan(MINIMAL_PLAN)
    plan = plan.model_copy(update={"reminders": plan.reminders.model_copy(update={"combine": False})})
    sent = _send(sqlite_engine, plan, calendar, tmp_path / "outbox", "11-28")
    (roster,) = [m for m in sent if "提供名单" in str(m["Subject"])]
    assert "下一步：提供名单" in _text(roster)
    assert roster["Reply-To"] is None  # neither the plan nor the environment names one
