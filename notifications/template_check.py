"""`cuiban templates check`: every message template compiled, read and rendered before a tick needs it.

For each template (the built-in ones of every language, and the files of the plan's
templates folder) the check

1. compiles it in the sandbox (a syntax error, or a refused filter such as `attr`);
2. reads it: a name that is not a variable of its kind of message, a field the
   contexts do not have (`task.titel`), a field of a plain value (`task.title.upper`),
   a filter or test that does not exist, even in a branch the samples never take,
   and even behind `is defined` or `|default` (the contexts have a fixed set of fields);
3. renders it against every sample context of its kind (`notifications.samples`):
   an undefined name, a refused attribute (`''.__class__`), a refused filter
   argument, or any other error while rendering.

Each problem is one line, `FILE:LINE: reason`: the file's path for the admin's folder,
`built-in LANG/NAME` for a built-in template.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, nodes
from jinja2 import meta as jinja_meta

from cuiban.notifications.render import (
    BUILT_IN,
    KINDS,
    PARTS,
    Renderer,
    TemplateFailure,
    unknown_filters_and_tests,
)
from cuiban.notifications.samples import SAMPLES, Sample

TEMPLATE_NAMES = tuple(f"{kind}.{part}" for kind in KINDS for part in PARTS)


def languages() -> list[str]:
    """The built-in languages: a folder each under notifications/templates."""
    return sorted(p.name for p in BUILT_IN.iterdir() if p.is_dir())


def check_templates(renderer: Renderer, also_known: frozenset[str] = frozenset()) -> list[str]:
    """`templates check`: the built-in templates of every language, then the renderer's own folder."""
    problems: list[str] = []
    for language in languages():
        problems += _built_in_problems(language, also_known)
    if renderer.override is not None:
        problems += check_renderer(renderer, also_known)
    return problems


@functools.cache
def _built_in_problems(language: str, also_known: frozenset[str]) -> tuple[str, ...]:
    """The built-in templates do not change while cuiban runs: checked once per process."""
    return tuple(check_renderer(Renderer(language), also_known))


def check_renderer(renderer: Renderer, also_known: frozenset[str] = frozenset()) -> list[str]:
    """Every problem of the templates `renderer` uses: its folder's files, or the built-in ones.

    A file of the admin's folder that is neither a message template nor one of
    `also_known` (the report templates) is named too: it would never be used.
    """
    folder = renderer.override
    if folder is not None and not folder.is_dir():
        return [f"{folder}:1: the plan's templates folder does not exist"]
    names = [n for n in TEMPLATE_NAMES if folder is None or (folder / n).is_file()]
    problems: list[str] = []
    for name in names:
        problems += check_template(renderer, name)
    if folder is not None:
        known = set(TEMPLATE_NAMES) | also_known
        for path in sorted(folder.glob("*")):
            if path.is_file() and path.name not in known:
                problems.append(f"{path}:1: not a template name cuiban uses ({', '.join(sorted(known))})")
    return problems


def check_template(renderer: Renderer, name: str) -> list[str]:
    """One message template (`reminder.txt`) as `renderer` loads it: compiled, read, rendered."""
    kind = name.split(".", 1)[0]
    samples = [s for s in SAMPLES if s.kind == kind]
    try:
        template = renderer.template(name)
    except TemplateFailure as failure:
        return [_line(failure)]
    filename = renderer.filename_of(name)
    found: dict[tuple[str, int], str] = {}  # one problem per line: what reading it found, else rendering
    source = Path(filename).read_text(encoding="utf-8")
    for line, reason in read_template(renderer.environment, source, kind, samples):
        failure = renderer.failure_at(filename, line, reason)
        found.setdefault((failure.where, line), _line(failure))
    for sample in samples:
        try:
            template.render(sample.context)
        except Exception as error:
            failure = renderer.failure(error, filename)
            text = _line(failure, f" (rendering the sample: {sample.name})")
            found.setdefault((failure.where, failure.line), text)
    return list(found.values())


def _line(failure: TemplateFailure, suffix: str = "") -> str:
    """`FILE:LINE: reason`, with the full path of a file of the admin's folder."""
    where = str(failure.path) if failure.path is not None and not failure.builtin else failure.where
    return f"{where}:{failure.line}: {failure.reason}{suffix}"


# ── reading a template against the samples' shape ─────────────────────────────────────────


@dataclass
class Shape:
    """What the samples hold at one place of a context: a dict's fields, a list's items, plain values."""

    fields: dict[str, Shape] | None = None
    items: Shape | None = None
    is_list: bool = False
    plain: set[str] = field(default_factory=set)

    def add(self, value: Any) -> Shape:
        if isinstance(value, dict):
            if self.fields is None:
                self.fields = {}
            for key, item in value.items():
                self.fields.setdefault(key, Shape()).add(item)
        elif isinstance(value, list | tuple):
            self.is_list = True
            for item in value:
                if self.items is None:
                    self.items = Shape()
                self.items.add(item)
        else:
            self.plain.add("none" if value is None else type(value).__name__)
        return self

    def describe(self) -> str:
        kinds = (["a dict"] if self.fields is not None else []) + (["a list"] if self.is_list else [])
        kinds += [f"a {p}" if p != "none" else "none" for p in sorted(self.plain)]
        return " or ".join(kinds) or "nothing"


