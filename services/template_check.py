"""`cuiban templates check`: every message and report template rendered against sample messages.

The built-in templates of the plan's language, and the plan's own `templates` folder
overriding them; each problem names its file and line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cuiban.notifications.render import Renderer
from cuiban.notifications.samples import SAMPLES
from cuiban.notifications.template_check import check_templates, languages
from cuiban.planfile.loader import load_plan
from cuiban.reports.check import NAMES, check_report_templates


@dataclass(frozen=True)
class TemplatesChecked:
    problems: list[str]
    summary: str
    """What was checked, for the OK line."""


def check_all(plan_path: str | Path) -> TemplatesChecked:
    plan, _ = load_plan(plan_path)
    folder = Path(plan_path).parent / plan.templates if plan.templates else None
    renderer = Renderer(plan.language, folder)
    problems = check_templates(renderer, NAMES) + check_report_templates(renderer.override)
    checked = f"built-in {' and '.join(languages())}" + (f", overrides from {folder}" if folder else "")
    summary = f"templates for {plan.language} ({checked}; rendered with {len(SAMPLES)} sample messages)"
    return TemplatesChecked(problems, summary)
