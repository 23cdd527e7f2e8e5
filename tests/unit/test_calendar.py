from __future__ import annotations

from datetime import date

import pytest

from cuiban.planfile.holidays import build_calendar, official_cn_calendar
from cuiban.workflow.calendar import WorkingCalendar
from cuiban.workflow.plan.schema import CalendarSpec

CN = official_cn_calendar()


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2016, 12, 15), True),  # Thursday
        (date(2016, 12, 25), False),  # Sunday
        (date(2016, 10, 3), False),  # National Day holiday on a Monday
        (date(2016, 10, 8), True),  # Saturday make-up workday (调休上班)
        (date(2027, 1, 4), True),  # no official data: a plain Monday
        (date(2027, 1, 2), False),  # no official data: a plain Saturday
    ],
)
def test_cn_working_days(day: date, working: bool) -> None:
    assert CN.is_working_day(day) is working


def test_years_without_data_are_reported_not_raised() -> None:
    assert CN.uncovered_years([date(2026, 12, 1), date(2027, 1, 4)]) == [2027]
    assert WorkingCalendar().uncovered_years([date(2027, 1, 4)]) == []


def test_plan_extras_override_the_official_data() -> None:
    spec = CalendarSpec(kind="cn", extra_holidays=[date(2027, 1, 4)], extra_workdays=[date(2016, 12, 25)])
    calendar = build_calendar(spec)
    assert not calendar.is_working_day(date(2027, 1, 4))
    assert calendar.is_working_day(date(2016, 12, 25))


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2016, 12, 10), date(2016, 12, 15), 4),  # Sat → Thu: Mon..Thu
        (date(2016, 12, 9), date(2016, 12, 15), 4),  # Fri → Thu: today not counted
        (date(2016, 12, 15), date(2016, 12, 15), 0),
        (date(2016, 12, 19), date(2016, 12, 15), -2),  # Mon after a Thu deadline: Fri, Mon
        (date(2016, 9, 30), date(2016, 10, 10), 3),  # 国庆: make-up days 10-08, 10-09, then 10-10
    ],
)
def test_working_days_between(start: date, end: date, expected: int) -> None:
    assert CN.working_days_between(start, end) == expected


def test_previous_and_added_working_days() -> None:
    assert CN.previous_working_day(date(2017, 12, 30)) == date(2017, 12, 29)
    assert CN.previous_working_day(date(2016, 10, 7)) == date(2016, 9, 30)
    assert CN.add_working_days(date(2016, 12, 15), 1) == date(2016, 12, 16)
    assert CN.add_working_days(date(2016, 12, 16), 1) == date(2016, 12, 19)
    assert CN.add_working_days(date(2016, 12, 19), -1) == date(2016, 12, 16)
