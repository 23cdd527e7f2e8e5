"""The daily digest's figures, from the database as of `now`: a stable JSON-able document.

Per department the fields of 附表6 (教职工数, 完成数, 未完成数, 审核完成数, 审核未完成数)
and their change since the previous digest; milestones due today and this week;
overdue and escalated tasks; the units furthest behind; messages that could not be
delivered; how many teachers were sent their own reminder since the last digest
(`teachers.remind`). Documented in docs/notifications.md; keys are English and stable.

As of `now`: when nothing was logged after `now` (the tick, the live dashboard) the tables are
read as they are; for a past `now` (`digest --now 2016-12-16` on a later database) the teachers'
and tasks' states come from the transition log (`models.as_of_store`), the failed and late
messages are those of the day before `now`, and the change since yesterday compares with the
previous digest's stored figures, as the tick did (they are never rewritten, so they are the
figures of that digest's moment; none stored: no change shown, as then).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pendulum
from sqlalchemy import Connection

from cuiban.models import as_of_store, outbox_store, task_store, teacher_store
from cuiban.workflow.calendar import WorkingCalendar
from cuiban.workflow.plan.schema import Plan
from cuiban.workflow.tasks import task_specs
from cuiban.workflow.teacher_states import states_at_least

BEHIND = 5


def digest_context(
    plan: Plan,
    data: dict[str, Any],
    recipient_name: str,
    chart_cid: str | None = None,
    link: str | None = None,
) -> dict[str, Any]:
    """What the digest templates get: the plan's name, the figures, whom it greets, the
    Content-ID of the progress chart when the message carries one (HTML: `cid:{{ chart_cid }}`),
    and the dashboard's address when the web pages have one (None: no link line)."""
    return {
        "plan": {"title": plan.title, "institution": plan.institution},
        "digest": data,
        "recipient": {"name": recipient_name},
        "chart_cid": chart_cid,
        "link": link,
    }


