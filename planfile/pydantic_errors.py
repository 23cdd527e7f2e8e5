"""Pydantic's validation errors rewritten as plain sentences about plan keys."""

from __future__ import annotations

import difflib
import types
import typing
from datetime import date
from typing import Any

from pydantic import BaseModel, ValidationError

from cuiban.workflow.plan.findings import Finding, Path

_EXPECTED = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "bool_type": "true or false",
    "date_type": "a date written as YYYY-MM-DD",
    "date_parsing": "a date written as YYYY-MM-DD",
    "date_from_datetime_parsing": "a date written as YYYY-MM-DD",
    "dict_type": "a mapping (key: value lines)",
    "model_type": "a mapping (key: value lines)",
    "list_type": "a list",
}


def findings_from(error: ValidationError, model: type[BaseModel]) -> list[Finding]:
    return [_finding(err, model) for err in error.errors()]


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}; put it in quotes if it is an identifier"
    if isinstance(value, date):
        return f"the date {value}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _finding(err: Any, model: type[BaseModel]) -> Finding:
    loc: Path = tuple(err["loc"])
    kind = err["type"]
    if loc and loc[-1] == "[key]":
        loc = loc[:-1]
        return Finding(loc, f"{loc[-1]!r} is not a key allowed here", at_key=True)
    if kind == "missing":
        return Finding(loc, f"the key `{loc[-1]}` is required here")
    if kind == "extra_forbidden":
        return Finding(loc, _unknown_key(loc, model), at_key=True)
    if kind in _EXPECTED:
        return Finding(loc, f"expected {_EXPECTED[kind]}, got {_describe(err['input'])}")
    if kind == "literal_error":
        return Finding(loc, f"expected {err['ctx']['expected']}, got {err['input']!r}")
    if kind == "value_error":
        return Finding(loc, str(err["ctx"]["error"]))
    if kind == "too_short":
        return Finding(loc, "must not be empty")
    if kind == "greater_than_equal":
        return Finding(loc, f"must be at least {err['ctx']['ge']}, got {err['input']}")
    if kind == "less_than_equal":
        return Finding(loc, f"must be at most {err['ctx']['le']}, got {err['input']}")
    return Finding(loc, err["msg"])


def _unknown_key(loc: Path, model: type[BaseModel]) -> str:
    allowed = _allowed_keys(loc[:-1], model)
    message = f"unknown key `{loc[-1]}`"
    close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
    if close:
        return f"{message}; did you mean `{close[0]}`?"
    return f"{message}; allowed here: {', '.join(allowed)}" if allowed else message


def _allowed_keys(path: Path, model: type[BaseModel]) -> list[str]:
    """The keys of the model found by following `path` through fields, dicts and lists."""
    annotation: Any = model
    for part in path:
        annotation = _step(annotation, part)
        if annotation is None:
            return []
    model_class = _model_of(annotation)
    if model_class is None:
        return []
    return [info.alias or name for name, info in model_class.model_fields.items()]


def _step(annotation: Any, part: str | int) -> Any:
    model_class = _model_of(annotation)
    if model_class is not None:
        info = model_class.model_fields.get(str(part))
        if info is None:
            by_alias = {i.alias: i for i in model_class.model_fields.values() if i.alias}
            info = by_alias.get(str(part))
        return info.annotation if info else None
    args = [a for a in typing.get_args(_unwrap(annotation)) if a is not type(None)]
    return args[-1] if args else None


def _unwrap(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _model_of(annotation: Any) -> type[BaseModel] | None:
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _model_of(arg)
            if found is not None:
                return found
    return None
