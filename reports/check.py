"""Checking an admin's report templates before a report needs them."""

from __future__ import annotations

from pathlib import Path

from docxtpl import DocxTemplate
from jinja2 import TemplateError

from cuiban.notifications.render import Sandbox, reason_of, unknown_filters_and_tests
from cuiban.reports.catalog import REPORTS

NAMES = frozenset(f"{name}.{ext}" for name in REPORTS for ext in ("docx", "html"))
"""File names in the plan's templates folder that override a built-in report template."""


def check_report_templates(folder: Path | None) -> list[str]:
    """Every report template of the admin's folder that does not compile, as `path:line: reason`.

    A template is compiled in the same sandbox reports render in, so a filter it refuses
    (`attr`) is named here too, even inside an `{% if %}`.
    """
    if folder is None:
        return []
    problems = []
    environment = Sandbox(autoescape=True)
    for name in sorted(NAMES):
        path = folder / name
        if not path.is_file():
            continue
        try:
            source = path.read_text(encoding="utf-8") if path.suffix == ".html" else _docx_source(path)
            ast = environment.parse(source, name, str(path))
            environment.compile(ast, name, str(path))
            found = unknown_filters_and_tests(environment, ast)
            problems += [f"{path}:{line}: {reason}" for line, reason in found]
        except TemplateError as error:
            problems.append(f"{path}:{getattr(error, 'lineno', None) or 1}: {reason_of(error)}")
        except Exception as error:  # a file Word cannot open is as broken as a bad tag
            problems.append(f"{path}:1: cannot be read as {path.suffix[1:]} ({error})")
    return problems


def _docx_source(path: Path) -> str:
    """The jinja2 source docxtpl makes of a Word template's body (its lines are not the document's)."""
    template = DocxTemplate(str(path))
    template.get_undeclared_template_variables(Sandbox(autoescape=True))  # headers and footers parse too
    template.init_docx()
    return template.patch_xml(template.get_xml())
