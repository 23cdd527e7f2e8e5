"""The progress chart (the digest's and 附表4's) draws its Chinese text with the packaged font.

matplotlib sees fonts only through `fontManager.ttflist`. Each test here first takes
every font but matplotlib's own (DejaVu) out of that list — what matplotlib sees on a
machine with no Chinese font installed — so a chart that leaned on a system font
(WenQuanYi, Noto CJK from .ci/converters.sh) would fall back to DejaVu and fail.
Then, for every piece of text the drawn figure holds, the font matplotlib resolves
for it must be the packaged file, and that file must have a glyph for every
character; and drawing must not warn.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from datetime import date, timedelta
from pathlib import Path

import matplotlib
import pytest
from matplotlib import font_manager
from matplotlib.ft2font import FT2Font
from matplotlib.text import Text

from cuiban.planfile.loader import load_plan
from cuiban.reports.chart import progress_figure, progress_png, series
from cuiban.reports.fonts import FAMILY, chinese_font_path
from cuiban.workflow.forms import Progress
from tests.conftest import SHIPPED_PLAN

MPL_DATA = Path(matplotlib.get_data_path()).resolve()


@pytest.fixture(autouse=True)
def no_system_fonts(monkeypatch: pytest.MonkeyPatch) -> None:
    """matplotlib's view of a machine without a Chinese font: its own fonts only."""
    own = [f for f in font_manager.fontManager.ttflist if MPL_DATA in Path(f.fname).resolve().parents]
    assert own and not any(_has_chinese(f.fname) for f in own)
    monkeypatch.setattr(font_manager.fontManager, "ttflist", own)
    font_manager.fontManager._findfont_cached.cache_clear()  # lookups made with the full list
    chinese_font_path.cache_clear()  # registers the packaged font again, in this list
    yield
    font_manager.fontManager._findfont_cached.cache_clear()
    chinese_font_path.cache_clear()


def _has_chinese(path: str) -> bool:
    """LastResort maps every character to a placeholder box: that is the fallback, not a glyph."""
    return "LastResort" not in path and ord("部") in FT2Font(path).get_charmap()


def _progress(names: list[str]) -> Progress:
    days = [date(2016, 11, 28) + timedelta(days=n) for n in range(33)]
    totals = {name: 10 + i for i, name in enumerate(names)}
    entered = {
        name: [min(totals[name], (d * (i + 1)) // 4) for d in range(len(days))]
        for i, name in enumerate(names)
    }
    return Progress(days, totals, entered)


def _departments() -> list[str]:
    plan, _ = load_plan(SHIPPED_PLAN)
    return [plan.units[uid].name for uid in plan.departments()]


CASES = {
    "every department": lambda: _progress(_departments()[:8]),
    "school and the ten furthest behind": lambda: _progress(
        _departments() + [f"第{n}教研室" for n in range(12)]
    ),
}


def _drawn_texts(progress: Progress) -> list[Text]:
    figure = progress_figure(progress)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figure.canvas.draw()
    assert not [str(w.message) for w in caught]
    texts = [t for t in figure.findobj(Text) if t.get_visible() and t.get_text().strip()]
    assert texts
    return texts


@pytest.mark.parametrize("case", CASES)
def test_every_character_drawn_has_a_glyph_in_the_packaged_font(case: str) -> None:
    progress = CASES[case]()
    texts = _drawn_texts(progress)
    packaged = chinese_font_path()
    charmap = FT2Font(str(packaged)).get_charmap()
    drawn = "".join(t.get_text() for t in texts)
    for name in series(progress):  # the legend: every line's department (or 全校)
        assert name in drawn
    assert "各部门教师信息录入进度" in drawn and "已录入" in drawn
    for text in texts:
        used = Path(font_manager.findfont(text.get_fontproperties()))
        assert used == packaged, f"{text.get_text()!r} is drawn with {used}"
        missing = [c for c in text.get_text() if not c.isspace() and ord(c) not in charmap]
        assert not missing, f"{text.get_text()!r}: no glyph for {missing} in {packaged.name}"


def test_the_png_is_drawn_without_a_warning() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = progress_png(CASES["school and the ten furthest behind"]())
    assert png.startswith(b"\x89PNG")
    assert not [str(w.message) for w in caught]


def test_the_font_is_the_packaged_noto_sans_sc_and_comes_with_its_licence() -> None:
    path = chinese_font_path()
    assert "site-packages" in path.parts or path.is_relative_to(Path(sys.prefix))
    font = FT2Font(str(path))
    assert font.family_name == FAMILY and font.style_name == "Regular"
    licence = subprocess.run(
        [sys.executable, "-m", "pip", "show", "pylopdf-fonts-zh-cn"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Open Font License" in licence
    # registered, so that the family name also resolves (looked up in the package's folder:
    # with MPL_IGNORE_SYSTEM_FONTS set, a lookup by name searches only matplotlib's own)
    found = font_manager.findfont(FAMILY, directory=str(path.parent), fallback_to_default=False)
    assert Path(found) == path


def test_a_fresh_process_with_no_matplotlib_cache_prints_no_glyph_warning(tmp_path: Path) -> None:
    """A first run with matplotlib told to ignore the system's fonts (its own switch for that):
    import, build the font list, draw, with warnings as errors."""
    script = (
        "from datetime import date\n"
        "from cuiban.reports.chart import progress_png\n"
        "from cuiban.workflow.forms import Progress\n"
        "png = progress_png(Progress([date(2016, 12, 1)], {'信息中心': 4}, {'信息中心': [3]}))\n"
        "assert png.startswith(b'\\x89PNG')\n"
    )
    result = subprocess.run(
        [sys.executable, "-W", "error::UserWarning", "-c", script],
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "MPLCONFIGDIR": str(tmp_path),  # no font cache: the list is built afresh
            "MPL_IGNORE_SYSTEM_FONTS": "1",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Glyph" not in result.stdout + result.stderr
