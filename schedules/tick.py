"""One tick: decide from the plan and the database what is due at `now`, and queue it in the outbox.

Idempotent: task transitions only happen once (a task opens once, each escalation
level is raised once), and every message has a unique outbox key, so a tick run
twice at the same `now` — or later the same day — queues nothing new. Messages are
rendered and queued in the same transaction as the decisions; sending comes after.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import pendulum
from sqlalchemy import Connection, Engine

from cuiban.models import locks, outbox_store, report_store, task_store, teacher_store, tick_marks
from cuiban.models.unit_of_work import transaction
from cuiban.notifications.labels import state_label
from cuiban.notifications.render import Rendered, Renderer, TemplateFailure
from cuiban.schedules.digest import digest_context, digest_data
from cuiban.workflow.calendar import WorkingCalendar
from cuiban.workflow.plan.schema import Plan, Unit
from cuiban.workflow.recipients import Recipient, resolve
from cuiban.workflow.reminders import (
    Reminded,
    at_local,
    escalation_moments,
    latest_slot,
    levels_reached,
    reminder_slots,
    slot_to_send,
)
from cuiban.workflow.task_machine import FINISHED, UnitTask
from cuiban.workflow.tasks import opens_at, responsible_units, task_key
from cuiban.workflow.teacher_states import states_at_least

TEACHERS_SHOWN = 100
"""A reminder lists at most this many unfinished teachers, then says how many more there are."""
CHART_CID = "progress-chart@cuiban"
"""Content-ID of the digest's progress chart."""
KEY_WINDOW_DAYS = 60
"""Outbox keys older than this cannot come up again (slots are at most this far back)."""


@dataclass
class TickReport:
    opened: int = 0
    overdue: int = 0
    escalated: int = 0
    queued: dict[str, int] = field(default_factory=lambda: {"reminder": 0, "escalation": 0, "digest": 0})
    template_failures: int = 0
    """Messages queued as failed because an admin's template could not render them."""


@dataclass
class _Tick:
    """What every decision of one tick shares."""

    connection: Connection
    plan: Plan
    calendar: WorkingCalendar
    renderer: Renderer
    now: datetime
    report: TickReport
    known: set[str]
    """Outbox keys already decided: not rendered again."""
    counts: dict[str, dict[str, int]]
    """Per unit, teachers per state: one scan per tick."""
    changed: list[tuple[dict[str, Any], UnitTask]] = field(default_factory=list)
    """Tasks that moved, written together at the end."""
    contexts: dict[int, dict[str, Any]] = field(default_factory=dict)
    """Each task's message context, built once even when it gets a reminder and an escalation."""
    units_of: dict[str, list[str]] = field(default_factory=dict)
    """Each milestone's responsible units, worked out once (a fan-out lists every department)."""

    schedules: dict[tuple, Any] = field(default_factory=dict)
    """Reminder slots and escalation moments by (kind, milestone, due day, opening): shared by its tasks."""
    reminded: dict[str, Reminded] = field(default_factory=dict)
    """Per task key, what its reminders so far were: the catch-up rule's memory."""
    seen_until: datetime | None = None
    """The latest moment a tick had decided at before this one."""
    reminding: bool = True
    """False after the campaign's reminders end: tasks still move, nobody is reminded or told."""

    def units(self, milestone_id: str) -> list[str]:
        if milestone_id not in self.units_of:
            self.units_of[milestone_id] = responsible_units(self.plan, milestone_id)
        return self.units_of[milestone_id]

    def working_days_left(self, today: date, due: date) -> int:
        """Working days from today to a due day, counted once per due day (every department shares it)."""
        key = ("left", today, due)
        if key not in self.schedules:
            self.schedules[key] = self.calendar.working_days_between(today, due)
        return self.schedules[key]


