"""Rendering messages: pure jinja2, separate from sending.

Templates render in a sandbox with StrictUndefined (a misspelt variable is an error,
not an empty string) and HTML autoescaping. Each kind of message has three templates,
`KIND.subject.txt`, `KIND.txt` and `KIND.html`; an admin's folder (plan key
`templates`) overrides the built-in ones by name. Contexts are built from an explicit
allow-list of fields (see `schedules/`): ID-card and phone numbers never reach them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined, TemplateError, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

BUILT_IN = Path(__file__).resolve().parent / "templates"
KINDS = ("reminder", "escalation", "digest")
PARTS = ("subject.txt", "txt", "html")


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def one_line(text: str) -> str:
    """Header-safe: a value with CR or LF cannot start another header."""
    return re.sub(r"[\r\n]+", " ", text).strip()


class Sandbox(SandboxedEnvironment):
    """The sandbox, with `row.name` on a plain dict looked up as a key first.

    jinja2 tries the attribute first and falls back to the key through an exception,
    which made a reminder listing 100 teachers render six times slower. Contexts are
    plain dicts of data, so a key is what `.` means in them; a name that is not a key
    still goes through the sandbox's checks.
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


class Renderer:
    def __init__(self, language: str = "zh", override: Path | None = None) -> None:
        loaders = [FileSystemLoader(str(override))] if override else []
        loaders.append(FileSystemLoader(str(BUILT_IN / language)))
        self.override = override
        self.environment = Sandbox(
            loader=ChoiceLoader(loaders),
            undefined=StrictUndefined,
            autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,  # templates do not change under a running tick
        )

    def render(self, kind: str, context: dict[str, Any]) -> Rendered:
        get = self.environment.get_template
        return Rendered(
            subject=one_line(get(f"{kind}.subject.txt").render(context)),
            text=get(f"{kind}.txt").render(context),
            html=get(f"{kind}.html").render(context),
        )

    def check(self, also_known: frozenset[str] = frozenset()) -> list[str]:
        """Every template that does not compile, as `name:line: reason` (admin folder first).

        A file of the admin's folder that is neither a message template nor one of
        `also_known` (the report templates) is named too: it would never be used.
        """
        problems = []
        for kind in KINDS:
            for part in PARTS:
                name = f"{kind}.{part}"
                try:
                    self.environment.get_template(name)
                except TemplateError as error:
                    where = getattr(error, "filename", None) or name
                    line = getattr(error, "lineno", None)
                    problems.append(f"{where}:{line or 1}: {error.message or error}")
        if self.override is not None:
            known = {f"{k}.{p}" for k in KINDS for p in PARTS} | also_known
            for path in sorted(self.override.glob("*")):
                if path.is_file() and path.name not in known:
                    problems.append(f"{path}:1: not a template name cuiban uses ({', '.join(sorted(known))})")
        return problems
