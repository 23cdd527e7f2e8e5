"""Warnings that need the working calendar: deadlines and reminders on days off, years without data.

These never fail a plan: a deadline on a Sunday is the seed's own choice (12-25), but
the admin should know that working-day reminders end on the Friday before.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

from cuiban.workflow.calendar import WorkingCalendar
from cuiban.workflow.plan.findings import Finding
from cuiban.workflow.plan.schema import Plan
from cuiban.workflow.plan.timeline import monthly_occurrences
from cuiban.workflow.wording import Words, words


def calendar_findings(plan: Plan, calendar: WorkingCalendar) -> list[Finding]:
    return [*_uncovered_years(plan, calendar), *_days_off(plan, calendar)]


def _plan_dates(plan: Plan) -> list[date]:
    found = [plan.campaign.start, plan.campaign.end]
    for milestone in plan.milestones.values():
        found += [d for d in (milestone.start, milestone.due) if d is not None]
        found += monthly_occurrences(milestone)
    return found


def _uncovered_years(plan: Plan, calendar: WorkingCalendar) -> Iterator[Finding]:
    for year in calendar.uncovered_years(_plan_dates(plan)):
        yield Finding(
            ("calendar", "kind"),
            words("plan.uncovered_year", year=year),
            "warning",
        )


def _describe(day: date, calendar: WorkingCalendar) -> Words:
    reason = "plan.holiday" if day in calendar.holidays else "plan.weekend"
    return words(reason, day=day, weekday=words(f"weekday.{day.weekday()}"))


def _days_off(plan: Plan, calendar: WorkingCalendar) -> Iterator[Finding]:
    for mid, milestone in plan.milestones.items():
        path = ("milestones", mid)
        if milestone.due is not None and not calendar.is_working_day(milestone.due):
            earlier = calendar.previous_working_day(milestone.due)
            yield Finding(
                (*path, "due"),
                words("plan.deadline_off", day_off=_describe(milestone.due, calendar), earlier=earlier),
                "warning",
            )
        for day in monthly_occurrences(milestone):
            if not calendar.is_working_day(day):
                off = words("plan.occurrence_off", day_off=_describe(day, calendar))
                yield Finding((*path, "monthly"), off, "warning")
        yield from _reminders_off(plan, mid, calendar)


def _reminders_off(plan: Plan, mid: str, calendar: WorkingCalendar) -> Iterator[Finding]:
    policy = plan.reminder_policy(mid)
    due = plan.milestones[mid].due
    if policy.working_days_only or due is None:
        return
    for offset in policy.before:
        day = due - timedelta(days=offset)
        if not calendar.is_working_day(day):
            yield Finding(
                ("milestones", mid, "reminders"),
                words("plan.reminder_off", offset=offset, day_off=_describe(day, calendar)),
                "warning",
            )