def run_tick(
    engine: Engine,
    plan: Plan,
    calendar: WorkingCalendar,
    renderer: Renderer,
    now: datetime,
    message_domain: str = "cuiban.local",
) -> TickReport:
    report = TickReport()
    since = now - timedelta(days=KEY_WINDOW_DAYS)
    with transaction(engine) as connection:
        locks.hold(connection, "cuiban.tick")  # a second tick waits, then finds nothing new
        task_store.ensure(connection, plan, calendar, now)
        task_store.refresh_derived(connection, plan, now, "tick")
        tick = _Tick(
            connection,
            plan,
            calendar,
            renderer,
            now,
            report,
            outbox_store.keys_since(connection, since),
            teacher_store.unit_state_counts(connection),
        )
        tick.reminding = pendulum.instance(now).in_timezone(plan.timezone).date() <= (
            plan.campaign.reminders_end
        )
        tick.seen_until = tick_marks.seen_until(connection)
        tick_marks.saw(connection, now)
        if tick.reminding:
            tick.reminded = {
                key: Reminded(*when) for key, when in outbox_store.reminded(connection, since).items()
            }
        messages: list[dict[str, Any]] = []
        for row in task_store.rows(connection):
            if row["milestone_id"] in plan.milestones and row["state"] not in FINISHED:
                messages += _task_tick(tick, row)
        task_store.save_many(connection, tick.changed, now, "tick")
        _queue(connection, report, messages, now, message_domain)  # first: the digest lists failures
        _queue(connection, report, _digests(connection, plan, calendar, renderer, now), now, message_domain)
    return report


def _queue(
    connection: Connection, report: TickReport, messages: list[dict[str, Any]], now: datetime, domain: str
) -> None:
    fresh = _only_new(connection, messages)
    for message in fresh:
        report.queued[message["kind"]] += 1
        report.template_failures += message.get("status") == "failed"
    outbox_store.queue(connection, fresh, now, domain)


