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
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from matplotlib import font_manager
from matplotlib.font_manager import FontProperties

FONT_PACKAGE = "pylopdf_fonts_zh_cn"
"""The distribution `pylopdf-fonts-zh-cn`, looked up by name: it holds data, not code."""
FONT_FILE = "NotoSansSC-Regular.otf"
FAMILY = "Noto Sans SC"


@cache
def chinese_font_path() -> Path:
    """The packaged font file, registered with matplotlib's font manager (once)."""
    path = Path(str(resources.files(FONT_PACKAGE).joinpath(FONT_FILE)))
    font_manager.fontManager.addfont(str(path))
    return path


def chinese_font(size: float | None = None) -> FontProperties:
    """Properties that draw with the packaged font and nothing else (`size` in points)."""
    return FontProperties(fname=chinese_font_path(), size=size)
