"""Word reports from docxtpl templates (jinja2 tags inside a .docx); an admin's folder overrides by name."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from docx.shared import Mm
from docxtpl import DocxTemplate, InlineImage

from cuiban.notifications.render import Sandbox

BUILT_IN = Path(__file__).resolve().parent / "templates"


def template_path(name: str, override: Path | None) -> Path:
    """The admin's `NAME.docx` when the plan's templates folder has one, else the built-in one."""
    if override is not None and (override / f"{name}.docx").is_file():
        return override / f"{name}.docx"
    return BUILT_IN / f"{name}.docx"


def render_docx(
    name: str, context: dict[str, Any], chart_png: bytes | None, override: Path | None, out: Path
) -> None:
    document = DocxTemplate(str(template_path(name, override)))
    if chart_png is not None:
        context = {**context, "chart": InlineImage(document, io.BytesIO(chart_png), width=Mm(165))}
    document.render(context, jinja_env=Sandbox(autoescape=True), autoescape=True)
    document.save(str(out))
