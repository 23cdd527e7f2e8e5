"""`cuiban report` from the command line: files written, refusals in plain sentences, admin templates."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from docx import Document

from cuiban.cli.main import cuiban
from cuiban.reports.docx import BUILT_IN
from tests.conftest import SHIPPED_PLAN
from tests.factories import ROSTER_HEADER, roster, write_csv

NOW = "2016-12-19T17:00+08:00"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    path = write_csv(tmp_path / "roster.csv", ROSTER_HEADER, roster(["新闻传播学院", "音乐学院"], 3))
    env = {
        "CUIBAN_PLAN": str(SHIPPED_PLAN),
        "CUIBAN_DB": f"sqlite:///{tmp_path / 'r.sqlite3'}",
        "CUIBAN_OUTBOX_DIR": str(tmp_path / "outbox"),
        "CUIBAN_SMTP_HOST": "",
    }
    assert run(env, "roster", "import", str(path), "--now", "2016-11-28T10:00+08:00").exit_code == 0
    return env


def run(env: dict[str, str], *args: str):
    return CliRunner().invoke(cuiban, list(args), env=env, catch_exceptions=False)


def test_reports_are_written_where_asked(env: dict[str, str], tmp_path: Path) -> None:
    result = run(
        env, "report", "dept-audit", "--unit", "音乐学院", "--now", NOW, "-o", str(tmp_path / "a.xlsx")
    )
    assert result.exit_code == 0 and f"wrote {tmp_path / 'a.xlsx'}" in result.stdout
    book = openpyxl.load_workbook(tmp_path / "a.xlsx")
    assert book.sheetnames == ["音乐学院"]  # one department: no 汇总 sheet, it opens on the department
    assert [c.value for c in book["音乐学院"][5]][1:4] == [3, 0, 3]
    each = run(
        env, "report", "teacher-sheet", "--each", "--format", "html", "--now", NOW, "-o", str(tmp_path / "t")
    )
    assert each.exit_code == 0
    written = sorted(p.name for p in (tmp_path / "t").iterdir())
    assert len(written) == 12 and "附表5_教师信息审核表_新闻传播学院_2016-12-19.html" in written
    page = (tmp_path / "t" / "附表5_教师信息审核表_新闻传播学院_2016-12-19.html").read_text(encoding="utf-8")
    assert page.count('<div class="page">') == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["dept-audit", "--unit", "物理学院"], "物理学院 is not a department of the plan"),
        (["teacher-sheet"], "teacher-sheet needs --unit U"),
        (["teacher-sheet", "--teacher", "999999"], "No teacher has the staff ID 999999."),
        (["working-group", "--each"], "working-group is one file for the whole school"),
        (["dept-audit", "--send"], "--send mails the monthly report"),
    ],
)
def test_refusals_are_plain_sentences(
    env: dict[str, str], tmp_path: Path, args: list[str], message: str
) -> None:
    result = run(env, "report", *args, "-o", str(tmp_path / "x.xlsx"))
    assert result.exit_code == 2 and message in result.stderr
    assert not (tmp_path / "x.xlsx").exists()


def test_pdf_without_libreoffice_says_what_to_install(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    result = run(env, "report", "working-group", "--format", "pdf", "-o", str(tmp_path / "w.pdf"))
    assert result.exit_code == 2 and "PDF output needs LibreOffice" in result.stderr
    assert "apt install libreoffice-writer-nogui" in result.stderr


def test_an_admin_template_shapes_the_report_and_a_broken_one_is_named(
    env: dict[str, str], tmp_path: Path
) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    document = Document(str(BUILT_IN / "dept-audit.docx"))
    auditor = next(p for p in document.paragraphs if p.text == "审核人：{{ a.auditor }}")
    auditor.runs[0].text = "审核人（签字）：{{ a.auditor }}"
    document.save(str(folder / "dept-audit.docx"))
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        SHIPPED_PLAN.read_text(encoding="utf-8").replace("language: zh\n", "language: zh\ntemplates: mine\n"),
        encoding="utf-8",
    )
    assert run(env, "templates", "check", "--plan", str(plan)).exit_code == 0
    out = tmp_path / "a.docx"
    assert (
        run(env, "report", "dept-audit", "--plan", str(plan), "--format", "docx", "-o", str(out)).exit_code
        == 0
    )
    texts = [p.text for p in Document(str(out)).paragraphs]
    assert "审核人（签字）：王晓燕" in texts

    (folder / "monthly.html").write_text("<p>\n{{ entry.total }\n</p>", encoding="utf-8")
    result = run(env, "templates", "check", "--plan", str(plan))
    assert result.exit_code == 2 and f"{folder / 'monthly.html'}:2:" in result.stderr
