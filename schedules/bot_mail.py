"""A unit's reminder for its group bots (企业微信, 钉钉): one outbox message per bot the unit lists.

They go through the outbox like mail (a unique key per bot, task and slot, so a tick run again
queues nothing; the same claims, retries and pauses), and `services.dispatch` posts each to its
bot instead of mailing it. One message per unit per task reminder, whether the unit's people get
one mail per task or a combined one: the group sees each task once.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from cuiban.notifications.bots import PLATFORM_NAMES, markdown, recipient
from cuiban.schedules.task_mail import Message
from cuiban.schedules.task_notice import TaskNotice
from cuiban.workflow.plan.schema import Plan
from cuiban.workflow.tick_decisions import TaskTick

KIND = "bot"


def bot_key(bot: str, task_key: str, slot: str) -> str:
    return f"{KIND}|{bot}|{task_key}|{slot}"


def bot_messages(
    decided: TaskTick, notice: Callable[[], TaskNotice], plan: Plan, known: set[str]
) -> list[Message]:
    """The reminder due for this task (if any) as one message per bot of its unit not already
    queued (`known` outbox keys); `notice` is called only when there is one to write."""
    reminder = decided.reminder
    task = decided.task
    unit = plan.units.get(task.unit_id)
    if reminder is None or unit is None or not unit.bots:
        return []
    names = PLATFORM_NAMES.get(plan.language, PLATFORM_NAMES["zh"])
    messages: list[Message] = []
    for platform in dict.fromkeys(unit.bots):
        bot = recipient(platform, task.unit_id)
        key = bot_key(bot, task.key, reminder.slot.name)
        if key in known:
            continue
        title, text = markdown(platform, notice().context, plan.language)
        messages.append(
            {
                "key": key,
                "kind": KIND,
                "task_key": task.key,
                "unit_id": task.unit_id,
                "recipient": bot,
                "recipient_name": f"{unit.name} {names[platform]}",
                "slot": reminder.slot.name,
                "subject": title,
                "body_text": text,
                "body_html": f"<pre>{escape(text)}</pre>",  # what `outbox show --html` shows
                "due_at": reminder.slot.at,
            }
        )
    return messages
