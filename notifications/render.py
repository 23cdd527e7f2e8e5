"""Rendering messages: pure jinja2, separate from sending.

Templates render in a sandbox with StrictUndefined (a misspelt variable is an error,
not an empty string) and HTML autoescaping. Each kind of message has three templates,
`KIND.subject.txt`, `KIND.txt` and `KIND.html`; an admin's folder (plan key
`templates`) overrides the built-in ones by name. Contexts are built from an explicit
allow-list of fields (see `schedules/`): ID-card and phone numbers never reach them.

The sandbox is narrower than jinja2's: templates get plain dicts, lists, strings and
numbers, so a dot or a subscript reads a key or an item and nothing else. Names
beginning with `_`, the methods of strings, dicts, lists and numbers (`str.format`
among them) and the filters that reach Python objects (`attr`, `pprint`) are refused;
`format` and `%` accept printf conversions of plain values only. Any error while
rendering is a `TemplateFailure` naming the template file and line.
"""

from __future__ import annotations

import re
import traceback
import types
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
    nodes,
    select_autoescape,
)
from jinja2.environment import TemplateModule
from jinja2.exceptions import SecurityError, TemplateRuntimeError
from jinja2.runtime import BlockReference, LoopContext, Macro, TemplateReference, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import Cycler, Joiner, Namespace

if TYPE_CHECKING:
    from cuiban.workflow.plan.schema import Plan

BUILT_IN = Path(__file__).resolve().parent / "templates"
KINDS = ("reminder", "escalation", "digest", "sign_in", "combined", "teacher")
PARTS = ("subject.txt", "txt", "html")


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def one_line(text: str) -> str:
    """Header-safe: a value with CR or LF cannot start another header."""
    return re.sub(r"[\r\n]+", " ", text).strip()


# ── the sandbox ──────────────────────────────────────────────────────────────────────────

REFUSED_FILTERS = frozenset({"attr", "pprint"})
"""Filters that hand a template Python objects (`attr`) or their insides (`pprint`)."""
REFUSED_GLOBALS = frozenset({"lipsum"})
"""jinja2's globals a message has no use for (`lipsum` writes pages of filler on request)."""


def refused_filter(name: str) -> str:
    return f"the filter {name!r} is refused in cuiban's templates (it reaches Python objects)"


def unknown_filters_and_tests(environment: Environment, ast: nodes.Template) -> list[tuple[int, str]]:
    """Filters and tests a template names that the sandbox lacks, as (line, reason).

    jinja2 finds these when it compiles a template, except inside an `{% if %}`, where
    they would fail only when the branch is taken; reading the template finds them all.
    """
    problems = []
    for node in ast.find_all(nodes.Filter):
        if node.name in REFUSED_FILTERS:
            problems.append((node.lineno, refused_filter(node.name)))
        elif node.name not in environment.filters:
            problems.append((node.lineno, f"no filter named {node.name!r}"))
    for node in ast.find_all(nodes.Test):
        if node.name not in environment.tests:
            problems.append((node.lineno, f"no test named {node.name!r}"))
    return problems


_SCALARS = (str, int, float, bool, type(None))
_PLAIN = (str, bytes, int, float, complex, bool, type(None), list, tuple, dict, set, frozenset, range)
_RUNTIME = (LoopContext, Cycler, Joiner, Namespace, TemplateReference, BlockReference, Macro, TemplateModule)
"""jinja2's own objects a template may use by name (`loop.last`, `self.body()`, `ns.x`, …)."""
try:  # the rows of `groupby` (`group.grouper`, `group.list`)
    from jinja2.filters import _GroupTuple

    _RUNTIME = (*_RUNTIME, _GroupTuple)
except ImportError:  # pragma: no cover - another jinja2 version
    pass

_PRINTF = re.compile(r"%(?:%|[-+ 0#]{0,4}\d{0,2}(?:\.\d{1,2})?[sdiouxXeEfFgG])")
"""The printf conversions `format` and `%` accept: no `%(key)s`, no `%r`, no `*`, widths below 100."""
MAX_REPEAT = 100_000
"""`'x' * n` and `[…] * n` may make at most this many characters or items."""
MAX_POWER_BITS = 100_000
"""`a ** b` on integers may make a number of at most this many bits."""


def _plain_arguments(args: tuple[Any, ...]) -> tuple[Any, ...]:
    values = []
    for arg in args:
        if isinstance(arg, Undefined):
            arg = str(arg)  # StrictUndefined raises its own error here
        if not isinstance(arg, _SCALARS):
            raise SecurityError(f"format takes plain strings and numbers, not a {type(arg).__name__}")
        values.append(arg)
    return tuple(values)


