"""Strict YAML: duplicate keys and YAML 1.1 surprises are errors, and every value keeps its line.

Plain (unquoted) scalars are resolved here rather than by a YAML library so that the
values that differ between YAML 1.1 and 1.2 tools — `no` (false or text?), `012345`
(octal or decimal?), `9:30` (570 or a time?) — are refused with a hint to quote them,
instead of silently becoming something else in one tool or the other.

A plan is plain data, so YAML's other powers are refused where they are written, with
their line and column: tags (`!!python/object/apply:…`, `!foo`; only `!!str`, `!!map`
and `!!seq` are allowed) and anchors and aliases (`&x`, `*x`). An alias is never
followed, so a "billion laughs" document costs no more than its own text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.composer import Composer, MaxDepthExceededError
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.events import AliasEvent
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from cuiban.workflow.plan.findings import Finding, Path
from cuiban.workflow.wording import Words, words

Mark = tuple[int, int]

_NULL = re.compile(r"^(~|null|Null|NULL|)$")
_TRUE_FALSE = re.compile(r"^(true|True|TRUE|false|False|FALSE)$")
_YAML11_BOOL = re.compile(r"^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$")
_INT = re.compile(r"^[-+]?(0|[1-9][0-9]*)$")
_LEADING_ZERO = re.compile(r"^[-+]?0[0-9_]+$")
_OTHER_BASE = re.compile(r"^[-+]?0[xXoObB][0-9a-fA-F_]+$")
_SEXAGESIMAL = re.compile(r"^[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$")
_FLOAT = re.compile(r"^[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}([Tt]|\s+)\d{1,2}:\d{2}")
_CORE = "tag:yaml.org,2002:"
_STR_TAG = _CORE + "str"
ALLOWED_TAGS = frozenset({_STR_TAG, _CORE + "map", _CORE + "seq"})
"""Explicit tags a plan may carry: they say no more than the text does (`!!str 012345` is text)."""
MAX_DEPTH = 100
"""Nesting deeper than any plan needs is refused before it is converted."""


class ScalarProblem(ValueError):
    """A plain scalar that would mean different things to different YAML tools; `words` says which."""

    def __init__(self, message: str, /, **fields: Any) -> None:
        self.words = words(message, **fields)
        super().__init__(str(self.words))


@dataclass
class Located:
    """Parsed data with the position of every value and key, and what went wrong."""

    data: Any = None
    values: dict[Path, Mark] = field(default_factory=dict)
    keys: dict[Path, Mark] = field(default_factory=dict)
    problems: list[tuple[Finding, Mark]] = field(default_factory=list)
    """Problems of the text itself, each with the position it was found at."""

    def mark(self, path: Path, at_key: bool = False) -> Mark:
        """The position of `path`, or of its closest enclosing value that has one."""
        if at_key and path in self.keys:
            return self.keys[path]
        while path:
            if path in self.values:
                return self.values[path]
            path = path[:-1]
        return self.values.get((), (1, 1))


def resolve_plain(text: str) -> Any:
    """The value of an unquoted scalar, refusing the ones YAML 1.1 and 1.2 read differently."""
    if _NULL.match(text):
        return None
    if _TRUE_FALSE.match(text):
        return text.lower() == "true"
    if _YAML11_BOOL.match(text):
        raise ScalarProblem("yaml.yes_no", text=text)
    if _INT.match(text):
        return int(text)
    if _LEADING_ZERO.match(text) or _OTHER_BASE.match(text):
        raise ScalarProblem("yaml.leading_zero", text=text)
    if _SEXAGESIMAL.match(text):
        hint = f"0{text}" if re.match(r"^[1-9]:", text) else text
        raise ScalarProblem("yaml.base_60", text=text, hint=hint)
    if _FLOAT.match(text):
        return float(text)
    if _DATE.match(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise ScalarProblem("yaml.not_real_date", text=text) from None
    if _DATETIME.match(text):
        return _aware_datetime(text)
    return text


def _aware_datetime(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        raise ScalarProblem("yaml.not_datetime", text=text) from None
    if moment.tzinfo is None:
        raise ScalarProblem("yaml.no_offset", text=text)
    return moment


class _PlainComposer(Composer):
    """ruamel's composer, noting what a plan may not use instead of acting on it: an alias becomes
    an empty placeholder (never the aliased node), an anchor or an explicit tag is noted on its node."""

    def __init__(self, loader: Any = None) -> None:
        super().__init__(loader)
        self.refused: dict[int, list[Words]] = {}
        """id(node) → why it is refused (the nodes stay alive with the tree)."""
        self.as_text: set[int] = set()
        """ids of plain scalars tagged !!str: text, whatever they look like."""
        self.aliases: set[int] = set()
        """ids of the placeholders standing where an alias was written."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.parser.check_event(AliasEvent):
            event = self.parser.get_event()
            tag = self.resolver.resolve(ScalarNode, "", (True, False))
            node = ScalarNode(tag, "", event.start_mark, event.end_mark)
            self.aliases.add(id(node))
            self.refused[id(node)] = [words("yaml.alias", anchor=event.anchor)]
            return node
        event = self.parser.peek_event()
        tag = getattr(event, "ctag", None)
        node = super().compose_node(parent, index)
        reasons = []
        if event.anchor is not None:
            reasons.append(words("yaml.anchor", anchor=event.anchor))
        if tag is not None and str(tag) != "!":
            name = str(tag.value if hasattr(tag, "value") else tag)
            if name not in ALLOWED_TAGS:
                shown = "!!" + name[len(_CORE) :] if name.startswith(_CORE) else name
                reasons.append(words("yaml.tag", tag=shown))
            elif name == _STR_TAG:
                self.as_text.add(id(node))
        if reasons:
            self.refused[id(node)] = reasons
        return node


