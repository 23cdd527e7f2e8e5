"""The timeline as a table for people and as stable JSON for programs (see docs/commands.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pendulum
from rich.table import Table

from cuiban.workflow.clock import iso
from cuiban.workflow.plan.schema import Plan
from cuiban.workflow.plan.timeline import MilestoneView

STATUS_LABELS = {
    "upcoming": "未开始 upcoming",
    "open": "进行中 open",
    "due_today": "今日截止 due today",
    "past": "已过 past",
    "undated": "待通知 undated",
    "waiting": "待前置 waiting",
}


def _when(moment: datetime | None) -> str | None:
    return iso(moment) if moment is not None else None


def timeline_json(plan: Plan, views: list[MilestoneView], now: datetime) -> dict[str, Any]:
    return {
        "plan": {
            "cycle": plan.cycle,
            "title": plan.title,
            "institution": plan.institution,
            "timezone": plan.timezone,
        },
        "now": iso(pendulum.instance(now).in_timezone(plan.timezone)),
        "milestones": [
            {
                "id": v.id,
                "title": v.title,
                "source": v.source,
                "kind": v.kind,
                "unit": "、".join(v.unit_names),
                "units": list(v.units),
                "owner": "、".join(v.owner_names),
                "owners": list(v.owners),
                "start": _when(v.start),
                "due": _when(v.due),
                "status": v.status,
                "working_days_left": v.working_days_left,
            }
            for v in views
        ],
    }


def timeline_table(plan: Plan, views: list[MilestoneView], now: datetime) -> Table:
    local_now = pendulum.instance(now).in_timezone(plan.timezone)
    table = Table(title=f"{plan.institution} {plan.title} — {iso(local_now)}")
    for header in ("id", "里程碑", "依据", "单位", "负责人", "开始", "截止", "状态", "剩余工作日"):
        table.add_column(header)
    for v in views:
        left = "" if v.working_days_left is None else str(v.working_days_left)
        table.add_row(
            v.id,
            v.title,
            v.source,
            "、".join(v.unit_names),
            "、".join(v.owner_names),
            v.start.strftime("%m-%d") if v.start else "",
            v.due.strftime("%m-%d %H:%M") if v.due else "",
            STATUS_LABELS[v.status],
            left,
        )
    return table