def printf(template: Any, *args: Any, **kwargs: Any) -> str:
    """The `format` filter and the `%` operator on a string: printf conversions of plain values only."""
    if kwargs:
        raise SecurityError("format takes no named arguments in cuiban's templates")
    if isinstance(template, Undefined):
        template = str(template)
    if not isinstance(template, str):
        raise SecurityError(f"format applies to a string, not a {type(template).__name__}")
    bare = template
    for spec in _PRINTF.findall(template):
        bare = bare.replace(spec, "", 1)
    if "%" in bare:
        raise SecurityError(
            "format accepts only conversions like %s, %d, %+d, %5.1f (no %(key)s, %r or * widths)"
        )
    return template % _plain_arguments(args)


class Sandbox(ImmutableSandboxedEnvironment):
    """jinja2's immutable sandbox, narrowed to what a template of plain data needs.

    - `x.name` and `x['name']` on a dict read its key; a name that is not a key is
      undefined (an error with StrictUndefined) or, if it names a dict method, refused.
    - Strings, lists, numbers and every other Python object have no attributes in a
      template: `'s'.format`, `'s'.__class__`, `(1).real` are refused. Only jinja2's own
      runtime objects (`loop`, `self`, `cycler()`, `joiner()`, `namespace()`, macros,
      groupby rows) keep their attributes, and none beginning with `_`.
    - The `attr` and `pprint` filters and the `lipsum` global are gone; `format` and the
      `%` operator accept printf conversions of plain values only; `*` and `**` cannot
      build huge strings, lists or numbers.

    jinja2 tries the attribute first and falls back to the key through an exception,
    which made a reminder listing 100 teachers render six times slower; here a key of a
    plain dict is found first.
    """

    intercepted_binops = frozenset({"%", "*", "**"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in REFUSED_FILTERS:
            self.filters.pop(name, None)
        for name in REFUSED_GLOBALS:
            self.globals.pop(name, None)
        self.filters["format"] = printf
        self.kept: dict[str, Template] = {}
        """Every template loaded, by name: an included partial (footer.txt) is compiled once, as the
        kinds' own templates are, so rendering reads no file (jinja2's cache may be turned off)."""

    def _load_template(self, name: str, globals: Any) -> Template:
        found = self.kept.get(name)
        if found is None:
            found = self.kept[name] = super()._load_template(name, globals)
        elif globals:
            found.globals.update(globals)
        return found

    # attributes and items

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute in obj:
            return obj[attribute]
        return self._attribute(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if type(obj) is dict and argument in obj:
            return obj[argument]
        if isinstance(argument, str):
            if isinstance(obj, Mapping) and argument in obj:
                return obj[argument]
            return self._attribute(obj, argument)
        try:
            return obj[argument]
        except (TypeError, LookupError):
            return self.undefined(obj=obj, name=argument)

    def _attribute(self, obj: Any, attribute: str) -> Any:
        if attribute.startswith("_"):
            raise SecurityError(
                f"{attribute!r} is refused: names beginning with _ are not available in templates"
            )
        if isinstance(obj, Undefined):
            return getattr(obj, attribute)  # StrictUndefined raises "'x' is undefined"
        if isinstance(obj, Mapping):
            if attribute in obj:
                return obj[attribute]
            return self._no_field(obj, attribute)
        if isinstance(obj, _RUNTIME):
            try:
                value = getattr(obj, attribute)
            except AttributeError:
                try:
                    return obj[attribute]  # `self.blockname`
                except (TypeError, LookupError):
                    return self.undefined(obj=obj, name=attribute)
            if self.is_safe_attribute(obj, attribute, value):
                return value
            raise SecurityError(f"{attribute!r} of a {type(obj).__name__} is refused in templates")
        return self._no_field(obj, attribute)

    def _no_field(self, obj: Any, attribute: str) -> Any:
        if hasattr(type(obj), attribute):
            raise SecurityError(
                f"{attribute!r} of a {type(obj).__name__} is refused: templates get plain values, "
                "not their methods or attributes"
            )
        return self.undefined(obj=obj, name=attribute)

    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        raise SecurityError(f"{attribute!r} of a {type(obj).__name__} is refused in templates")

    def wrap_str_format(self, value: Any) -> None:
        return None  # str.format is never reached: string methods are refused

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if attr.startswith("_") or not isinstance(obj, _RUNTIME):
            return False
        return super().is_safe_attribute(obj, attr, value)

    def is_safe_callable(self, obj: Any) -> bool:
        if isinstance(obj, (types.BuiltinMethodType, types.MethodType)) and isinstance(
            getattr(obj, "__self__", None), _PLAIN
        ):
            return False
        return super().is_safe_callable(obj)

    # operators

    def call_binop(self, context: Any, operator_: str, left: Any, right: Any) -> Any:
        if operator_ == "%" and isinstance(left, str):
            return printf(left, *(right if isinstance(right, tuple) else (right,)))
        if operator_ == "*":
            for sequence, count in ((left, right), (right, left)):
                if (
                    isinstance(sequence, (str, list, tuple))
                    and isinstance(count, int)
                    and len(sequence) * count > MAX_REPEAT
                ):
                    raise SecurityError(f"a repetition of more than {MAX_REPEAT} items is refused")
        if (
            operator_ == "**"
            and isinstance(left, int)
            and isinstance(right, int)
            and abs(left) > 1
            and right > 0
            and left.bit_length() * right > MAX_POWER_BITS
        ):
            raise SecurityError("a power this large is refused")
        return self.binop_table[operator_](left, right)


# ── failures ─────────────────────────────────────────────────────────────────────────────


class TemplateFailure(Exception):
    """A template that could not be loaded or rendered: `str()` is one sentence, `FILE:LINE: reason`.

    `name` is the file relative to its folder: `reminder.txt` in the admin's folder, or
    `zh/reminder.txt` for a built-in one, which `str()` writes as `built-in zh/reminder.txt`.
    `path` is the file itself (None when unknown), `line` counts from 1.

    An error jinja2 raises as one of its `TemplateRuntimeError`s (an undefined name, a
    refused attribute) comes as a subclass of both this class and that one, so code
    that caught jinja2's errors before still catches it.
    """

    def __init__(
        self, name: str, line: int, reason: str, *, path: Path | None = None, builtin: bool = False
    ) -> None:
        self.name = name
        self.line = line
        self.reason = reason
        self.path = path
        self.builtin = builtin
        Exception.__init__(self, self._sentence())

    @property
    def where(self) -> str:
        return f"built-in {self.name}" if self.builtin else self.name

    def _sentence(self) -> str:
        return f"{self.where}:{self.line}: {self.reason}"

    def __str__(self) -> str:
        return self._sentence()

    def __reduce__(self) -> Any:
        return (_rebuild, (self.name, self.line, self.reason, self.path, self.builtin))

    def again(self) -> TemplateFailure:
        """A fresh copy to raise (raising one object again and again would grow its traceback)."""
        return type(self)(self.name, self.line, self.reason, path=self.path, builtin=self.builtin)


def _rebuild(name: str, line: int, reason: str, path: Path | None, builtin: bool) -> TemplateFailure:
    return TemplateFailure(name, line, reason, path=path, builtin=builtin)


_FAILURE_CLASSES: dict[type, type[TemplateFailure]] = {}


def _failure_class(error: BaseException) -> type[TemplateFailure]:
    kind = type(error)
    if not issubclass(kind, TemplateRuntimeError):
        return TemplateFailure
    if kind not in _FAILURE_CLASSES:
        _FAILURE_CLASSES[kind] = type("TemplateFailure", (TemplateFailure, kind), {"__module__": __name__})
    return _FAILURE_CLASSES[kind]


def reason_of(error: BaseException) -> str:
    """What went wrong, on one line."""
    if isinstance(error, TemplateNotFound):
        text = f"template {error.name} not found"
    elif isinstance(error, TemplateError):
        text = error.message or type(error).__name__
    elif isinstance(error, RecursionError):
        text = "the template calls itself too deeply"
    else:
        text = f"{type(error).__name__}: {error}"
    refused = re.fullmatch(r"No filter named '(\w+)'\.?", str(text))
    if refused and refused.group(1) in REFUSED_FILTERS:
        text = refused_filter(refused.group(1))
    text = re.sub(r"\s+", " ", str(text)).strip()
    return text if len(text) <= 300 else text[:297] + "..."


def template_location(error: BaseException) -> tuple[str | None, int | None]:
    """The template file and line an error comes from: the innermost template frame of its traceback."""
    if isinstance(error, TemplateSyntaxError):
        return error.filename, error.lineno
    filename, line = None, None
    for frame, lineno in traceback.walk_tb(error.__traceback__):
        if "__jinja_exception__" in frame.f_globals:  # a frame jinja2 rewrote to point at the template
            filename, line = frame.f_code.co_filename, lineno
        elif (template := frame.f_globals.get("__jinja_template__")) is not None:
            filename, line = template.filename, template.get_corresponding_lineno(lineno)
    return filename, line


def contact_of(plan: Plan) -> dict[str, str] | None:
    """Whom a message's reader asks: the plan's coordinator (name, email, office phone when set) —
    a work number printed in every footer, never a teacher's phone."""
    person = plan.people.get(plan.roles.coordinator)
    if person is None:
        return None
    return {"name": person.name, "email": str(person.email), "office_phone": person.office_phone or ""}


# ── the renderer ─────────────────────────────────────────────────────────────────────────


class Renderer:
    """The message templates of one language, with an admin's folder overriding by name.

    Each kind's three templates are compiled once, on first use, and kept: rendering
    reads no file and stats nothing. A kind whose templates do not compile keeps its
    failure and raises it again on every render.
    """

    def __init__(
        self, language: str = "zh", override: Path | None = None, contact: dict[str, str] | None = None
    ) -> None:
        loaders = [FileSystemLoader(str(override))] if override else []
        loaders.append(FileSystemLoader(str(BUILT_IN / language)))
        self.language = language
        self.override = override
        self.contact = contact
        self.environment = Sandbox(
            loader=ChoiceLoader(loaders),
            undefined=StrictUndefined,
            autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,  # templates do not change under a running tick
        )
        # every footer (footer.txt) names whom to ask: one value for all messages, not a field of each context
        self.environment.globals["contact"] = contact
        self._kinds: dict[str, tuple[Template, Template, Template] | TemplateFailure] = {}
        self._builtin: Renderer | None = None

    def render(self, kind: str, context: dict[str, Any]) -> Rendered:
        """The message of `kind` for `context`; any error is a `TemplateFailure` naming file and line."""
        templates = self._kinds.get(kind) or self._load(kind)
        if isinstance(templates, TemplateFailure):
            raise templates.again()
        subject, text, html = templates
        current = subject
        try:
            rendered_subject = subject.render(context)
            current = text
            rendered_text = text.render(context)
            current = html
            rendered_html = html.render(context)
        except Exception as error:
            raise self.failure(error, current.filename) from error
        return Rendered(subject=one_line(rendered_subject), text=rendered_text, html=rendered_html)

    def builtin(self) -> Renderer:
        """A renderer of the same language without the admin's folder (kept, so it compiles once)."""
        if self.override is None:
            return self
        if self._builtin is None:
            self._builtin = Renderer(self.language, contact=self.contact)
        return self._builtin

    def template(self, name: str) -> Template:
        """One template by file name (`reminder.txt`), compiled; a `TemplateFailure` if it cannot be."""
        try:
            return self.environment.get_template(name)
        except Exception as error:
            raise self.failure(error, self.filename_of(name)) from error

    def filename_of(self, name: str) -> str:
        """The file `name` is loaded from: the admin's copy if there is one, else the built-in one."""
        if self.override is not None and (self.override / name).is_file():
            return str(self.override / name)
        return str(BUILT_IN / self.language / name)

    def failure(self, error: BaseException, fallback: str | None = None) -> TemplateFailure:
        """`error`, raised while loading or rendering, as a `TemplateFailure` naming the file and line."""
        if isinstance(error, TemplateFailure):
            return error
        filename, line = template_location(error)
        return self.failure_at(filename or fallback, line or 1, reason_of(error), _failure_class(error))

    def failure_at(
        self, filename: str | None, line: int, reason: str, cls: type[TemplateFailure] = TemplateFailure
    ) -> TemplateFailure:
        """A `TemplateFailure` for a file this renderer loads (a full path), named relative to its folder."""
        name, path, builtin = self._name(filename)
        return cls(name, line, reason, path=path, builtin=builtin)

    def _name(self, filename: str | None) -> tuple[str, Path | None, bool]:
        if filename is None:
            return "<template>", None, False
        path = Path(filename)
        if self.override is not None:
            try:
                return path.relative_to(self.override).as_posix(), path, False
            except ValueError:
                pass
        try:
            return path.relative_to(BUILT_IN).as_posix(), path, True
        except ValueError:
            return filename, path, False

    def _load(self, kind: str) -> tuple[Template, Template, Template] | TemplateFailure:
        try:
            loaded: tuple[Template, Template, Template] | TemplateFailure = (
                self.template(f"{kind}.subject.txt"),
                self.template(f"{kind}.txt"),
                self.template(f"{kind}.html"),
            )
        except TemplateFailure as failure:
            loaded = failure.again()
        self._kinds[kind] = loaded
        return loaded

    def check(self, also_known: frozenset[str] = frozenset()) -> list[str]:
        """Every problem of this renderer's templates, as `file:line: reason` (see `template_check`).

        Each template is compiled, read for names and fields the contexts do not have, and
        rendered against the sample context of every message kind that uses it. A file of
        the admin's folder that is neither a message template nor one of `also_known` (the
        report templates) is named too: it would never be used.
        """
        from cuiban.notifications.template_check import check_renderer

        return check_renderer(self, also_known)