def _only_new(connection: Connection, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    known = outbox_store.existing_keys(connection, [m["key"] for m in messages])
    unique = {m["key"]: m for m in messages if m["key"] not in known}
    return list(unique.values())


def _task_tick(tick: _Tick, row: dict[str, Any]) -> list[dict[str, Any]]:
    plan, now, report = tick.plan, tick.now, tick.report
    tz = plan.timezone
    task = task_store.domain(row)
    opens = opens_at(plan, row["milestone_id"], row["occurrence"])
    due = pendulum.instance(row["due_at"]).in_timezone(tz) if row["due_at"] else None
    if task.state == "upcoming" and now >= opens:
        task.fire("open_window", now)
        report.opened += 1
    if due is not None and now > due and task.state in ("upcoming", "open"):
        task.fire("mark_overdue", now)
        report.overdue += 1
    messages: list[dict[str, Any]] = []
    if due is not None and tick.reminding:
        messages += _reminders(tick, row, task, opens, due)
        messages += _escalations(tick, row, task, due)
    if task.happened:
        tick.changed.append((row, task))
    return messages


def _reminders(
    tick: _Tick, row: dict[str, Any], task: UnitTask, opens: datetime, due: pendulum.DateTime
) -> list[dict[str, Any]]:
    plan, calendar, renderer, now, known = tick.plan, tick.calendar, tick.renderer, tick.now, tick.known
    policy = plan.reminder_policy(row["milestone_id"])
    today = pendulum.instance(now).in_timezone(plan.timezone).date()
    key = ("slot", row["milestone_id"], due.date(), opens)
    if key not in tick.schedules:
        slots = reminder_slots(policy, due.date(), opens, calendar, plan.timezone, today)
        tick.schedules[key] = latest_slot(slots, now)
    this_task = task_key(row["milestone_id"], row["unit_id"], row["occurrence"])
    slot = slot_to_send(
        tick.schedules[key], now, tick.reminded.get(this_task), tick.seen_until, plan.timezone
    )
    if slot is None or now < opens:
        return []
    milestone = plan.milestones[row["milestone_id"]]
    recipients = [
        r
        for r in resolve(plan, milestone.owners, row["unit_id"], tick.units(row["milestone_id"]))
        if _key("reminder", row, r, slot.name) not in known
    ]
    if not recipients:
        return []  # decided on an earlier tick: nothing to render
    context = _task_context(tick, row, task, due)
    return [
        _message("reminder", row, r, slot.name, renderer, {**context, "recipient": {"name": r.name}}, slot.at)
        for r in recipients
    ]


def _escalations(
    tick: _Tick, row: dict[str, Any], task: UnitTask, due: pendulum.DateTime
) -> list[dict[str, Any]]:
    plan, calendar, renderer, now, report = tick.plan, tick.calendar, tick.renderer, tick.now, tick.report
    if task.state != "overdue":
        return []
    ladder = plan.escalation_ladder(row["milestone_id"])
    policy = plan.reminder_policy(row["milestone_id"])
    key = ("levels", row["milestone_id"], due.date())
    if key not in tick.schedules:
        moments = escalation_moments(ladder, due.date(), policy, calendar, plan.timezone)
        tick.schedules[key] = (moments, levels_reached(moments, now))
    moments, reached = tick.schedules[key]
    messages: list[dict[str, Any]] = []
    context = _task_context(tick, row, task, due) if reached > task.escalation_level else {}
    while task.escalation_level < reached:
        task.fire("escalate", now)
        report.escalated += 1
        level = task.escalation_level
        step = ladder[level - 1]
        for r in resolve(plan, step.to, row["unit_id"], tick.units(row["milestone_id"])):
            extra = {"recipient": {"name": r.name}, "level": level}
            messages.append(
                _message(
                    "escalation", row, r, f"level-{level}", renderer, {**context, **extra}, moments[level - 1]
                )
            )
    return messages


def _digests(
    connection: Connection, plan: Plan, calendar: WorkingCalendar, renderer: Renderer, now: datetime
) -> list[dict[str, Any]]:
    local = pendulum.instance(now).in_timezone(plan.timezone)
    today = local.date()
    due_at = at_local(today, plan.digest.at, plan.timezone)
    if not plan.campaign.start <= today <= plan.campaign.end or now < due_at:
        return []
    recipients = resolve(plan, [*plan.digest.to, *plan.digest.cc], None)
    if not recipients or outbox_store.existing_keys(connection, [_digest_key(recipients[0], today)]):
        return []
    data = digest_data(connection, plan, calendar, now)
    chart = _progress_chart(connection, plan, now)
    messages = []
    for r in recipients:
        context = digest_context(plan, data, r.name, CHART_CID)
        try:
            rendered = renderer.render("digest", context)
        except TemplateFailure as failure:  # the coordinator must get the digest: in the built-in words
            problem = {"recipient": r.email, "recipient_name": r.name, "subject": "digest"}
            problem["error"] = str(failure)
            context["digest"] = {**data, "failed_messages": [*data["failed_messages"], problem]}
            rendered = renderer.builtin().render("digest", context)
        messages.append(
            {
                "key": _digest_key(r, today),
                "kind": "digest",
                "recipient": r.email,
                "recipient_name": r.name,
                "slot": today.isoformat(),
                "subject": rendered.subject,
                "body_text": rendered.text,
                "body_html": rendered.html,
                "data": data,
                "attachments": [chart],
                "due_at": due_at,
            }
        )
    return messages


def _progress_chart(connection: Connection, plan: Plan, now: datetime) -> dict[str, Any]:
    """The digest's chart: entered teachers per department by day, shown inline in the HTML."""
    from cuiban.reports.chart import progress_png  # matplotlib loads only when a digest is due

    png = progress_png(report_store.progress(connection, plan, now))
    return {"filename": "progress.png", "content_type": "image/png", "content_id": CHART_CID, "content": png}


def _digest_key(recipient: Recipient, day: date) -> str:
    return f"digest|{recipient.email}|{day.isoformat()}"


def _task_context(tick: _Tick, row: dict[str, Any], task: UnitTask, due: pendulum.DateTime) -> dict[str, Any]:
    """The allow-listed fields a reminder or escalation may show: no ID-card or phone numbers."""
    if row["id"] not in tick.contexts:
        tick.contexts[row["id"]] = _build_context(tick, row, task, due)
    return tick.contexts[row["id"]]


def _build_context(
    tick: _Tick, row: dict[str, Any], task: UnitTask, due: pendulum.DateTime
) -> dict[str, Any]:
    connection, plan, now = tick.connection, tick.plan, tick.now
    milestone = plan.milestones[row["milestone_id"]]
    today = pendulum.instance(now).in_timezone(plan.timezone).date()
    left = tick.working_days_left(today, due.date())
    context: dict[str, Any] = {
        "plan": {"title": plan.title, "institution": plan.institution},
        "task": {
            "title": milestone.title,
            "deliverable": milestone.deliverable,
            "unit_name": plan.units[row["unit_id"]].name,
            "due": due.format("YYYY-MM-DD HH:mm"),
            "due_date": due.date().isoformat(),
            "working_days_left": max(left, 0),
            "overdue": task.state == "overdue" or now > due,
            "overdue_days": max(-left, 0),
            "owners": "、".join(
                r.name
                for r in resolve(plan, milestone.owners, row["unit_id"], tick.units(row["milestone_id"]))
            ),
            "next_step": milestone.title,
            "report": report_command(milestone.report, plan.units[row["unit_id"]]),
        },
        "teachers": [],
        "more": 0,
        "counts": None,
    }
    if (
        milestone.completion == "derived"
        and milestone.teachers_at_least
        and plan.units[row["unit_id"]].kind == "department"
    ):
        reached = states_at_least(milestone.teachers_at_least)
        by_state = tick.counts.get(row["unit_id"], {})
        total = sum(by_state.values())
        done = sum(n for s, n in by_state.items() if s in reached)
        context["counts"] = {"total": total, "done": done, "missing": total - done}
        context["teachers"] = [
            {"staff_id": t["staff_id"], "name": t["name"], "state": state_label(plan.language, t["state"])}
            for t in teacher_store.unfinished(connection, row["unit_id"], reached, TEACHERS_SHOWN)
        ]
        context["more"] = max(total - done - len(context["teachers"]), 0)
    return context


def report_command(report: str | None, unit: Unit) -> str | None:
    """The command that writes the milestone's form, for this unit where the form is per department."""
    if report is None:
        return None
    if report == "monthly":
        return "cuiban report monthly --send"
    if report in ("dept-audit", "teacher-sheet") and unit.kind == "department":
        return f"cuiban report {report} --unit {unit.name}"
    return f"cuiban report {report}"


def _key(kind: str, row: dict[str, Any], recipient: Recipient, slot: str) -> str:
    return (
        f"{kind}|{task_key(row['milestone_id'], row['unit_id'], row['occurrence'])}|{recipient.email}|{slot}"
    )


def _message(
    kind: str,
    row: dict[str, Any],
    recipient: Recipient,
    slot: str,
    renderer: Renderer,
    context: dict[str, Any],
    due_at: datetime,
) -> dict[str, Any]:
    key = task_key(row["milestone_id"], row["unit_id"], row["occurrence"])
    failure = None
    try:
        rendered = renderer.render(kind, context)
    except TemplateFailure as error:  # this message fails, recorded; the rest of the tick goes on
        failure = error
        rendered = _what_it_would_say(renderer, kind, context, error)
    message = {
        "key": _key(kind, row, recipient, slot),
        "kind": kind,
        "task_key": key,
        "unit_id": row["unit_id"],
        "recipient": recipient.email,
        "recipient_name": recipient.name,
        "slot": slot,
        "subject": rendered.subject,
        "body_text": rendered.text,
        "body_html": rendered.html,
        "due_at": due_at,
    }
    if failure is not None:
        message.update(status="failed", last_error=f"template problem: {failure}")
    return message


def _what_it_would_say(
    renderer: Renderer, kind: str, context: dict[str, Any], failure: Exception
) -> Rendered:
    """The built-in wording of a message whose template failed: what `outbox show` and a retry use."""
    try:
        return renderer.builtin().render(kind, context)
    except TemplateFailure:
        return Rendered(kind, str(failure), str(failure))
