"""A task's reminder and escalations rendered into outbox messages, one per recipient.

Each message has a unique outbox key (kind, task, recipient, slot or level), so deciding
the same thing again queues nothing. A message whose template an admin broke is kept as
failed, in the built-in wording, and the rest of the tick goes on.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from cuiban.notifications.render import Rendered, Renderer, TemplateFailure
from cuiban.schedules.task_notice import TaskNotice
from cuiban.workflow.recipients import Recipient
from cuiban.workflow.tick_decisions import TaskTick

Message = dict[str, Any]
"""An outbox row to queue, as `models.outbox_store.queue` takes it."""


def message_key(kind: str, task_key: str, recipient: Recipient, slot: str) -> str:
    return f"{kind}|{task_key}|{recipient.email}|{slot}"


def task_messages(
    decided: TaskTick, notice: Callable[[], TaskNotice], renderer: Renderer, known: set[str]
) -> list[Message]:
    """The reminder's messages to those not already sent it (`known` outbox keys), then each
    escalation's; `notice` is called only when there is something to render."""
    messages: list[Message] = []
    key = decided.task.key
    reminder = decided.reminder
    if reminder is not None:
        slot = reminder.slot
        for r in reminder.to:
            if message_key("reminder", key, r, slot.name) not in known:
                context = {**notice().context, "recipient": {"name": r.name}}
                messages.append(_message("reminder", decided, r, slot.name, renderer, context, slot.at))
    for escalation in decided.escalations:
        level = escalation.level
        for r in escalation.to:
            context = {**notice().context, "recipient": {"name": r.name}, "level": level}
            messages.append(
                _message("escalation", decided, r, f"level-{level}", renderer, context, escalation.at)
            )
    return messages


def _message(
    kind: str,
    decided: TaskTick,
    recipient: Recipient,
    slot: str,
    renderer: Renderer,
    context: dict[str, Any],
    due_at: datetime,
) -> Message:
    failure = None
    try:
        rendered = renderer.render(kind, context)
    except TemplateFailure as error:  # this message fails, recorded; the rest of the tick goes on
        failure = error
        rendered = _what_it_would_say(renderer, kind, context, error)
    task = decided.task
    message = {
        "key": message_key(kind, task.key, recipient, slot),
        "kind": kind,
        "task_key": task.key,
        "unit_id": task.unit_id,
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
