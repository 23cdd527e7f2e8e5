"""Every form prints as written: each xlsx and docx of the demo campaign, converted to PDF by LibreOffice
(the way an office prints it, `reports.pdf`), is on A4, one page wide, on the pages it should be, with no
word past the printable width and no name cut from a wrapped cell.

Figures as of 2016-12-09 18:00 (read from the log of the campaign replayed to 12-16), when the
departments' 未完成教职工姓名 lists are longest. Two LibreOffice runs convert all ten files.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import zipfile
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any

import openpyxl
import pendulum
import pytest

from cuiban.cli.bootstrap import packaged_plan
from cuiban.models.database import open_engine
from cuiban.planfile.loader import load_plan
from cuiban.reports.pdf import to_pdfs
from cuiban.services.report_files import build_context, write_reports
from tests.web_support import TZ, campaign_file

NOW = pendulum.datetime(2016, 12, 9, 18, tz=TZ)
A4 = (595.3, 841.9)
"""Points: A4 portrait (landscape is the same turned)."""
MARGIN = 28.3
"""Points (10 mm): no word may come closer to the paper's edge (every form's margins are wider)."""
WRITING_ROW_PT = 22.7
"""8 mm in points: the least height of a row someone writes in."""
FORMS: dict[str, tuple[str, dict[str, Any]]] = {
    "dept-audit": ("dept-audit", {}),
    "dept-audit-one": ("dept-audit", {"unit": "公共基础教研室"}),
    "monthly": ("monthly", {}),
    "teacher-sheet": ("teacher-sheet", {"unit": "news"}),
    "working-group": ("working-group", {}),
}
PAGES = {
    "dept-audit-xlsx": 13,  # 汇总 and twelve departments, each on one page
    "dept-audit-docx": 12,
    "dept-audit-one-xlsx": 1,
    "dept-audit-one-docx": 1,
    "monthly-xlsx": 1,
    "monthly-docx": 1,
    "teacher-sheet-xlsx": 23,  # one per teacher of 新闻传播学院
    "teacher-sheet-docx": 23,
    "working-group-xlsx": 1,
    "working-group-docx": 1,
}


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CUIBAN_REQUIRE_PDF") == "1":
        pytest.fail(f"CUIBAN_REQUIRE_PDF=1 but {reason}")
    pytest.skip(f"{reason}: bash .ci/converters.sh installs it (PDF output)")


@pytest.fixture(scope="module")
def forms(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every form as xlsx and docx, their PDFs, and the 附表6 context (the names to find)."""
    if shutil.which("soffice") is None or shutil.which("pdftotext") is None:
        _skip_or_fail("LibreOffice (soffice) or poppler-utils is not installed")
    folder = tmp_path_factory.mktemp("forms")
    engine = open_engine(f"sqlite:///{campaign_file(folder, date(2016, 12, 16))}")
    plan, _ = load_plan(packaged_plan())
    sources = {}
    for label, (name, options) in FORMS.items():
        for fmt in ("xlsx", "docx"):
            key = f"{label}-{fmt}"
            (sources[key],) = write_reports(engine, plan, name, fmt, NOW, folder / f"{key}.{fmt}", **options)
    halves = [[p for p in sources.values() if p.suffix == suffix] for suffix in (".xlsx", ".docx")]
    try:  # two LibreOffice runs at once (each its own profile): Calc's and Writer's
        with ThreadPoolExecutor(2) as pool:
            converted = dict(
                zip(
                    (p for half in halves for p in half),
                    (
                        p
                        for pdfs in pool.map(lambda half: to_pdfs(half, folder / "pdf"), halves)
                        for p in pdfs
                    ),
                    strict=True,
                )
            )
    except RuntimeError as error:  # Writer without Calc cannot open a workbook
        _skip_or_fail(f"LibreOffice could not convert every form ({error}); Calc is libreoffice-calc-nogui")
    audits, _ = build_context(engine, plan, "dept-audit", NOW)
    engine.dispose()
    return {
        "sources": sources,
        "pdfs": {key: converted[path] for key, path in sources.items()},
        "audits": audits["audits"],
    }


def _pages(pdf: Path) -> list[tuple[float, float, list[tuple[float, float, float, str]]]]:
    """Each page's width, height and words (xMin, xMax, yMin, text), from pdftotext's bounding boxes."""
    html = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    pages = []
    for page in re.finditer(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', html, re.DOTALL):
        words = [
            (float(x0), float(x1), float(y0), text)
            for x0, y0, x1, text in re.findall(
                r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)"[^>]*>([^<]*)<', page[3]
            )
        ]
        pages.append((float(page[1]), float(page[2]), words))
    return pages


