"""Working days: the official calendar's holidays and make-up workdays, or plain weekends.

The calendar is data handed in from outside (see `planfile.holidays`), so the domain
stays free of I/O and of any particular holiday package. A year the data does not
cover falls back to weekends only; `uncovered_years` lets `plan check` warn about it
instead of the engine crashing in the middle of a campaign.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta


@dataclass(frozen=True)
class WorkingCalendar:
    """Which days are working days.

    `holidays` and `workdays` override the weekend rule; `covered_years` are the years
    for which the official data is complete (empty for a weekends-only calendar).
    """

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    covered_years: frozenset[int] = field(default_factory=frozenset)
    official: bool = False

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def uncovered_years(self, days: Iterable[date]) -> list[int]:
        """Years among `days` for which an official calendar has no data."""
        if not self.official:
            return []
        return sorted({d.year for d in days} - self.covered_years)

    def previous_working_day(self, day: date) -> date:
        """`day` itself when it is a working day, else the closest working day before it."""
        while not self.is_working_day(day):
            day -= timedelta(days=1)
        return day

    def add_working_days(self, day: date, count: int) -> date:
        """The day `count` working days after (count > 0) or before (count < 0) `day`."""
        step = timedelta(days=1 if count >= 0 else -1)
        remaining = abs(count)
        while remaining:
            day += step
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days d with start < d <= end (negative when end is before start)."""
        if end < start:
            return -self.working_days_between(end, start)
        days = (start + timedelta(days=n) for n in range(1, (end - start).days + 1))
        return sum(1 for d in days if self.is_working_day(d))

    def with_overrides(self, holidays: Iterable[date], workdays: Iterable[date]) -> WorkingCalendar:
        """This calendar plus a plan's own extra holidays and make-up workdays."""
        extra_holidays = frozenset(holidays)
        extra_workdays = frozenset(workdays)
        return WorkingCalendar(
            holidays=(self.holidays - extra_workdays) | extra_holidays,
            workdays=(self.workdays - extra_holidays) | extra_workdays,
            covered_years=self.covered_years,
            official=self.official,
        )
