"""`cuiban templates check`: every message and report template rendered against sample messages.

The built-in templates of the plan's language, and the plan's own `templates` folder
overriding them; each problem names its file and line.
"""

from __future__ import annotations

from dataclasses import dataclass

from cuiban.notifications.render import Renderer
from cuiban.notifications.samples import SAMPLES
from cuiban.notifications.template_check import check_templates, languages
from cuiban.reports.check import NAMES, check_report_templates


@dataclass(frozen=True)
class TemplatesChecked:
    problems: list[str]
    summary: str
    """What was checked, for the OK line."""


def check_all(renderer: Renderer) -> TemplatesChecked:
    """Every template `renderer` would use (the plan's: its language, its `templates` folder first)."""
    folder = renderer.override
    problems = check_templates(renderer, NAMES) + check_report_templates(folder)
    checked = f"built-in {' and '.join(languages())}" + (f", overrides from {folder}" if folder else "")
    summary = f"templates for {renderer.language} ({checked}; rendered with {len(SAMPLES)} sample messages)"
    return TemplatesChecked(problems, summary)