def shapes(samples: Iterable[Sample]) -> dict[str, Shape]:
    """The variables of a kind of message and what each holds, over all its samples."""
    variables: dict[str, Shape] = {}
    for sample in samples:
        for key, value in sample.context.items():
            variables.setdefault(key, Shape()).add(value)
    return variables


def read_template(
    environment: Environment, source: str, kind: str, samples: list[Sample]
) -> list[tuple[int, str]]:
    """Problems found by reading a template (without rendering it), as (line, reason)."""
    ast = environment.parse(source)
    variables = shapes(samples)
    reader = _Reader(environment, kind, variables)
    reader.undeclared(ast)
    reader.problems += unknown_filters_and_tests(environment, ast)
    stored = {n.name for n in ast.find_all(nodes.Name) if n.ctx in ("store", "param")}
    reader.visit(ast, {k: v for k, v in variables.items() if k not in stored})
    return sorted(set(reader.problems))


class _Reader:
    def __init__(self, environment: Environment, kind: str, variables: dict[str, Shape]) -> None:
        self.environment = environment
        self.kind = kind
        self.variables = variables
        self.problems: list[tuple[int, str]] = []

    def undeclared(self, ast: nodes.Template) -> None:
        """A name that is neither a variable of this kind of message nor a jinja2 global."""
        known = set(self.variables) | set(self.environment.globals)
        loads = [n for n in ast.find_all(nodes.Name) if n.ctx == "load"]
        for name in sorted(jinja_meta.find_undeclared_variables(ast) - known):
            uses = [n for n in loads if n.name == name]
            if uses:
                self.problems.append(
                    (
                        min(n.lineno for n in uses),
                        f"{name!r} is not a variable of {_article(self.kind)} message "
                        f"(it has {', '.join(sorted(self.variables))})",
                    )
                )

    def visit(self, node: nodes.Node, scope: dict[str, Shape]) -> None:
        if isinstance(node, nodes.For):
            self.visit(node.iter, scope)
            inner = dict(scope)
            inner.pop("loop", None)
            targets = [n.name for n in node.target.find_all(nodes.Name)]
            if isinstance(node.target, nodes.Name):
                targets = [node.target.name]
            for name in targets:
                inner.pop(name, None)
            over = self.resolve(node.iter, scope, report=False)
            if isinstance(node.target, nodes.Name) and over is not None and over.items is not None:
                inner[node.target.name] = over.items
            if node.test is not None:
                self.visit(node.test, inner)
            for child in node.body:
                self.visit(child, inner)
            for child in node.else_:
                self.visit(child, scope)
            return
        if isinstance(node, (nodes.Getattr, nodes.Getitem)):
            self.resolve(node, scope, report=True)
            return
        self._visit_all(node.iter_child_nodes(), scope)

    def _visit_all(self, children: Iterable[nodes.Node], scope: dict[str, Shape]) -> None:
        for child in children:
            self.visit(child, scope)

    def resolve(self, node: nodes.Node, scope: dict[str, Shape], report: bool) -> Shape | None:
        """What the samples hold where `node` points (`task.title`, `digest.units`), None if unknown."""
        if isinstance(node, nodes.Name):
            return scope.get(node.name) if node.ctx == "load" else None
        if isinstance(node, nodes.Getattr):
            base, key = self.resolve(node.node, scope, report), node.attr
        elif isinstance(node, nodes.Getitem):
            base = self.resolve(node.node, scope, report)
            if not isinstance(node.arg, nodes.Const):
                if report:
                    self.visit(node.arg, scope)
                return None
            key = node.arg.value
        else:
            if report:
                self.visit(node, scope)
            return None
        if base is None:
            return None
        if isinstance(key, int) and base.items is not None:
            return base.items
        if base.fields is not None and key in base.fields:
            return base.fields[key]
        if report and isinstance(key, str):
            where = _dotted(node.node)
            if base.fields is not None:
                reason = f"{where} has no field {key!r} (it has {', '.join(sorted(base.fields))})"
            else:
                reason = f"{where} is {base.describe()}: it has no field {key!r}"
            self.problems.append((node.lineno, reason))
        return None


def _dotted(node: nodes.Node) -> str:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        return f"{_dotted(node.node)}.{node.attr}"
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        return f"{_dotted(node.node)}[{node.arg.value!r}]"
    return "the value"


def _article(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"
