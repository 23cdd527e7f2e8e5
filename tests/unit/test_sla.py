"""SLA figures as tables: a task's outcome at `now`, medians of weighted values, the stage spans and
a department's row, on a weekends-only calendar and on the official 2016 one (国庆 week)."""

from __future__ import annotations

from datetime import datetime

import pendulum
import pytest

from cuiban.planfile.holidays import official_cn_calendar
from cuiban.workflow.calendar import WorkingCalendar
from cuiban.workflow.sla import (
    LATE,
    ON_TIME,
    OVERDUE,
    PENDING,
    Outcome,
    Span,
    SpanCount,
    TaskAt,
    figures,
    median,
    outcome,
    span,
)

TZ = "Asia/Shanghai"
WEEKENDS = WorkingCalendar()
CN = official_cn_calendar()
row = pytest.param


def t(text: str) -> datetime:
    return pendulum.parse(text, tz=TZ)


DUE = "2016-12-05T23:59:59.999999"  # a Monday, end of day

OUTCOMES = [
    # state at now, when it got there, now, expected
    row("done", "2016-12-05T10:00", "2016-12-20T09:00", Outcome(ON_TIME, None), id="done-on-time"),
    row("done_late", "2016-12-06T08:00", "2016-12-20T09:00", Outcome(LATE, 1), id="late-next-morning"),
    row("done_late", "2016-12-12T08:00", "2016-12-20T09:00", Outcome(LATE, 5), id="late-a-week"),
    row("done_late", "2016-12-10T08:00", "2016-12-20T09:00", Outcome(LATE, 4), id="late-on-saturday"),
    row("overdue", "2016-12-06T09:05", "2016-12-08T09:00", Outcome(OVERDUE, 3), id="overdue-counted-to-now"),
    row("open", "2016-11-28T09:05", "2016-12-06T00:30", Outcome(OVERDUE, 1), id="open-past-due-not-marked"),
    row("open", "2016-11-28T09:05", "2016-12-05T23:00", Outcome(PENDING, None), id="open-before-due"),
    row("open", "2016-11-28T09:05", "2016-12-05T23:59:59.999999", Outcome(PENDING, None), id="open-at-due"),
    row(None, None, "2016-11-20T09:00", Outcome(PENDING, None), id="no-entry-yet"),
    row(None, None, "2016-12-07T09:00", Outcome(OVERDUE, 2), id="no-entry-past-due"),
    row("upcoming", None, "2016-12-06T09:00", Outcome(OVERDUE, 1), id="upcoming-past-due"),
]


@pytest.mark.parametrize(("state", "state_at", "now", "expected"), OUTCOMES)
def test_outcome(state: str | None, state_at: str | None, now: str, expected: Outcome) -> None:
    task = TaskAt("m", "news", t(DUE), state, t(state_at) if state_at else None)
    assert outcome(task, t(now), WEEKENDS, TZ) == expected


def test_a_task_without_due_time_is_never_late() -> None:
    task = TaskAt("m", "news", None, "open", t("2016-11-28T09:05"))
    assert outcome(task, t("2017-06-01T09:00"), WEEKENDS, TZ) == Outcome(PENDING, None)


def test_working_days_late_skip_the_national_day_week() -> None:
    """Due Friday 09-30, done Monday 10-10: 10-08 and 10-09 (make-up weekend) and 10-10 are worked."""
    task = TaskAt("m", "news", t("2016-09-30T23:59:59.999999"), "done_late", t("2016-10-10T09:00"))
    assert outcome(task, t("2016-10-20T09:00"), CN, TZ) == Outcome(LATE, 3)
    assert outcome(task, t("2016-10-20T09:00"), WEEKENDS, TZ) == Outcome(LATE, 6)


MEDIANS = [
    row([], None, id="empty"),
    row([(3.0, 0)], None, id="only-zero-counts"),
    row([(4.0, 1)], 4.0, id="one"),
    row([(1.0, 1), (4.0, 1)], 2.5, id="even-mean-of-middle"),
    row([(1.0, 3), (10.0, 1)], 1.0, id="weighted"),
    row([(10.0, 1), (1.0, 1), (2.0, 1)], 2.0, id="unsorted"),
    row([(1.0, 2), (2.0, 2)], 1.5, id="even-across-values"),
    row([(1 / 3, 1)], 0.3, id="one-decimal"),
    row([(1.0, 1), (2.0, 5), (9.0, 1)], 2.0, id="heavy-middle"),
]


@pytest.mark.parametrize(("weighted", "expected"), MEDIANS)
def test_median(weighted: list[tuple[float, int]], expected: float | None) -> None:
    assert median(weighted) == expected


SPAN_TABLE = [
    row([], Span(0, None, None), id="nobody"),
    row(
        [("2016-12-01T08:00", "2016-12-03T20:00", 1)],  # Thursday → Saturday: 2.5 days, 1 working day
        Span(1, 2.5, 1.0),
        id="one-teacher-over-a-weekend",
    ),
    row(
        [("2016-12-01T08:00", "2016-12-01T08:00", 3), ("2016-12-01T08:00", "2016-12-08T08:00", 2)],
        Span(5, 0.0, 0.0),
        id="skipped-state-counts-as-same-moment",
    ),
    row(
        [("2016-12-01T08:00", "2016-12-02T08:00", 2), ("2016-12-01T08:00", "2016-12-06T02:00", 2)],
        Span(4, 2.9, 2.0),  # days 1, 1, 4.75, 4.75: (1 + 4.75) / 2 = 2.875; working days 1, 1, 3, 3
        id="even-count",
    ),
]


@pytest.mark.parametrize(("counts", "expected"), SPAN_TABLE)
def test_span(counts: list[tuple[str, str, int]], expected: Span) -> None:
    rows = [SpanCount("news", t(a), t(b), n) for a, b, n in counts]
    assert span(rows, WEEKENDS, TZ) == expected


def test_a_department_row() -> None:
    now = t("2016-12-20T09:00")
    tasks = [
        TaskAt("a", "news", t(DUE), "done", t("2016-12-05T10:00")),
        TaskAt("b", "news", t(DUE), "done_late", t("2016-12-07T10:00")),
        TaskAt("c", "news", t(DUE), "overdue", t("2016-12-06T09:05")),
        TaskAt("d", "news", t("2016-12-30T23:59:59"), "open", t("2016-12-01T09:05")),
        TaskAt("a", "hr", t(DUE), "done_late", t("2016-12-06T10:00")),
    ]
    spans = [[SpanCount("news", t("2016-12-01T08:00"), t("2016-12-02T08:00"), 3)], []]
    result = figures(tasks, spans, ["news", "film"], now, WEEKENDS, TZ)
    news, film = result.departments
    assert news.tasks.counts == {ON_TIME: 1, LATE: 1, OVERDUE: 1, PENDING: 1}
    assert news.tasks.days_late == [2, 11]
    assert (news.tasks.late_sum, news.tasks.late_median, news.tasks.late_max) == (13, 6.5, 11)
    assert news.spans == (Span(3, 1.0, 1.0), Span(0, None, None))
    assert film.tasks.counts == {ON_TIME: 0, LATE: 0, OVERDUE: 0, PENDING: 0}
    assert (film.tasks.late_sum, film.tasks.late_median, film.tasks.late_max) == (0, None, None)
    assert result.milestones[("a", "hr")].counts[LATE] == 1  # offices in the milestone table only
