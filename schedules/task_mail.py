"""A task's reminder and escalations rendered into outbox messages, one per recipient.

Each message has a unique outbox key (kind, task, recipient, slot or level), so deciding
the same thing again queues nothing. A message whose template an admin broke is kept as
failed, in the built-in wording, and the rest of the tick goes on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Due:
    """One task's reminder or escalation due for one person in this tick, not yet rendered: a
    message of its own (`single`), or a section of the person's combined mail."""

    kind: str
    """`reminder` or `escalation`."""
    decided: TaskTick
    recipient: Recipient
    slot: str
    """The reminder's slot name, `level-N` for an escalation."""
    due_at: datetime
    notice: Callable[[], TaskNotice]
    level: int = 0

    @property
    def key(self) -> str:
        return message_key(self.kind, self.decided.task.key, self.recipient, self.slot)

    @property
    def context(self) -> dict[str, Any]:
        """What the task's own message's template gets."""
        context = {**self.notice().context, "recipient": {"name": self.recipient.name}}
        return context if self.kind == "reminder" else {**context, "level": self.level}

    @property
    def attachments(self) -> list[dict[str, Any]]:
        """The task's files (the filled 附表4), when its notice has any."""
        return list(getattr(self.notice(), "attachments", ()))


def task_dues(decided: TaskTick, notice: Callable[[], TaskNotice], known: set[str]) -> list[Due]:
    """The task's reminder to each of its people not already sent it, then each escalation to each
    of its people, as `known` keys (messages and parts of combined mails) say; nothing is rendered."""
    task_key = decided.task.key
    dues: list[Due] = []
    reminder = decided.reminder
    if reminder is not None:
        slot = reminder.slot
        for r in reminder.to:
            if message_key("reminder", task_key, r, slot.name) not in known:
                dues.append(Due("reminder", decided, r, slot.name, slot.at, notice))
    for escalation in decided.escalations:
        level = escalation.level
        for r in escalation.to:
            if message_key("escalation", task_key, r, f"level-{level}") not in known:
                dues.append(Due("escalation", decided, r, f"level-{level}", escalation.at, notice, level))
    return dues


def single(due: Due, renderer: Renderer) -> Message:
    """The task's reminder or escalation as a message of its own, as with `reminders.combine: false`."""
    message = _message(due.kind, due.decided, due.recipient, due.slot, renderer, due.context, due.due_at)
    files = due.attachments
    if files:
        message["attachments"] = files
    return message


def task_messages(
    decided: TaskTick, notice: Callable[[], TaskNotice], renderer: Renderer, known: set[str]
) -> list[Message]:
    """The reminder's messages to those not already sent it (`known` outbox keys), then each
    escalation's; `notice` is called only when there is something to render. One message per
    task and person: `reminders.combine: false`."""
    return [single(due, renderer) for due in task_dues(decided, notice, known)]


def _message(
    kind: str,
    decided: TaskTick,
    recipient: Recipient,
    slot: str,
    renderer: Renderer,
    context: dict[str, Any],
    due_at: datetime,
) -> Message:
    rendered, failure = render_or_fail(renderer, kind, context)
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


def render_or_fail(
    renderer: Renderer, kind: str, context: dict[str, Any]
) -> tuple[Rendered, TemplateFailure | None]:
    """The message rendered, or, when an admin's template fails, what the built-in one says and the
    failure (the message is then queued as failed, and the rest of the tick goes on)."""
    try:
        return renderer.render(kind, context), None
    except TemplateFailure as error:
        return _what_it_would_say(renderer, kind, context, error), error


def _what_it_would_say(
    renderer: Renderer, kind: str, context: dict[str, Any], failure: Exception
) -> Rendered:
    """The built-in wording of a message whose template failed: what `outbox show` and a retry use."""
    try:
        return renderer.builtin().render(kind, context)
    except TemplateFailure:
        return Rendered(kind, str(failure), str(failure))
