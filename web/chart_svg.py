"""The digest's progress chart for the browser: SVG with its words left as text.

Why not the digest's PNG: in a page the browser's own fonts draw the Chinese (no font is
shipped to the client), the department names can be found and read by a screen reader,
and the file is a few kilobytes. The lines are the digest chart's own (`reports.chart.series`:
every department, or the school and the ten furthest behind), so both pictures agree.
No `style` attributes (the pages' Content-Security-Policy refuses them): presentation
attributes only.
"""

from __future__ import annotations

from datetime import date
from xml.sax.saxutils import escape, quoteattr

from cuiban.workflow.forms import Progress

WIDTH, HEIGHT = 900, 440
LEFT, RIGHT, TOP, BOTTOM = 48, 210, 36, 56
COLOURS = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip
"""matplotlib's tab10, as the PNG uses; after ten lines the colours repeat dashed."""


def progress_svg(progress: Progress, title: str, axis_label: str, empty: str) -> str:
    """The chart as an SVG document (also fit to be placed inside a page)."""
    from cuiban.reports.chart import series  # loads matplotlib: only when a chart is drawn

    lines = series(progress)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif" aria-label={quoteattr(title)}>',
        f"<title>{escape(title)}</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>',
        _text(WIDTH / 2 - RIGHT / 2, 22, title, size=15, anchor="middle"),
        *_axes(progress.days, axis_label),
    ]
    if not lines or not progress.days:
        parts.append(_text(LEFT + _plot_width() / 2, TOP + _plot_height() / 2, empty, anchor="middle"))
    for n, (name, values) in enumerate(lines.items()):
        parts.extend(_line(n, name, values, len(progress.days)))
    parts.append("</svg>")
    return "\n".join(parts)


def _plot_width() -> float:
    return WIDTH - LEFT - RIGHT


def _plot_height() -> float:
    return HEIGHT - TOP - BOTTOM


def _x(index: int, count: int) -> float:
    return LEFT + (_plot_width() * index / (count - 1) if count > 1 else _plot_width() / 2)


def _y(percent: float) -> float:
    return TOP + _plot_height() * (1 - min(max(percent, 0.0), 105.0) / 105)


def _text(x: float, y: float, words: str, size: int = 11, anchor: str = "start", extra: str = "") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="#1f2933"{extra}>'
        f"{escape(words)}</text>"
    )


def _axes(days: list[date], axis_label: str) -> list[str]:
    parts = []
    for percent in range(0, 101, 20):
        y = _y(percent)
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + _plot_width()}" y2="{y:.1f}" stroke="#d9dee3"/>'
        )
        parts.append(_text(LEFT - 6, y + 4, str(percent), size=10, anchor="end"))
    middle = TOP + _plot_height() / 2
    parts.append(
        _text(14, middle, axis_label, anchor="middle", extra=f' transform="rotate(-90 14 {middle:.1f})"')
    )
    step = max(1, len(days) // 10)
    for index in range(0, len(days), step):
        x, y = _x(index, len(days)), TOP + _plot_height() + 16
        parts.append(_text(x, y, days[index].strftime("%m-%d"), size=10, anchor="middle"))
    return parts


def _line(n: int, name: str, values: list[float], count: int) -> list[str]:
    colour = COLOURS[n % len(COLOURS)]
    dash = ' stroke-dasharray="6 4"' if n >= len(COLOURS) else ""
    points = " ".join(f"{_x(i, count):.1f},{_y(v):.1f}" for i, v in enumerate(values))
    legend_x, legend_y = WIDTH - RIGHT + 16, TOP + 8 + 20 * n
    last = f"{values[-1]:.0f}%" if values else ""
    return [
        f'<g class="series"><title>{escape(name)} {last}</title>',
        f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="1.8"{dash}/>',
        *(
            f'<circle cx="{_x(i, count):.1f}" cy="{_y(v):.1f}" r="2.2" fill="{colour}"/>'
            for i, v in enumerate(values)
        ),
        f'<line x1="{legend_x}" y1="{legend_y - 4}" x2="{legend_x + 22}" y2="{legend_y - 4}" '
        f'stroke="{colour}" stroke-width="2"{dash}/>',
        _text(legend_x + 28, legend_y, f"{name} {last}"),
        "</g>",
    ]
