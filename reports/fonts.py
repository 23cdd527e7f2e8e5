"""The font the charts draw Chinese text with, shipped as a Python dependency.

Department names, titles and legends are Chinese. matplotlib's own font (DejaVu Sans)
has no Chinese glyphs, and a fresh server has no Chinese system font, so without a
font of our own every character is an empty box and every draw warns "Glyph … missing".
The font therefore comes from PyPI with the rest of the code: Noto Sans SC Regular
(the Simplified Chinese subset of Noto Sans CJK, Latin, digits and punctuation
included) from the `pylopdf-fonts-zh-cn` package, under the SIL Open Font License 1.1,
which allows bundling and redistributing it with software. One weight, 8 MB.

The charts use the font by its file (`FontProperties(fname=…)`), not by family name,
so that matplotlib never looks it up among the system's fonts: what is installed on
the machine (a Chinese font or none) does not change a chart. It is also registered
with matplotlib's font manager so that its family name resolves for anyone who asks.

The same package holds Noto Serif SC, a Song (宋体-style) face with Latin letters and digits
drawn to match. The forms name 宋体 (SimSun) for every script, which an office's Windows has;
LibreOffice on a server has no 宋体 and used to set Chinese in whatever CJK font it found
(WenQuanYi Zen Hei, a sans) and the digits in fontconfig's guess for "SimSun" (DejaVu Serif):
serif digits beside sans Chinese. `fontconfig` tells LibreOffice, for the PDFs made here, to set
宋体 and 仿宋 in Noto Serif SC and 黑体 in Noto Sans SC, Chinese and Latin alike.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from xml.sax.saxutils import escape

from matplotlib import font_manager
from matplotlib.font_manager import FontProperties

FONT_PACKAGE = "pylopdf_fonts_zh_cn"
"""The distribution `pylopdf-fonts-zh-cn`, looked up by name: it holds data, not code."""
FONT_FILE = "NotoSansSC-Regular.otf"
FAMILY = "Noto Sans SC"
SERIF_FAMILY = "Noto Serif SC"
SUBSTITUTES = {
    SERIF_FAMILY: (
        "宋体",
        "SimSun",
        "新宋体",
        "NSimSun",
        "仿宋",
        "FangSong",
        "仿宋_GB2312",
        "FangSong_GB2312",
    ),
    FAMILY: ("黑体", "SimHei", "微软雅黑", "Microsoft YaHei"),
}
"""Packaged family → the Windows Chinese fonts it stands in for when LibreOffice makes a PDF."""


def font_folder() -> Path:
    """The folder of the packaged fonts (Noto Sans SC and Noto Serif SC)."""
    return Path(str(resources.files(FONT_PACKAGE)))


@cache
def chinese_font_path() -> Path:
    """The packaged font file, registered with matplotlib's font manager (once)."""
    path = font_folder() / FONT_FILE
    font_manager.fontManager.addfont(str(path))
    return path


def chinese_font(size: float | None = None) -> FontProperties:
    """Properties that draw with the packaged font and nothing else (`size` in points)."""
    return FontProperties(fname=chinese_font_path(), size=size)


def fontconfig(cache: Path) -> str:
    """A fontconfig file (for FONTCONFIG_FILE) that keeps the system's fonts, adds the packaged ones
    and sets the forms' Windows fonts in them for every script (`cache`: a writable folder)."""
    rules = "".join(
        f"""  <match target="pattern"><test name="family" qual="any"><string>{escape(name)}</string></test>"""
        f"""<edit name="family" mode="prepend" binding="strong"><string>{family}</string></edit></match>\n"""
        for family, names in SUBSTITUTES.items()
        for name in names
    )
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n<fontconfig>\n'
        '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n'
        f"  <dir>{escape(str(font_folder()))}</dir>\n  <cachedir>{escape(str(cache))}</cachedir>\n"
        f"{rules}</fontconfig>\n"
    )
