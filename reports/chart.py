"""The progress chart: share of each department's teachers who have entered their data, day by day.

Drawn with matplotlib's object API on the Agg canvas (no display, no pyplot state),
as a PNG that fits an email, a workbook and a Word page. Every piece of text — title,
axis label, tick labels, legend — is set explicitly in the packaged Chinese font
(Noto Sans SC, SIL Open Font License 1.1; see `cuiban.reports.fonts`), so department
names come out the same on a machine with no Chinese font installed, without a warning.
The y ticks are fixed (0–100 %) rather than left to a locator so that no text is made
at draw time with the default font.
"""

from __future__ import annotations

import io

from cycler import cycler
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from cuiban.reports.fonts import chinese_font
from cuiban.workflow.forms import Progress

MAX_LINES = 12
"""More departments than this: the school's line and the ten furthest behind."""
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


def progress_figure(progress: Progress, title: str = "各部门教师信息录入进度（已提交）") -> Figure:
    """The chart as a matplotlib Figure on an Agg canvas (about 900×500 pixels at 100 dpi)."""
    figure = Figure(figsize=(9, 5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    # ten colours, solid then dashed: up to twenty lines stay distinguishable
    axes.set_prop_cycle(cycler(linestyle=["-", "--"]) * cycler(color=colormaps["tab10"].colors))
    labels = [d.strftime("%m-%d") for d in progress.days]
    positions = list(range(len(labels)))
    for name, values in series(progress).items():
        axes.plot(positions, values, marker="o", markersize=3, linewidth=1.5, label=name)
    axes.set_title(title, fontproperties=chinese_font(12))
    axes.set_ylabel("已录入 %", fontproperties=chinese_font(10))
    axes.set_ylim(0, 105)
    axes.set_yticks(range(0, 101, 20), [str(n) for n in range(0, 101, 20)], fontproperties=chinese_font(10))
    axes.grid(True, alpha=0.3)
    step = max(1, len(labels) // 10)
    axes.set_xticks(range(0, len(labels), step), labels[::step], rotation=45, fontproperties=chinese_font(8))
    if axes.lines:
        axes.legend(loc="upper left", ncols=2, prop=chinese_font(8))
    figure.subplots_adjust(left=0.08, right=0.98, top=0.92, bottom=0.14)  # fixed: no layout pass
    return figure


def progress_png(progress: Progress, title: str = "各部门教师信息录入进度（已提交）") -> bytes:
    """The chart as PNG bytes (about 900×500 pixels)."""
    buffer = io.BytesIO()
    progress_figure(progress, title).savefig(buffer, format="png")
    return buffer.getvalue()