def parse(text: str) -> Located:
    """Compose `text` and convert it strictly; syntax errors end parsing with one finding."""
    located = Located()
    yaml = YAML(typ="rt")
    yaml.Composer = _PlainComposer
    yaml.max_depth = MAX_DEPTH
    try:
        root = yaml.compose(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = words("yaml.invalid", problem=exc.problem)
        if isinstance(exc, MaxDepthExceededError):
            message = words("yaml.too_deep", depth=MAX_DEPTH)
        located.problems.append((Finding((), message), (line, column)))
        return located
    if root is None:
        located.problems.append((Finding((), words("yaml.empty")), (1, 1)))
        return located
    composer = yaml.composer
    located.data = _convert(root, (), located, composer)
    return located


def _mark(node: Node) -> Mark:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _convert(node: Node, path: Path, located: Located, composer: _PlainComposer) -> Any:
    located.values[path] = _mark(node)
    refused = composer.refused.get(id(node))
    if refused:
        located.problems += [(Finding(path, reason), _mark(node)) for reason in refused]
        if id(node) in composer.aliases:
            return None  # nothing of what an alias points to is read
    if isinstance(node, MappingNode):
        return _convert_mapping(node, path, located, composer)
    if isinstance(node, SequenceNode):
        return [_convert(item, (*path, i), located, composer) for i, item in enumerate(node.value)]
    assert isinstance(node, ScalarNode)
    if node.style is not None or id(node) in composer.as_text:
        return node.value
    try:
        return resolve_plain(node.value)
    except ScalarProblem as problem:
        located.problems.append((Finding(path, problem.words), _mark(node)))
        return node.value


def _convert_mapping(
    node: MappingNode, path: Path, located: Located, composer: _PlainComposer
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, ScalarNode):
            located.problems.append((Finding(path, words("yaml.key_not_text")), _mark(key_node)))
            continue
        key = str(key_node.value)
        child = (*path, key)
        if key == "<<":
            message = words("yaml.merge_key")
            located.problems.append((Finding(child, message), _mark(key_node)))
            continue
        if id(key_node) in composer.refused:
            located.problems += [
                (Finding(child, reason), _mark(key_node)) for reason in composer.refused[id(key_node)]
            ]
            continue
        if key in result:
            first = located.keys[child][0]
            message = words("yaml.duplicate_key", key=key, first=first)
            located.problems.append((Finding(child, message), _mark(key_node)))
            continue
        located.keys[child] = _mark(key_node)
        result[key] = _convert(value_node, child, located, composer)
    return result