def _percent(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


def digest_data(
    connection: Connection, plan: Plan, calendar: WorkingCalendar, now: datetime
) -> dict[str, Any]:
    tz = plan.timezone
    local = pendulum.instance(now).in_timezone(tz)
    today = local.date()
    previous = outbox_store.latest_digest_before(connection, today.isoformat(), plan.cycle) or {}
    before = {u["unit_id"]: u for u in previous.get("units", [])}
    current = as_of_store.is_current(connection, now)
    if current:
        counts = teacher_store.unit_state_counts(connection)
    else:
        counts = as_of_store.unit_state_counts_then(connection, now)
    filled_states, reviewed_states = set(states_at_least("submitted")), set(states_at_least("reviewed"))
    units = []
    for uid in plan.departments():
        by_state = counts.get(uid, {})
        total = sum(by_state.values())
        filled = sum(n for s, n in by_state.items() if s in filled_states)
        reviewed = sum(n for s, n in by_state.items() if s in reviewed_states)
        old = before.get(uid, {})
        units.append(
            {
                "unit_id": uid,
                "name": plan.units[uid].name,
                "teachers": total,
                "filled": filled,
                "not_filled": total - filled,
                "reviewed": reviewed,
                "not_reviewed": total - reviewed,
                "filled_percent": _percent(filled, total),
                "filled_change": filled - old.get("filled", 0) if old else 0,
                "reviewed_change": reviewed - old.get("reviewed", 0) if old else 0,
            }
        )
    teachers = sum(u["teachers"] for u in units)
    filled = sum(u["filled"] for u in units)
    reviewed = sum(u["reviewed"] for u in units)
    since = local.subtract(days=1)
    if current:
        monday = today + timedelta(days=7 - today.weekday())  # next week's first day: this week's end
        window = (local.start_of("day"), pendulum.datetime(monday.year, monday.month, monday.day, tz=tz))
        open_tasks = task_store.open_with_due(connection, plan.cycle, window)
        failed = outbox_store.failed_since(connection, since, plan.cycle)
        late = outbox_store.late_since(connection, since, plan.cycle)
    else:
        open_tasks = _open_with_due_then(as_of_store.tasks_at(connection, now, plan.cycle), plan, calendar)
        failed = as_of_store.failed_between(connection, since, now, plan.cycle)
        late = as_of_store.late_between(connection, since, now, plan.cycle)
    tasks = _task_lines(open_tasks, plan, calendar, local)
    # the teachers' own reminders since the last digest (a day ago); none read when the plan has none
    teacher_mails = 0
    if plan.teachers.remind is not None:
        teacher_mails = outbox_store.queued_between(connection, "teacher", since, now, plan.cycle)
    week_end = today + timedelta(days=6 - today.weekday())
    return {
        "date": today.isoformat(),
        "generated_at": local.isoformat(timespec="seconds"),
        "totals": {
            "teachers": teachers,
            "filled": filled,
            "reviewed": reviewed,
            "filled_percent": _percent(filled, teachers),
            "reviewed_percent": _percent(reviewed, teachers),
        },
        "units": units,
        "due_today": [t for t in tasks if t["due_date"] == today.isoformat() and not t["done"]],
        "due_this_week": [
            t for t in tasks if today.isoformat() < t["due_date"] <= week_end.isoformat() and not t["done"]
        ],
        "overdue": [t for t in tasks if t["state"] == "overdue"],
        "behind": sorted(
            (u for u in units if u["teachers"] and u["filled_percent"] < 100),
            key=lambda u: (u["filled_percent"], u["name"]),
        )[:BEHIND],
        "failed_messages": [
            {
                "recipient": m["recipient"],
                "recipient_name": m["recipient_name"],
                "subject": m["subject"],
                "error": m["last_error"] or "",
            }
            for m in failed
        ],
        "late_messages": late,
        "teacher_reminders": teacher_mails,
    }


def _open_with_due_then(tasks: list[dict[str, Any]], plan: Plan, calendar: WorkingCalendar) -> list[dict]:
    """task_store.open_with_due as of a past moment, from the tasks then: the due times the tick had
    then (a milestone due some days after another is due only once that one was complete by then)."""
    by_milestone: dict[str, list[dict[str, Any]]] = {}
    for task in tasks:
        by_milestone.setdefault(task["milestone_id"], []).append(task)
    completed = {
        mid: pendulum.instance(max(t["finished_at"] for t in rows)).in_timezone(plan.timezone).date()
        for mid, rows in by_milestone.items()
        if all(t["finished_at"] for t in rows)
    }
    dues = {(s.milestone_id, s.unit_id, s.occurrence): s.due for s in task_specs(plan, calendar, completed)}
    lines = []
    for task in tasks:
        due = dues.get((task["milestone_id"], task["unit_id"], task["occurrence"]), task["due_at"])
        if due is not None and task["finished_at"] is None:
            lines.append({**task, "due_at": due})
    return lines


def _task_lines(
    open_tasks: list[dict[str, Any]], plan: Plan, calendar: WorkingCalendar, local: pendulum.DateTime
) -> list[dict]:
    """The open tasks the digest lists (due today, due this week, overdue), by due date.

    A campaign of 2,000 departments has ten thousand tasks but a handful of due dates: each
    due moment is turned into a local date, and its working days counted, once."""
    today, week_end = local.date(), local.date() + timedelta(days=6 - local.weekday())
    dates: dict[Any, Any] = {}
    late: dict[Any, int] = {}
    lines = []
    for row in open_tasks:
        if row["milestone_id"] not in plan.milestones:
            continue
        due_date = dates.get(row["due_at"])
        if due_date is None:
            due_date = pendulum.instance(row["due_at"]).in_timezone(plan.timezone).date()
            dates[row["due_at"]] = due_date
        overdue = row["state"] == "overdue"
        if not (overdue or today <= due_date <= week_end):
            continue
        if overdue and due_date not in late:
            late[due_date] = max(calendar.working_days_between(due_date, today), 0)
        unit = plan.units.get(row["unit_id"])
        lines.append(
            {
                "task": "/".join(p for p in (row["milestone_id"], row["unit_id"], row["occurrence"]) if p),
                "title": plan.milestones[row["milestone_id"]].title,
                "unit_name": unit.name if unit else row["unit_id"],
                "due_date": due_date.isoformat(),
                "state": row["state"],
                "done": False,
                "overdue_days": late[due_date] if overdue else 0,
                "escalation_level": row["escalation_level"],
            }
        )
    return sorted(lines, key=lambda t: (t["due_date"], t["task"]))
