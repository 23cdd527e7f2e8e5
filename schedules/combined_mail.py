"""One mail per person per reminder time: everything a tick finds due for one person — their tasks'
reminders and the escalations of level 1 and 2 addressed to them — in one message, a section per
task in task order (`reminders.combine`, on unless the plan says false).

Escalations of level 3 and higher stay messages of their own: they go to leaders who must not miss
them among other tasks. A person with a single item due gets that item's own message, exactly as
with `combine: false` (same key, subject and body): a combined mail always has two or more items.

Keys: a combined message's own key is `combined|EMAIL|YYYY-MM-DD HH:MM` (the latest reminder time
it covers), and every item in it is recorded as an `outbox_part` under the key its own message
would have had (`reminder|task|email|slot`, `escalation|task|email|level-N`): those keys stay the
memory of what was sent, so a tick run again (the same minute or later that day) finds the items
known and queues nothing, and the catch-up rule reads the parts as reminders sent. A task finished
before a tick is not decided by it, so it is never in a later mail.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

import pendulum

from cuiban.notifications.render import Renderer
from cuiban.schedules.task_mail import Due, Message, render_or_fail, single

ALONE_FROM_LEVEL = 3
"""Escalations of this level and higher are never combined."""


def person_messages(dues: list[Due], renderer: Renderer, tz: str, known: set[str]) -> list[Message]:
    """The tick's mail to people: per person (in the order they first come up) one message, combined
    when more than one item is due for them; then each escalation of level 3 or higher alone.
    `known`: the keys already queued, so a second combined mail the same minute gets a key of its own."""
    return [message for make in person_makers(dues, renderer, tz, known) for message in make()]


def person_makers(
    dues: list[Due], renderer: Renderer, tz: str, known: set[str]
) -> list[Callable[[], list[Message]]]:
    """`person_messages` not rendered yet: a function per person (their one message), then one per
    task for its escalations of level 3 and higher, in that order. The tick renders and queues
    them a chunk at a time, a person's mail never split between two chunks."""
    people: dict[str, list[Due]] = {}
    alone: dict[str, list[Due]] = {}
    for due in dues:
        if due.kind == "escalation" and due.level >= ALONE_FROM_LEVEL:
            alone.setdefault(due.decided.task.key, []).append(due)
        else:
            people.setdefault(due.recipient.email, []).append(due)
    makers = [partial(_mail, mine, renderer, tz, known) for mine in people.values()]
    return makers + [partial(_singles, mine, renderer) for mine in alone.values()]


def _mail(dues: list[Due], renderer: Renderer, tz: str, known: set[str]) -> list[Message]:
    return [single(dues[0], renderer) if len(dues) == 1 else combined(dues, renderer, tz, known)]


def _singles(dues: list[Due], renderer: Renderer) -> list[Message]:
    return [single(due, renderer) for due in dues]


def combined(dues: list[Due], renderer: Renderer, tz: str, known: set[str]) -> Message:
    """One person's items in one message, with the parts that record each item under its own key."""
    recipient = dues[0].recipient
    latest = max(due.due_at for due in dues)
    slot = pendulum.instance(latest).in_timezone(tz).format("YYYY-MM-DD HH:mm")
    key = base = f"combined|{recipient.email}|{slot}"
    number = 1
    while key in known:  # another tick this minute combined other items for them
        number += 1
        key = f"{base}#{number}"
    context = combined_context(dues)
    rendered, failure = render_or_fail(renderer, "combined", context)
    message: Message = {
        "key": key,
        "kind": "combined",
        "recipient": recipient.email,
        "recipient_name": recipient.name,
        "slot": slot,
        "subject": rendered.subject,
        "body_text": rendered.text,
        "body_html": rendered.html,
        "due_at": min(due.due_at for due in dues),
        "parts": [_part(due) for due in dues],
    }
    files = _once_by_name(file for due in dues for file in due.attachments)
    if files:
        message["attachments"] = files
    if failure is not None:
        message.update(status="failed", last_error=f"template problem: {failure}")
    return message


def combined_context(dues: list[Due]) -> dict[str, Any]:
    """What combined.* templates get: the plan, whom it greets, and a section per task (in task
    order) with the fields of the task's own message (`task`, `counts`, `teachers`, `more`, `link`),
    `reminder` (whether the task's reminder is in it) and `level` (the escalation level told, 0 none)."""
    sections: dict[str, dict[str, Any]] = {}
    plan: dict[str, Any] = {}
    for due in dues:
        task_key = due.decided.task.key
        if task_key not in sections:
            context = due.notice().context
            plan = context["plan"]
            sections[task_key] = {
                **{k: v for k, v in context.items() if k not in ("plan", "recipient")},
                "reminder": False,
                "level": 0,
            }
        section = sections[task_key]
        if due.kind == "reminder":
            section["reminder"] = True
        else:
            section["level"] = max(section["level"], due.level)
    listed = list(sections.values())
    return {
        "plan": plan,
        "recipient": {"name": dues[0].recipient.name},
        "sections": listed,
        "overdue": sum(1 for s in listed if s["task"]["overdue"]),
        "earliest_due": min(s["task"]["due_date"] for s in listed),
    }


def _part(due: Due) -> dict[str, Any]:
    task_key = due.decided.task.key
    return {"key": due.key, "kind": due.kind, "task_key": task_key, "slot": due.slot, "due_at": due.due_at}


def _once_by_name(files: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each file once, by its name (two sections may carry the same form)."""
    seen: dict[str, dict[str, Any]] = {}
    for file in files:
        seen.setdefault(file["filename"], file)
    return list(seen.values())
