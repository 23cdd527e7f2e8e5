"""The progress chart: share of each department's teachers who have entered their data, day by day.

Drawn with matplotlib's object API on the Agg canvas (no display, no pyplot state),
as a PNG that fits an email, a workbook and a Word page. Department names need a
font with Chinese glyphs: the first installed of `CJK_FONTS` is used; without one
the chart is still drawn and `cjk_font()` returns None so that callers can say so.
"""

from __future__ import annotations

import io
import logging
from functools import cache

from cycler import cycler
from matplotlib import colormaps, font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from cuiban.workflow.forms import Progress

CJK_FONTS = (
    "WenQuanYi Zen Hei",
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
)
logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)  # weight fallbacks are not news

MAX_LINES = 12
"""More departments than this: the school's line and the ten furthest behind."""
NO_FONT = (
    "No font with Chinese glyphs is installed, so the chart's labels may show as boxes "
    "(apt install fonts-wqy-zenhei)."
)


@cache
def cjk_font() -> str | None:
    """The first installed font of CJK_FONTS, or None."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def _percent(done: int, total: int) -> float:
    return 100.0 * done / total if total else 0.0


def series(progress: Progress) -> dict[str, list[float]]:
    """The lines to draw: every department, or the school and the ten furthest behind."""
    lines = {
        name: [_percent(n, progress.totals[name]) for n in counts]
        for name, counts in progress.entered.items()
        if progress.totals[name]
    }
    if len(lines) <= MAX_LINES:
        return lines
    school_total = sum(progress.totals.values())
    school = [
        _percent(sum(counts[i] for counts in progress.entered.values()), school_total)
        for i in range(len(progress.days))
    ]
    behind = sorted(lines, key=lambda name: lines[name][-1])[:10]
    return {"全校": school} | {name: lines[name] for name in behind}


def progress_png(progress: Progress, title: str = "各部门教师信息录入进度（已提交）") -> bytes:
    """The chart as PNG bytes (about 900×500 pixels)."""
    font = cjk_font()
    figure = Figure(figsize=(9, 5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    # ten colours, solid then dashed: up to twenty lines stay distinguishable
    axes.set_prop_cycle(cycler(linestyle=["-", "--"]) * cycler(color=colormaps["tab10"].colors))
    labels = [d.strftime("%m-%d") for d in progress.days]
    positions = list(range(len(labels)))
    for name, values in series(progress).items():
        axes.plot(positions, values, marker="o", markersize=3, linewidth=1.5, label=name)
    family = [font] if font else None
    text = {"family": family} if family else {}
    axes.set_title(title, fontdict=text)
    axes.set_ylabel("已录入 %", fontdict=text)
    axes.set_ylim(0, 105)
    axes.grid(True, alpha=0.3)
    step = max(1, len(labels) // 10)
    axes.set_xticks(range(0, len(labels), step), labels[::step], rotation=45, fontsize=8)
    if axes.lines:
        axes.legend(
            loc="upper left", fontsize=8, ncols=2, prop={"family": family, "size": 8} if family else None
        )
    figure.subplots_adjust(left=0.08, right=0.98, top=0.92, bottom=0.14)  # fixed: no layout pass
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
