"""Strict YAML: duplicate keys and YAML 1.1 surprises are errors, and every value keeps its line.

Plain (unquoted) scalars are resolved here rather than by a YAML library so that the
values that differ between YAML 1.1 and 1.2 tools — `no` (false or text?), `012345`
(octal or decimal?), `9:30` (570 or a time?) — are refused with a hint to quote them,
instead of silently becoming something else in one tool or the other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from workflow.plan.findings import Finding, Path

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


class ScalarProblem(ValueError):
    """A plain scalar that would mean different things to different YAML tools."""


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
        raise ScalarProblem(
            f"{text!r} means a boolean in YAML 1.1 but text in YAML 1.2; "
            f"write true or false, or put it in quotes ('{text}') if you mean the text"
        )
    if _INT.match(text):
        return int(text)
    if _LEADING_ZERO.match(text) or _OTHER_BASE.match(text):
        raise ScalarProblem(
            f"{text} looks like a number written with a leading zero or a base prefix "
            f"(YAML 1.1 reads 012345 as an octal number); put it in quotes ('{text}') "
            "if it is an identifier such as a staff ID, or drop the prefix"
        )
    if _SEXAGESIMAL.match(text):
        hint = f"0{text}" if re.match(r"^[1-9]:", text) else text
        raise ScalarProblem(
            f"YAML 1.1 reads {text} as a base-60 number; write a time of day "
            f"in quotes with two-digit hours ('{hint}')"
        )
    if _FLOAT.match(text):
        return float(text)
    if _DATE.match(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise ScalarProblem(f"{text} is not a real calendar date") from None
    if _DATETIME.match(text):
        return _aware_datetime(text)
    return text


def _aware_datetime(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        raise ScalarProblem(f"{text} is not an ISO 8601 datetime") from None
    if moment.tzinfo is None:
        raise ScalarProblem(f"{text} has no timezone offset; write e.g. {text}+08:00")
    return moment


def parse(text: str) -> Located:
    """Compose `text` and convert it strictly; syntax errors end parsing with one finding."""
    located = Located()
    try:
        root = YAML(typ="rt").compose(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        located.problems.append((Finding((), f"this is not valid YAML: {exc.problem}"), (line, column)))
        return located
    if root is None:
        located.problems.append((Finding((), "the file is empty"), (1, 1)))
        return located
    located.data = _convert(root, (), located)
    return located


def _mark(node: Node) -> Mark:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _convert(node: Node, path: Path, located: Located) -> Any:
    located.values[path] = _mark(node)
    if isinstance(node, MappingNode):
        return _convert_mapping(node, path, located)
    if isinstance(node, SequenceNode):
        return [_convert(item, (*path, i), located) for i, item in enumerate(node.value)]
    assert isinstance(node, ScalarNode)
    if node.style is not None:
        return node.value
    try:
        return resolve_plain(node.value)
    except ScalarProblem as problem:
        located.problems.append((Finding(path, str(problem)), _mark(node)))
        return node.value


def _convert_mapping(node: MappingNode, path: Path, located: Located) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, ScalarNode):
            located.problems.append((Finding(path, "a key must be plain text"), _mark(key_node)))
            continue
        key = str(key_node.value)
        child = (*path, key)
        if key == "<<":
            message = "merge keys (<<) are not supported; write the keys out"
            located.problems.append((Finding(child, message), _mark(key_node)))
            continue
        if key in result:
            first = located.keys[child][0]
            message = f"duplicate key {key!r} (first given on line {first})"
            located.problems.append((Finding(child, message), _mark(key_node)))
            continue
        located.keys[child] = _mark(key_node)
        result[key] = _convert(value_node, child, located)
    return result
