"""Working days across 调休 as tables: the official 2016/2017 calendar, where a holiday week is
paid for with make-up workdays on the weekends around it.

国庆 2016: 10-01 … 10-07 off, Saturday 10-08 and Sunday 10-09 worked. 中秋 2016: 09-15 … 09-17
off, Sunday 09-18 worked. 春节 2017: 01-27 … 02-02 off, Sunday 01-22 and Saturday 02-04 worked.
端午 2016: 06-09 … 06-11 off, Sunday 06-12 worked.
"""

from __future__ import annotations

from datetime import date

import pytest

from cuiban.planfile.holidays import official_cn_calendar
from cuiban.workflow.calendar import WorkingCalendar

CN = official_cn_calendar()
WEEKENDS = WorkingCalendar()
row = pytest.param


def d(text: str) -> date:
    return date.fromisoformat(text)


IS_WORKING_DAY = [
    row("2016-09-30", True, id="friday-before-national-day"),
    row("2016-10-01", False, id="national-day-saturday"),
    row("2016-10-03", False, id="national-day-monday"),
    row("2016-10-07", False, id="national-day-last-friday"),
    row("2016-10-08", True, id="make-up-saturday"),
    row("2016-10-09", True, id="make-up-sunday"),
    row("2016-10-10", True, id="monday-after"),
    row("2016-09-15", False, id="mid-autumn-thursday"),
    row("2016-09-18", True, id="mid-autumn-make-up-sunday"),
    row("2016-06-12", True, id="dragon-boat-make-up-sunday"),
    row("2017-01-22", True, id="spring-festival-make-up-sunday"),
    row("2017-01-27", False, id="spring-festival-eve"),
    row("2017-02-02", False, id="spring-festival-last-day"),
    row("2017-02-04", True, id="spring-festival-make-up-saturday"),
    row("2017-02-05", False, id="plain-sunday-after"),
    row("2016-12-17", False, id="plain-saturday"),
]


@pytest.mark.parametrize(("day", "working"), IS_WORKING_DAY)
def test_is_working_day(day: str, working: bool) -> None:
    assert CN.is_working_day(d(day)) is working


BETWEEN = [
    # (start, end, working days d with start < d <= end)
    row("2016-09-30", "2016-10-07", 0, id="the-holiday-week-counts-nothing"),
    row("2016-09-30", "2016-10-08", 1, id="make-up-saturday-counts"),
    row("2016-09-30", "2016-10-09", 2, id="make-up-sunday-counts"),
    row("2016-09-30", "2016-10-10", 3, id="then-monday"),
    row("2016-09-29", "2016-10-10", 4, id="thursday-to-monday-across"),
    row("2016-10-10", "2016-09-30", -3, id="backwards-is-negative"),
    row("2016-09-14", "2016-09-19", 2, id="mid-autumn-make-up-sunday-and-monday"),
    row("2017-01-20", "2017-02-06", 8, id="spring-festival-fortnight"),
    row("2016-12-15", "2016-12-15", 0, id="same-day"),
    row("2016-12-16", "2016-12-19", 1, id="plain-weekend-skipped"),
]


@pytest.mark.parametrize(("start", "end", "expected"), BETWEEN)
def test_working_days_between(start: str, end: str, expected: int) -> None:
    assert CN.working_days_between(d(start), d(end)) == expected


ADD = [
    # (day, working days to add, the day reached)
    row("2016-09-30", 1, "2016-10-08", id="after-the-holiday-comes-the-make-up-saturday"),
    row("2016-09-30", 2, "2016-10-09", id="then-the-make-up-sunday"),
    row("2016-09-30", 3, "2016-10-10", id="then-monday"),
    row("2016-10-10", -3, "2016-09-30", id="back-across-the-holiday"),
    row("2016-10-08", -1, "2016-09-30", id="back-from-the-make-up-saturday"),
    row("2016-09-14", 1, "2016-09-18", id="mid-autumn-to-its-make-up-sunday"),
    row("2017-01-26", 1, "2017-02-03", id="spring-festival-skipped"),
    row("2017-02-03", 1, "2017-02-04", id="make-up-saturday-after-spring-festival"),
    row("2016-12-15", 0, "2016-12-15", id="nothing-added"),
    row("2016-12-16", 1, "2016-12-19", id="plain-weekend"),
]


@pytest.mark.parametrize(("day", "count", "expected"), ADD)
def test_add_working_days(day: str, count: int, expected: str) -> None:
    assert CN.add_working_days(d(day), count) == d(expected)


PREVIOUS = [
    row("2016-10-05", "2016-09-30", id="mid-holiday-back-to-before-it"),
    row("2016-10-08", "2016-10-08", id="make-up-saturday-is-itself"),
    row("2016-09-17", "2016-09-14", id="mid-autumn-saturday"),
    row("2017-02-05", "2017-02-04", id="sunday-after-make-up-saturday"),
    row("2016-12-18", "2016-12-16", id="plain-sunday-to-friday"),
]


@pytest.mark.parametrize(("day", "expected"), PREVIOUS)
def test_previous_working_day(day: str, expected: str) -> None:
    assert CN.previous_working_day(d(day)) == d(expected)


WEEKENDS_ONLY = [
    # the same questions without official data: a make-up Saturday is a Saturday
    row("2016-10-03", True, id="national-day-is-a-monday"),
    row("2016-10-08", False, id="make-up-saturday-is-a-saturday"),
]


@pytest.mark.parametrize(("day", "working"), WEEKENDS_ONLY)
def test_weekends_only_calendar(day: str, working: bool) -> None:
    assert WEEKENDS.is_working_day(d(day)) is working
