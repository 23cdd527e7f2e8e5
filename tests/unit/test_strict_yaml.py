from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from cuiban.planfile.strict_yaml import ScalarProblem, parse, resolve_plain


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True),
        ("False", False),
        ("12", 12),
        ("0", 0),
        ("-3", -3),
        ("1.5", 1.5),
        ("", None),
        ("~", None),
        ("08:30", "08:30"),
        ("2016-11-28", date(2016, 11, 28)),
        ("2016-12-10T10:00+08:00", datetime(2016, 12, 10, 10, tzinfo=timezone(timedelta(hours=8)))),
        ("人事处", "人事处"),
        ("hr_roster", "hr_roster"),
    ],
)
def test_plain_scalars(text: str, value: object) -> None:
    assert resolve_plain(text) == value
    assert type(resolve_plain(text)) is type(value)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("no", "boolean in YAML 1.1"),
        ("Yes", "boolean in YAML 1.1"),
        ("on", "boolean in YAML 1.1"),
        ("012345", "octal"),
        ("0x1F", "base prefix"),
        ("9:30", "base-60"),
        ("2016-02-30", "not a real calendar date"),
        ("2016-12-10T10:00", "no timezone offset"),
    ],
)
def test_yaml_11_surprises_are_refused(text: str, reason: str) -> None:
    with pytest.raises(ScalarProblem, match=reason):
        resolve_plain(text)


def test_quoted_scalars_stay_text_and_positions_are_kept() -> None:
    located = parse('a: "012345"\nb:\n  - x\n  - 9:30\n')
    assert located.data == {"a": "012345", "b": ["x", "9:30"]}
    assert located.values[("b", 1)] == (4, 5)
    assert located.keys[("b",)] == (2, 1)
    [(finding, mark)] = located.problems
    assert finding.path == ("b", 1) and mark == (4, 5)


def test_duplicate_keys_point_at_the_second_one() -> None:
    located = parse("a: 1\nb: 2\na: 3\n")
    [(finding, mark)] = located.problems
    assert mark == (3, 1)
    assert "duplicate key 'a' (first given on line 1)" in str(finding.message)
    assert located.data == {"a": 1, "b": 2}


def test_syntax_error_is_one_located_problem() -> None:
    located = parse("a: [1, 2\nb: 3\n")
    [(finding, mark)] = located.problems
    assert "not valid YAML" in str(finding.message)
    assert mark[0] >= 2
