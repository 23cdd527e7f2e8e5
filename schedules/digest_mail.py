"""The coordinator's daily digest: once a day at the plan's time during the campaign, with the
progress chart inline; rendered in the built-in words when an admin's template fails, since
the digest is where failures are reported."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pendulum
from sqlalchemy import Connection

from cuiban.models import outbox_store, report_store, sla_store
from cuiban.notifications.render import Renderer, TemplateFailure
from cuiban.schedules.digest import digest_context, digest_data
from cuiban.workflow.calendar import WorkingCalendar
from cuiban.workflow.links import NO_LINKS, Links
from cuiban.workflow.plan.schema import Plan
from cuiban.workflow.recipients import Recipient, resolve
from cuiban.workflow.reminders import at_local
from cuiban.workflow.sla import digest_lines

CHART_CID = "progress-chart@cuiban"
"""Content-ID of the digest's progress chart."""


def digest_due(plan: Plan, now: datetime) -> pendulum.DateTime | None:
    """When today's digest is due, if it is by `now` (campaign days only)."""
    today = pendulum.instance(now).in_timezone(plan.timezone).date()
    due_at = at_local(today, plan.digest.at, plan.timezone)
    if not plan.campaign.start <= today <= plan.campaign.end or now < due_at:
        return None
    return due_at


def digests(
    connection: Connection,
    plan: Plan,
    calendar: WorkingCalendar,
    renderer: Renderer,
    now: datetime,
    links: Links = NO_LINKS,
) -> list[dict[str, Any]]:
    """Today's digest for each of its recipients, unless already queued or not yet due; with a
    link to the dashboard when the web pages have an address."""
    due_at = digest_due(plan, now)
    if due_at is None:
        return []
    today = due_at.date()
    recipients = resolve(plan, [*plan.digest.to, *plan.digest.cc], None)
    first_key = _digest_key(recipients[0], today) if recipients else ""
    if not recipients or outbox_store.existing_keys(connection, [first_key], plan.cycle):
        return []
    data = digest_data(connection, plan, calendar, now)
    chart = _progress_chart(connection, plan, now)
    sla = final_sla(connection, plan, calendar, now)
    messages = []
    for r in recipients:
        context = digest_context(plan, data, r.name, CHART_CID, links.dashboard())
        context["sla"] = sla
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


def final_sla(
    connection: Connection, plan: Plan, calendar: WorkingCalendar, now: datetime
) -> list[dict[str, Any]] | None:
    """The campaign's last digest (from `campaign.end` on) sums it up per department, as `cuiban
    report sla` does (its rules: docs/sla.md): on time, late and overdue tasks, and how long teachers
    took between stages; None on the other days."""
    if pendulum.instance(now).in_timezone(plan.timezone).date() < plan.campaign.end:
        return None
    names = {uid: unit.name for uid, unit in plan.units.items()}
    return digest_lines(sla_store.figures_at(connection, plan, calendar, now), names)


def _progress_chart(connection: Connection, plan: Plan, now: datetime) -> dict[str, Any]:
    """The digest's chart: entered teachers per department by day, shown inline in the HTML."""
    from cuiban.reports.chart import progress_png  # matplotlib loads only when a digest is due

    png = progress_png(report_store.progress(connection, plan, now))
    return {"filename": "progress.png", "content_type": "image/png", "content_id": CHART_CID, "content": png}


def _digest_key(recipient: Recipient, day: date) -> str:
    return f"digest|{recipient.email}|{day.isoformat()}"
