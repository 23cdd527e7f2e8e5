"""Checking an admin's report templates before a report needs them."""

from __future__ import annotations

from pathlib import Path

from docxtpl import DocxTemplate
from jinja2 import TemplateError

from notifications.render import Sandbox
from reports.catalog import REPORTS

NAMES = frozenset(f"{name}.{ext}" for name in REPORTS for ext in ("docx", "html"))
"""File names in the plan's templates folder that override a built-in report template."""


def check_report_templates(folder: Path | None) -> list[str]:
    """Every report template of the admin's folder that does not compile, as `path:line: reason`."""
    if folder is None:
        return []
    problems = []
    environment = Sandbox(autoescape=True)
    for name in sorted(NAMES):
        path = folder / name
        if not path.is_file():
            continue
        try:
            if path.suffix == ".html":
                environment.parse(path.read_text(encoding="utf-8"))
            else:
                DocxTemplate(str(path)).get_undeclared_template_variables(environment)
        except TemplateError as error:
            problems.append(f"{path}:{getattr(error, 'lineno', None) or 1}: {error.message or error}")
        except Exception as error:  # a file Word cannot open is as broken as a bad tag
            problems.append(f"{path}:1: cannot be read as {path.suffix[1:]} ({error})")
    return problems
