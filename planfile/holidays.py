"""Holiday data for `calendar: cn`, from the chinesecalendar package, plus the plan's own extras.

The package knows the years up to its release; for later years the calendar falls
back to weekends (and `plan check` warns) until the admin lists that year's holidays.
"""

from __future__ import annotations

import chinese_calendar

from cuiban.workflow.calendar import WorkingCalendar
from cuiban.workflow.plan.schema import CalendarSpec


def official_cn_calendar() -> WorkingCalendar:
    holidays = frozenset(chinese_calendar.holidays)
    workdays = frozenset(chinese_calendar.workdays)
    years = {d.year for d in holidays}
    covered = frozenset(range(min(years), max(years) + 1))
    return WorkingCalendar(holidays, workdays, covered, official=True)


def build_calendar(spec: CalendarSpec) -> WorkingCalendar:
    base = official_cn_calendar() if spec.kind == "cn" else WorkingCalendar()
    return base.with_overrides(spec.extra_holidays, spec.extra_workdays)
