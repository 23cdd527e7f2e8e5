"""Milestone status as a table of (now, expected): the clock is a parameter."""

from __future__ import annotations

from datetime import date

import pendulum
import pytest

from cuiban.planfile.loader import load_plan
from cuiban.workflow.clock import NaiveDatetimeError, end_of_day, parse_moment
from cuiban.workflow.plan.timeline import monthly_occurrences, view
from tests.conftest import SHIPPED_PLAN

PLAN, CALENDAR = load_plan(SHIPPED_PLAN)


@pytest.mark.parametrize(
    ("now", "milestone", "status", "left"),
    [
        ("2016-12-01T10:00+08:00", "dept_filling", "upcoming", 10),
        ("2016-12-02T00:00+08:00", "dept_filling", "open", 9),
        ("2016-12-10T10:00+08:00", "dept_filling", "open", 4),  # a Saturday; 12-15 a Thursday
        ("2016-12-15T08:00+08:00", "dept_filling", "due_today", 0),
        ("2016-12-15T23:59:59+08:00", "dept_filling", "due_today", 0),
        ("2016-12-16T00:00+08:00", "dept_filling", "past", -1),
        ("2016-12-15T15:59:59Z", "dept_filling", "due_today", 0),  # UTC in, local out
        ("2016-12-15T16:00:00Z", "dept_filling", "past", -1),
        ("2016-11-20T09:00+08:00", "hr_roster", "upcoming", 6),  # before the campaign
        ("2016-11-25T09:00+08:00", "hr_roster", "open", 1),
        ("2016-12-10T10:00+08:00", "teacher_confirmation", "undated", None),
        ("2016-12-10T10:00+08:00", "tdc_import_within_3_days", "waiting", None),
        ("2016-11-15T10:00+08:00", "monthly_report", "open", 12),
        ("2016-12-01T10:00+08:00", "monthly_report", "due_today", 0),
    ],
)
def test_status_at(now: str, milestone: str, status: str, left: int | None) -> None:
    seen = view(PLAN, milestone, CALENDAR, parse_moment(now))
    assert (seen.status, seen.working_days_left) == (status, left)


def test_relative_deadline_follows_its_anchor() -> None:
    now = parse_moment("2016-11-30T10:00+08:00")
    seen = view(PLAN, "tdc_import_within_3_days", CALENDAR, now, {"hr_roster": date(2016, 11, 27)})
    assert seen.due == end_of_day(date(2016, 11, 30), "Asia/Shanghai")
    assert seen.status == "due_today"


def test_date_only_deadline_ends_at_local_midnight() -> None:
    due = view(PLAN, "dept_filling", CALENDAR, parse_moment("2016-12-01T00:00+08:00")).due
    assert due is not None
    assert due.isoformat(timespec="seconds") == "2016-12-15T23:59:59+08:00"
    assert due.in_timezone("UTC") < pendulum.datetime(2016, 12, 15, 16, tz="UTC")


def test_monthly_occurrences_span_from_until() -> None:
    assert monthly_occurrences(PLAN.milestones["monthly_report"]) == [
        date(2016, 10, 1),
        date(2016, 11, 1),
        date(2016, 12, 1),
    ]


def test_naive_now_is_refused() -> None:
    with pytest.raises(NaiveDatetimeError, match="no timezone offset"):
        parse_moment("2016-12-10T10:00")
