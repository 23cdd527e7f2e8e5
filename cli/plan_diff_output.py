"""`plan diff` as tables for people and as stable JSON for programs (see docs/plan-diff.md).

Messages are shown by change (新增 added, 改期 moved, 取消 cancelled) with local times, then the
tasks whose deadline or recipients change. People by name only: no addresses in the output.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click
import pendulum
from rich.table import Table

from cuiban.cli.console import console
from cuiban.workflow.clock import iso
from cuiban.workflow.plan.schema import Plan
from cuiban.workflow.plan_diff import PlanDiff, Planned, TaskChange
from cuiban.workflow.recipients import Recipient

CHANGES = {"added": "新增 added", "moved": "改期 moved", "cancelled": "取消 cancelled"}
TASK_CHANGES = {"added": "新任务 added", "removed": "取消 removed", "changed": "变更 changed"}
KINDS = {"reminder": "提醒 reminder", "escalation": "升级 escalation", "digest": "日报 digest"}


class Names:
    """Units' names and milestones' titles from the new plan, else the old (a removed one)."""

    def __init__(self, old: Plan, new: Plan) -> None:
        self.old, self.new = old, new

    def unit(self, unit_id: str) -> str:
        unit = self.new.units.get(unit_id) or self.old.units.get(unit_id)
        return unit.name if unit else unit_id

    def milestone(self, milestone_id: str) -> str:
        milestone = self.new.milestones.get(milestone_id) or self.old.milestones.get(milestone_id)
        return milestone.title if milestone else milestone_id


def _local(moment: datetime | None, plan: Plan) -> str | None:
    return iso(pendulum.instance(moment).in_timezone(plan.timezone)) if moment is not None else None


def _message(p: Planned, names: Names) -> dict[str, Any]:
    return {
        "kind": p.kind,
        "task": p.task_key or None,
        "milestone": p.milestone_id or None,
        "unit": p.unit_id or None,
        "unit_name": names.unit(p.unit_id) if p.unit_id else None,
        "recipient": p.recipient.person_id,
        "recipient_name": p.recipient.name,
        "slot": p.slot,
    }


def _people(told: dict[str, tuple[Recipient, ...]]) -> dict[str, list[dict[str, str]]]:
    return {slot: [{"id": r.person_id, "name": r.name} for r in people] for slot, people in told.items()}


def _task(change: TaskChange, names: Names, plan: Plan) -> dict[str, Any]:
    return {
        "task": change.task_key,
        "milestone": change.milestone_id,
        "unit": change.unit_id,
        "unit_name": names.unit(change.unit_id),
        "change": change.change,
        "old_due": _local(change.old_due, plan),
        "new_due": _local(change.new_due, plan),
        "old_recipients": _people(change.old_to),
        "new_recipients": _people(change.new_to),
    }


def plan_diff_json(old: Plan, new: Plan, diff: PlanDiff) -> dict[str, Any]:
    names = Names(old, new)
    return {
        "now": _local(diff.start, new),
        "until": _local(diff.until, new),
        "timezone": new.timezone,
        "counts": {
            "added": len(diff.added),
            "moved": len(diff.moved),
            "cancelled": len(diff.cancelled),
            "tasks": len(diff.tasks),
        },
        "added": [{**_message(p, names), "at": _local(p.at, new)} for p in diff.added],
        "moved": [
            {**_message(m.new, names), "old_at": _local(m.old.at, old), "new_at": _local(m.new.at, new)}
            for m in diff.moved
        ],
        "cancelled": [{**_message(p, names), "at": _local(p.at, old)} for p in diff.cancelled],
        "tasks": [_task(change, names, new) for change in diff.tasks],
    }


def _short(moment: datetime | None, plan: Plan) -> str:
    return pendulum.instance(moment).in_timezone(plan.timezone).strftime("%m-%d %H:%M") if moment else "—"


def messages_table(old: Plan, new: Plan, diff: PlanDiff) -> Table:
    names = Names(old, new)
    window = f"{_short(diff.start, new)} → {_short(diff.until, new)}"
    table = Table(title=f"{new.institution} {new.title} — 消息变化 {window}")
    for header in ("变化", "时间", "类型", "里程碑", "单位", "收件人", "时段"):
        table.add_column(header)

    def row(change: str, when: str, p: Planned) -> None:
        milestone = names.milestone(p.milestone_id) if p.milestone_id else ""
        unit = names.unit(p.unit_id) if p.unit_id else ""
        table.add_row(CHANGES[change], when, KINDS[p.kind], milestone, unit, p.recipient.name, p.slot)

    for p in diff.added:
        row("added", _short(p.at, new), p)
    for m in diff.moved:
        row("moved", f"{_short(m.old.at, old)} → {_short(m.new.at, new)}", m.new)
    for p in diff.cancelled:
        row("cancelled", _short(p.at, old), p)
    return table


def _told(told: dict[str, tuple[Recipient, ...]]) -> str:
    labels = {"reminder": "提醒"}
    return (
        "；".join(
            f"{labels.get(slot, slot.replace('level-', '升级'))} {'、'.join(r.name for r in people)}"
            for slot, people in told.items()
            if people
        )
        or "—"
    )


def tasks_table(old: Plan, new: Plan, diff: PlanDiff) -> Table:
    names = Names(old, new)
    table = Table(title="任务变化 (截止时间或收件人)")
    for header in ("变化", "里程碑", "单位", "截止 旧 → 新", "收件人 旧 → 新"):
        table.add_column(header)
    for c in diff.tasks:
        due = f"{_short(c.old_due, old)} → {_short(c.new_due, new)}"
        told = (
            _told(c.new_to)
            if _told(c.old_to) == _told(c.new_to)
            else f"{_told(c.old_to)} → {_told(c.new_to)}"
        )
        table.add_row(
            TASK_CHANGES[c.change], names.milestone(c.milestone_id), names.unit(c.unit_id), due, told
        )
    return table


def summary(diff: PlanDiff) -> str:
    return (
        f"新增 added {len(diff.added)}, 改期 moved {len(diff.moved)}, 取消 cancelled {len(diff.cancelled)} "
        f"message(s); {len(diff.tasks)} task(s) changed"
    )


def print_plan_diff(old: Plan, new: Plan, diff: PlanDiff) -> None:
    """Both tables (each only when it has rows), then the counts."""
    out = console()
    if diff.added or diff.moved or diff.cancelled:
        out.print(messages_table(old, new, diff))
    if diff.tasks:
        out.print(tasks_table(old, new, diff))
    click.echo(summary(diff))
