"""Pydantic's validation errors rewritten as plain sentences about plan keys."""

from __future__ import annotations

import difflib
import re
import types
import typing
from datetime import date
from typing import Any

from pydantic import BaseModel, ValidationError

from cuiban.workflow.plan.findings import Finding, Path
from cuiban.workflow.wording import Words, words

_EXPECTED = {
    "string_type": "type.text",
    "int_type": "type.whole_number",
    "int_from_float": "type.whole_number",
    "float_type": "type.number",
    "bool_type": "type.true_false",
    "date_type": "type.date",
    "date_parsing": "type.date",
    "date_from_datetime_parsing": "type.date",
    "dict_type": "type.mapping",
    "model_type": "type.mapping",
    "list_type": "type.list",
}


def findings_from(error: ValidationError, model: type[BaseModel]) -> list[Finding]:
    return [_finding(err, model) for err in error.errors()]


def _describe(value: Any) -> Words:
    if isinstance(value, bool):
        return words("got.boolean", value=str(value).lower())
    if isinstance(value, int | float):
        return words("got.number", value=value)
    if isinstance(value, date):
        return words("got.date", value=value)
    if isinstance(value, dict):
        return words("got.mapping")
    if isinstance(value, list):
        return words("got.list")
    if isinstance(value, str):
        return words("got.text", value=value)
    return words("got.other", value=repr(value))


def _finding(err: Any, model: type[BaseModel]) -> Finding:
    loc: Path = tuple(err["loc"])
    kind = err["type"]
    if loc and loc[-1] == "[key]":
        loc = loc[:-1]
        return Finding(loc, words("type.key_not_allowed", key=loc[-1]), at_key=True)
    if kind == "missing":
        return Finding(loc, words("type.missing", key=loc[-1]))
    if kind == "extra_forbidden":
        return Finding(loc, _unknown_key(loc, model), at_key=True)
    if kind in _EXPECTED:
        expected = words(_EXPECTED[kind])
        return Finding(loc, words("type.expected", expected=expected, got=_describe(err["input"])))
    if kind == "literal_error":
        given, expected = _hashable(err["input"]), err["ctx"]["expected"]
        choices = re.split(r", | or ", expected)  # pydantic's "'a', 'b' or 'c'", listed in Chinese as a、b、c
        return Finding(loc, words("type.expected_one_of", expected=expected, choices=choices, got=given))
    if kind == "value_error":  # a validator's own sentence: its words when it has them (WordedValueError)
        refused = err["ctx"]["error"]
        return Finding(loc, getattr(refused, "words", None) or str(refused))
    if kind == "too_short":
        return Finding(loc, words("type.not_empty"))
    if kind == "greater_than_equal":
        return Finding(loc, words("type.at_least", limit=err["ctx"]["ge"], got=_hashable(err["input"])))
    if kind == "less_than_equal":
        return Finding(loc, words("type.at_most", limit=err["ctx"]["le"], got=_hashable(err["input"])))
    return Finding(loc, err["msg"])


def _unknown_key(loc: Path, model: type[BaseModel]) -> Words:
    allowed = _allowed_keys(loc[:-1], model)
    close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
    if close:
        return words("type.unknown_key_close", key=loc[-1], close=close[0])
    if allowed:
        return words("type.unknown_key_allowed", key=loc[-1], allowed=", ".join(allowed))
    return words("type.unknown_key", key=loc[-1])


def _hashable(value: Any) -> Any:
    """A value shown in a sentence (kept in a set of problems): lists and mappings as their text."""
    return value if isinstance(value, str | int | float | bool | date | None) else str(value)


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
