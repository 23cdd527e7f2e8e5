"""Where each milestone stands at a given moment: its window, due time, status and days left.

Used by `plan show` with no completion data (relative milestones then wait on their
anchor) and later by the scheduler, which passes the dates milestones were completed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pendulum

from cuiban.workflow.calendar import WorkingCalendar
from cuiban.workflow.clock import end_of_day, local_date, start_of_day
from cuiban.workflow.plan.people import recipient_labels
from cuiban.workflow.plan.schema import Milestone, Plan

STATUSES = ("upcoming", "open", "due_today", "past", "undated", "waiting")


@dataclass(frozen=True)
class MilestoneView:
    id: str
    title: str
    source: str
    kind: str
    """window, due, relative, monthly or undated."""
    units: tuple[str, ...]
    unit_names: tuple[str, ...]
    owners: tuple[str, ...]
    owner_names: tuple[str, ...]
    start: pendulum.DateTime | None
    due: pendulum.DateTime | None
    status: str
    working_days_left: int | None
    """Working days after today up to the due date: 0 on the due day, negative when past."""


def monthly_occurrences(milestone: Milestone) -> list[date]:
    """Every due date of a monthly milestone, in order."""
    spec = milestone.monthly
    if spec is None:
        return []
    found: list[date] = []
    year, month = spec.from_.year, spec.from_.month
    while (year, month) <= (spec.until.year, spec.until.month):
        day = date(year, month, spec.day)
        if spec.from_ <= day <= spec.until:
            found.append(day)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def due_date(
    milestone: Milestone,
    today: date,
    calendar: WorkingCalendar,
    completed: Mapping[str, date],
) -> date | None:
    """The date a milestone is due, as seen on `today`.

    Relative milestones are due once their anchor is complete; monthly ones at their
    next occurrence (the last one once all have passed); undated ones never.
    """
    if milestone.after is not None:
        done = completed.get(milestone.after.milestone)
        if done is None:
            return None
        if milestone.after.working_days:
            return calendar.add_working_days(done, milestone.after.days)
        return done + timedelta(days=milestone.after.days)
    if milestone.monthly is not None:
        occurrences = monthly_occurrences(milestone)
        upcoming = [d for d in occurrences if d >= today]
        return upcoming[0] if upcoming else occurrences[-1]
    return milestone.due


def _kind(milestone: Milestone) -> str:
    if milestone.after is not None:
        return "relative"
    if milestone.monthly is not None:
        return "monthly"
    if milestone.undated:
        return "undated"
    return "window" if milestone.start is not None else "due"


def view(
    plan: Plan,
    mid: str,
    calendar: WorkingCalendar,
    now: datetime,
    completed: Mapping[str, date] | None = None,
) -> MilestoneView:
    milestone = plan.milestones[mid]
    tz = plan.timezone
    today = local_date(now, tz)
    kind = _kind(milestone)
    due_day = due_date(milestone, today, calendar, completed or {})
    opens = milestone.start or plan.campaign.start
    start = start_of_day(milestone.start, tz) if milestone.start else None
    due = end_of_day(due_day, tz) if due_day else None
    if due is None or due_day is None:
        status, left = ("undated" if kind == "undated" else "waiting"), None
    else:
        left = calendar.working_days_between(today, due_day)
        if now < start_of_day(opens, tz) and kind != "monthly":
            status = "upcoming"
        elif today == due_day:
            status = "due_today"
        elif now > due:
            status = "past"
        else:
            status = "open"
    return MilestoneView(
        id=mid,
        title=milestone.title,
        source=milestone.source,
        kind=kind,
        units=tuple(milestone.units),
        unit_names=tuple(plan.unit_names(milestone.units)),
        owners=tuple(milestone.owners),
        owner_names=tuple(recipient_labels(plan, milestone.owners, milestone.units)),
        start=start,
        due=due,
        status=status,
        working_days_left=left,
    )


def timeline(
    plan: Plan,
    calendar: WorkingCalendar,
    now: datetime,
    completed: Mapping[str, date] | None = None,
) -> list[MilestoneView]:
    """Every milestone in plan order, as seen at `now`."""
    return [view(plan, mid, calendar, now, completed) for mid in plan.milestones]
