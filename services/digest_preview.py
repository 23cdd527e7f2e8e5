"""The coordinator's digest at a moment, not queued: what `cuiban digest` shows and the demo ends with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from cuiban.notifications.render import Rendered, Renderer
from cuiban.schedules.digest import digest_context, digest_data
from cuiban.schedules.digest_mail import final_sla
from cuiban.workflow.calendar import WorkingCalendar
from cuiban.workflow.links import NO_LINKS, Links
from cuiban.workflow.plan.schema import Plan


@dataclass(frozen=True)
class DigestPreview:
    data: dict[str, Any]
    """The figures: a stable JSON-able document (docs/notifications.md)."""
    rendered: Rendered
    """The message as the coordinator would get it."""


def preview(
    engine: Engine,
    plan: Plan,
    calendar: WorkingCalendar,
    renderer: Renderer,
    now: datetime,
    links: Links = NO_LINKS,
) -> DigestPreview:
    with engine.connect() as connection:
        data = digest_data(connection, plan, calendar, now)
        sla = final_sla(connection, plan, calendar, now)
    coordinator = plan.people[plan.roles.coordinator].name
    context = digest_context(plan, data, coordinator, link=links.dashboard())
    context["sla"] = sla  # the campaign's last digest: as the mail says it
    return DigestPreview(data, renderer.render("digest", context))
