"""Aware datetimes in the plan's timezone, and what a date-only deadline means."""

from __future__ import annotations

from datetime import date, datetime

import pendulum


class NaiveDatetimeError(ValueError):
    """A datetime without an offset reached a boundary that must know its timezone."""


def require_aware(moment: datetime, what: str = "time") -> pendulum.DateTime:
    """Refuse naive datetimes where data enters; return a pendulum DateTime."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise NaiveDatetimeError(
            f"The {what} {moment.isoformat()} has no timezone offset; "
            "write it with one, e.g. 2016-12-10T10:00+08:00."
        )
    return pendulum.instance(moment)


def parse_moment(text: str, what: str = "time") -> pendulum.DateTime:
    """Parse an ISO 8601 datetime that carries an offset (e.g. from `--now`)."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"The {what} {text!r} is not an ISO 8601 datetime such as 2016-12-10T10:00+08:00."
        ) from None
    return require_aware(moment, what)


def start_of_day(day: date, tz: str) -> pendulum.DateTime:
    """Midnight at the start of `day`, local time: when a window opens."""
    return pendulum.datetime(day.year, day.month, day.day, tz=tz)


def end_of_day(day: date, tz: str) -> pendulum.DateTime:
    """The very end of `day`, local time: when a date-only deadline expires.

    Shown to people as 23:59:59 (see `iso`), compared to the microsecond.
    """
    return start_of_day(day, tz).end_of("day")


def iso(moment: datetime) -> str:
    """ISO 8601 with offset, to the second: the form used in JSON output and logs."""
    return moment.isoformat(timespec="seconds")


def local_iso(moment: datetime | None, tz: str) -> str | None:
    """`moment` in the plan's timezone as ISO 8601 with offset; None stays None."""
    return iso(pendulum.instance(moment).in_timezone(tz)) if moment is not None else None


def local_date(moment: datetime, tz: str) -> date:
    """The calendar date of `moment` in the plan's timezone."""
    return pendulum.instance(require_aware(moment)).in_timezone(tz).date()
