"""HTML reports: jinja2 templates in the same sandbox as the emails; an admin's folder overrides by name."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined, select_autoescape

from cuiban.notifications.render import Sandbox

BUILT_IN = Path(__file__).resolve().parent / "templates"


def render_html(name: str, context: dict[str, Any], chart_png: bytes | None, override: Path | None) -> str:
    loaders = [FileSystemLoader(str(override))] if override else []
    loaders.append(FileSystemLoader(str(BUILT_IN)))
    environment = Sandbox(
        loader=ChoiceLoader(loaders),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html",)),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    if chart_png is not None:
        context = {**context, "chart": "data:image/png;base64," + base64.b64encode(chart_png).decode()}
    return environment.get_template(f"{name}.html").render(context)