def _text(pdf: Path) -> str:
    """The PDF's text in content order, without white space (a wrapped name is split over two lines)."""
    raw = subprocess.run(
        ["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return re.sub(r"\s+", "", raw)


@pytest.mark.parametrize("key", sorted(PAGES))
def test_each_form_is_on_a4_one_page_wide_within_the_printable_width(forms: dict[str, Any], key: str) -> None:
    pages = _pages(forms["pdfs"][key])
    assert len(pages) == PAGES[key]
    for width, height, words in pages:
        assert sorted((round(width, 1), round(height, 1))) == sorted(A4)
        assert words, "an empty page"
        past = [text for x0, x1, _, text in words if x0 < MARGIN or x1 > width - MARGIN]
        assert past == [], f"{key}: words past the printable width: {past}"


@pytest.mark.parametrize("fmt", ["xlsx", "docx"])
def test_no_name_is_cut_from_the_lists_of_missing_teachers(forms: dict[str, Any], fmt: str) -> None:
    names = [
        name
        for a in forms["audits"]
        for stage in (a["entry"], a["review"])
        for name in stage["missing_names"].split("、")
        if name
    ]
    assert len(names) > 100  # the lists are long on 12-09
    text = _text(forms["pdfs"][f"dept-audit-{fmt}"])
    for a in forms["audits"]:
        for stage in (a["entry"], a["review"]):
            if stage["missing_names"]:
                assert stage["missing_names"] in text, a["unit_name"]
    one = _text(forms["pdfs"][f"dept-audit-one-{fmt}"])
    (single,) = (a for a in forms["audits"] if a["unit_name"] == "公共基础教研室")
    assert single["entry"]["missing_names"] in one and single["review"]["missing_names"] in one


def test_every_address_of_the_working_group_is_on_one_line(forms: dict[str, Any]) -> None:
    book = openpyxl.load_workbook(forms["sources"]["working-group-xlsx"])
    addresses = {c.value for row in book.active.iter_rows() for c in row if isinstance(c.value, str)}
    addresses = {a for a in addresses if re.fullmatch(r"[\w.]+@[\w.]+", a)}
    assert len(addresses) >= 10
    for fmt in ("xlsx", "docx"):
        words = {text for _, _, page in _pages(forms["pdfs"][f"working-group-{fmt}"]) for *_, text in page}
        assert addresses <= words, f"{fmt}: broken: {addresses - words}"
        assert not any("\u200b" in a for a in words)  # no hidden break characters copied with an address


def test_workbooks_print_a4_fitted_one_page_wide_with_their_title_rows(forms: dict[str, Any]) -> None:
    for key, path in forms["sources"].items():
        if path.suffix != ".xlsx":
            continue
        for sheet in openpyxl.load_workbook(path).worksheets:
            setup = sheet.page_setup
            assert (setup.paperSize, setup.fitToWidth, setup.fitToHeight) == (9, 1, 0), key
            assert sheet.sheet_properties.pageSetUpPr.fitToPage, key
            assert sheet.print_title_rows and sheet.print_title_rows.startswith("$1:"), key
            assert {c.font.name for row in sheet.iter_rows() for c in row if c.value is not None} == {"宋体"}
    one = openpyxl.load_workbook(forms["sources"]["dept-audit-one-xlsx"])
    assert one.sheetnames == ["公共基础教研室"]  # one department: no 汇总 sheet
    assert openpyxl.load_workbook(forms["sources"]["working-group-xlsx"]).active.page_setup.orientation == (
        "landscape"  # seven columns, the addresses whole
    )


def test_correction_rows_are_at_least_8_mm_high(forms: dict[str, Any]) -> None:
    book = openpyxl.load_workbook(forms["sources"]["teacher-sheet-xlsx"])
    for sheet in book.worksheets:
        first = next(c.row for c in sheet["A"] if c.value == "序号") + 1
        heights = [sheet.row_dimensions[r].height for r in range(first, first + 6)]
        assert [sheet.cell(r, 1).value for r in range(first, first + 6)] == [1, 2, 3, 4, 5, 6]
        assert min(heights) >= WRITING_ROW_PT
    for fmt in ("xlsx", "docx"):  # on paper too, once fitted to the page: the numbers' lines are 8 mm apart
        _, _, words = _pages(forms["pdfs"][f"teacher-sheet-{fmt}"])[0]
        tops = [y for _, _, y, text in words if text in "123456" and len(text) == 1][-6:]
        assert len(tops) == 6 and min(b - a for a, b in pairwise(tops)) >= WRITING_ROW_PT, fmt
    xml = zipfile.ZipFile(forms["sources"]["teacher-sheet-docx"]).read("word/document.xml").decode()
    heights = re.findall(r'<w:trHeight w:val="(\d+)" w:hRule="(atLeast|exact)"/>', xml)
    assert len(heights) == 23 * 6 and all(int(v) >= 8 * 1440 / 25.4 for v, _ in heights)  # twips


def test_word_tables_have_every_border_and_every_script_in_song(forms: dict[str, Any]) -> None:
    for key, path in forms["sources"].items():
        if path.suffix != ".docx":
            continue
        with zipfile.ZipFile(path) as word:
            document, styles = (word.read(f"word/{n}.xml").decode() for n in ("document", "styles"))
        tables = re.findall(r"<w:tbl>.*?</w:tblPr>", document, re.DOTALL)
        assert tables, key
        for table in tables:
            for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
                assert re.search(rf'<w:{edge} w:val="single"', table), f"{key}: no {edge} border"
        defaults = re.search(r"<w:docDefaults>.*?</w:docDefaults>", styles, re.DOTALL)[0]
        normal = re.search(r'w:styleId="Normal".*?</w:style>', styles, re.DOTALL)[0]
        fonts = re.findall(r"<w:rFonts [^>]*/>", defaults + normal)
        assert fonts and all(
            all(f'w:{script}="宋体"' in f for script in ("ascii", "hAnsi", "eastAsia")) and "Theme" not in f
            for f in fonts
        ), key
    for key, pdf in forms["pdfs"].items():  # LibreOffice set them all in the packaged Song face
        used = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
        assert "NotoSerifSC" in used and "DejaVuSerif" not in used, key
