"""Writing a report file: the form's context, in the format asked for, to the path asked for.

PDF is the Word report converted by LibreOffice, so that an admin's edited .docx
template shapes the PDF too.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from cuiban.reports import docx, html, pdf, xlsx
from cuiban.reports.catalog import FORMATS

_XLSX = {
    "dept-audit": lambda context, chart, out: xlsx.dept_audit(context, out),
    "monthly": xlsx.monthly,
    "teacher-sheet": lambda context, chart, out: xlsx.teacher_sheet(context, out),
    "working-group": lambda context, chart, out: xlsx.working_group(context, out),
    "province-monthly": xlsx.province_monthly,
}


def write(
    name: str,
    context: dict[str, Any],
    fmt: str,
    out: Path,
    chart_png: bytes | None = None,
    override: Path | None = None,
) -> Path:
    """Write report `name` as `fmt` to `out` (its folder is created); the path written."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "xlsx":
        _XLSX[name](context, chart_png, out)
    elif fmt == "docx":
        docx.render_docx(name, context, chart_png, override, out)
    elif fmt == "html":
        out.write_text(html.render_html(name, context, chart_png, override), encoding="utf-8")
    elif fmt == "pdf":
        with tempfile.TemporaryDirectory(prefix="cuiban-report-") as work:
            word = Path(work) / (out.stem + ".docx")
            docx.render_docx(name, context, chart_png, override, word)
            pdf.docx_to_pdf(word, out)
    else:
        raise ValueError(f"{fmt} is not a report format ({', '.join(FORMATS)})")
    return out
