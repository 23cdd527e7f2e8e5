"""What a plan edit will do to the mail: the messages the tick would queue over the coming days under
the old plan and under the new one, compared.

The forecast runs the tick's own decisions (`tick_decisions.decide` on a `Timetable`) at every
moment something can fall due (reminder slots, escalation moments, the digest's time), carrying
what a tick carries from one run to the next: the tasks' states and escalation levels, the
reminders sent, the latest moment seen and the messages queued. So the diff cannot drift from
what the tick does: the rules are the tick's, only the clock is advanced here. Nobody finishes
anything during the forecast (no progress is assumed); tasks already finished send nothing.

A message is the same message in both plans when its kind, task (milestone, unit, occurrence),
person and slot (`before-1`, `overdue-2016-12-16`, `level-2`, the digest's day) are the same:
at another time it moved; only in the new plan it is added; only in the old, cancelled.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

import pendulum

from cuiban.workflow.calendar import WorkingCalendar
from cuiban.workflow.completion import Counts, derived_changes
from cuiban.workflow.plan.schema import Plan
from cuiban.workflow.recipients import Recipient, resolve
from cuiban.workflow.reminders import Reminded, at_local, escalation_moments, reminder_slots
from cuiban.workflow.task_machine import FINISHED
from cuiban.workflow.tasks import TaskState, opens_at, task_specs
from cuiban.workflow.tick_decisions import TaskTick, Timetable, decide

DigestDue = Callable[[Plan, datetime], datetime | None]
"""When today's digest is due at a moment, if it is (the tick's rule, handed in by the caller)."""
Sent = Callable[[str, str, str, str], bool]
"""Whether the outbox already holds a message (kind, task key, email, slot): queued before now."""


@dataclass(frozen=True)
class Planned:
    """One message the tick would queue: to whom, about which task, for which slot, and when."""

    kind: str
    """reminder, escalation or digest."""
    task_key: str
    milestone_id: str
    unit_id: str
    recipient: Recipient
    slot: str
    at: pendulum.DateTime

    @property
    def identity(self) -> tuple[str, str, str, str]:
        return (self.kind, self.task_key, self.recipient.person_id, self.slot)


@dataclass
class Situation:
    """What a tick finds when it runs: the tasks, the reminders sent per task, the latest moment a
    tick decided at, and the messages queued (by outbox identity: kind, task key, email, slot)."""

    tasks: dict[str, TaskState]
    reminded: dict[str, Reminded] = field(default_factory=dict)
    seen_until: datetime | None = None
    queued: set[tuple[str, str, str, str]] = field(default_factory=set)
    sent: Sent = lambda kind, task, email, slot: False  # noqa: E731 - nothing in an outbox

    def known(self, kind: str, task: str, email: str, slot: str) -> bool:
        return (kind, task, email, slot) in self.queued or self.sent(kind, task, email, slot)


def fresh(plan: Plan, calendar: WorkingCalendar) -> Situation:
    """A campaign with no database: every task of the plan exists, none done, nothing sent."""
    return Situation(
        {
            s.key: _new_task(s.milestone_id, s.unit_id, s.occurrence, s.due)
            for s in task_specs(plan, calendar, {})
        }
    )


def _new_task(milestone_id: str, unit_id: str, occurrence: str, due: datetime | None) -> TaskState:
    return TaskState(0, milestone_id, unit_id, occurrence, "upcoming", 0, due)


def under(
    plan: Plan,
    calendar: WorkingCalendar,
    found: Situation,
    now: datetime,
    completed: Mapping[str, date] | None = None,
    counts: Counts | None = None,
) -> Situation:
    """`found` as the next tick under `plan` sees it: the plan's tasks (kept where they exist, with
    the plan's due times; new ones upcoming), derived completion applied when `counts` are known."""
    tasks: dict[str, TaskState] = {}
    for spec in task_specs(plan, calendar, completed or {}):
        had = found.tasks.get(spec.key)
        if had is None:
            tasks[spec.key] = _new_task(spec.milestone_id, spec.unit_id, spec.occurrence, spec.due)
        else:
            tasks[spec.key] = replace(had, due=spec.due)
    if counts is not None:
        for change in derived_changes(plan, tasks.values(), counts):
            done = change.apply(now)
            tasks[change.task.key] = replace(change.task, state=done.state)
    return replace(found, tasks=tasks, reminded=dict(found.reminded), queued=set(found.queued))


def forecast(
    plan: Plan,
    calendar: WorkingCalendar,
    situation: Situation,
    start: datetime,
    until: datetime,
    digest_due: DigestDue,
) -> list[Planned]:
    """The messages the tick would queue from `start` to `until` (inclusive), in time order;
    `situation` is advanced to `until` as the ticks would leave it."""
    planned: list[Planned] = []
    for moment, tasks_due in moments(plan, calendar, situation.tasks.values(), start, until).items():
        planned += tick(plan, calendar, situation, moment, digest_due, tasks_due)
    return planned


def moments(
    plan: Plan, calendar: WorkingCalendar, tasks: Iterable[TaskState], start: datetime, until: datetime
) -> dict[pendulum.DateTime, bool]:
    """Every moment from `start` to `until` at which a tick can decide something new, in time order,
    and whether a task's can come then: `start` itself (the next tick), each reminder slot and
    escalation moment (True); each day's digest time (False unless it is one of those). Between
    them a tick finds nothing new: every slot and level is decided at its own moment."""
    tz = plan.timezone
    last = pendulum.instance(until).in_timezone(tz).date()
    for_tasks = {pendulum.instance(start)}
    for task in tasks:
        if task.due is None or task.milestone_id not in plan.milestones:
            continue
        policy = plan.reminder_policy(task.milestone_id)
        due_day = pendulum.instance(task.due).in_timezone(tz).date()
        opens = opens_at(plan, task.milestone_id, task.occurrence)
        for_tasks.update(s.at for s in reminder_slots(policy, due_day, opens, calendar, tz, last))
        ladder = plan.escalation_ladder(task.milestone_id)
        for_tasks.update(escalation_moments(ladder, due_day, policy, calendar, tz))
    found = dict.fromkeys(for_tasks, True)
    day = pendulum.instance(start).in_timezone(tz).date()
    while day <= last:
        found.setdefault(at_local(day, plan.digest.at, tz), False)
        day += timedelta(days=1)
    return {m: found[m] for m in sorted(found) if start <= m <= until}


def tick(
    plan: Plan,
    calendar: WorkingCalendar,
    situation: Situation,
    now: datetime,
    digest_due: DigestDue,
    tasks_due: bool = True,
) -> list[Planned]:
    """What one tick at `now` queues, `situation` updated as the tick leaves the database; with
    `tasks_due` False only the digest is looked at (no task's slot or level can come then)."""
    timetable = Timetable(plan, calendar, now, situation.seen_until)
    situation.seen_until = max(situation.seen_until or now, now)
    planned: list[Planned] = []
    for key, task in situation.tasks.items() if tasks_due else ():
        if task.milestone_id not in plan.milestones or task.state in FINISHED:
            continue
        decided = decide(task, timetable, situation.reminded.get(key))
        planned += _task_messages(decided, situation, pendulum.instance(now))
        if decided.events:
            machine = task.machine()
            for event in decided.events:
                machine.fire(event, now)
            situation.tasks[key] = replace(
                task, state=machine.state, escalation_level=machine.escalation_level
            )
    return planned + _digests(plan, situation, now, digest_due)


def _task_messages(decided: TaskTick, situation: Situation, now: pendulum.DateTime) -> list[Planned]:
    """The reminder to those not already sent it, then each escalation level's people."""
    task, planned = decided.task, []
    wanted: list[tuple[str, str, tuple[Recipient, ...]]] = []
    if decided.reminder is not None:
        wanted.append(("reminder", decided.reminder.slot.name, decided.reminder.to))
    wanted += [("escalation", f"level-{e.level}", e.to) for e in decided.escalations]
    for kind, slot, people in wanted:
        for r in people:
            if not situation.known(kind, task.key, r.email, slot):
                situation.queued.add((kind, task.key, r.email, slot))
                planned.append(Planned(kind, task.key, task.milestone_id, task.unit_id, r, slot, now))
    if decided.reminder is not None and any(p.kind == "reminder" for p in planned):
        before = situation.reminded.get(task.key)
        slot_at = decided.reminder.slot.at
        last = slot_at if before is None else max(before.last_slot_at, slot_at)
        situation.reminded[task.key] = Reminded(last, now)
    return planned


def _digests(plan: Plan, situation: Situation, now: datetime, digest_due: DigestDue) -> list[Planned]:
    """Today's digest for each of its people, unless already queued (the tick checks the first)."""
    due_at = digest_due(plan, now)
    if due_at is None:
        return []
    day = pendulum.instance(due_at).in_timezone(plan.timezone).date().isoformat()
    people = resolve(plan, [*plan.digest.to, *plan.digest.cc], None)
    if not people or situation.known("digest", "", people[0].email, day):
        return []
    for r in people:
        situation.queued.add(("digest", "", r.email, day))
    return [Planned("digest", "", "", "", r, day, pendulum.instance(now)) for r in people]


def before(plan: Plan, calendar: WorkingCalendar, now: datetime, digest_due: DigestDue) -> Situation:
    """Without a database: the campaign as if the old plan had run from its start up to `now`, every
    task open and every message sent when due, so the diff starts from what was already sent."""
    situation = fresh(plan, calendar)
    start = at_local(plan.campaign.start, pendulum.Time(0, 0), plan.timezone)
    if start < now:
        forecast(
            plan, calendar, situation, start, pendulum.instance(now).subtract(microseconds=1), digest_due
        )
    return situation


@dataclass(frozen=True)
class Moved:
    old: Planned
    new: Planned


@dataclass(frozen=True)
class TaskChange:
    """An unfinished task that a plan edit adds, removes, or gives another deadline or recipients;
    recipients by slot kind: `reminder`, `level-1`, `level-2` …"""

    task_key: str
    milestone_id: str
    unit_id: str
    change: str
    """added, removed or changed."""
    old_due: datetime | None
    new_due: datetime | None
    old_to: dict[str, tuple[Recipient, ...]]
    new_to: dict[str, tuple[Recipient, ...]]


@dataclass(frozen=True)
class PlanDiff:
    start: datetime
    until: datetime
    added: list[Planned]
    moved: list[Moved]
    cancelled: list[Planned]
    tasks: list[TaskChange]

    @property
    def empty(self) -> bool:
        return not (self.added or self.moved or self.cancelled or self.tasks)


@dataclass(frozen=True)
class Side:
    """One plan with its calendar and the situation the next tick under it finds."""

    plan: Plan
    calendar: WorkingCalendar
    situation: Situation


def plan_diff(old: Side, new: Side, now: datetime, until: datetime, digest_due: DigestDue) -> PlanDiff:
    """The messages from `now` to `until` added, moved and cancelled by going from `old` to `new`,
    and the unfinished tasks whose deadline or recipients change (`old`, `new` are advanced)."""
    tasks = task_changes(old, new, now)
    was = forecast(old.plan, old.calendar, old.situation, now, until, digest_due)
    will = forecast(new.plan, new.calendar, new.situation, now, until, digest_due)
    return PlanDiff(now, until, *compare(was, will), tasks)


def compare(was: list[Planned], will: list[Planned]) -> tuple[list[Planned], list[Moved], list[Planned]]:
    """Added, moved and cancelled messages, each in time order."""
    old = {p.identity: p for p in was}
    new = {p.identity: p for p in will}
    added = [p for i, p in new.items() if i not in old]
    moved = [Moved(old[i], p) for i, p in new.items() if i in old and old[i].at != p.at]
    cancelled = [p for i, p in old.items() if i not in new]
    return added, sorted(moved, key=lambda m: (m.new.at, m.old.at)), cancelled


def task_changes(old: Side, new: Side, now: datetime) -> list[TaskChange]:
    """Unfinished tasks added, removed, or with another due time or other people told, in the new
    plan's order (removed ones last, in the old plan's order)."""
    was, will = _open_tasks(old), _open_tasks(new)
    changes = []
    for key, task in [*will.items(), *((k, t) for k, t in was.items() if k not in will)]:
        had = was.get(key)
        kept = will.get(key)
        old_to = _recipients(old, had, now) if had else {}
        new_to = _recipients(new, kept, now) if kept else {}
        change = "added" if had is None else "removed" if kept is None else "changed"
        old_due, new_due = (had.due if had else None), (kept.due if kept else None)
        if change == "changed" and old_due == new_due and _ids(old_to) == _ids(new_to):
            continue
        changes.append(
            TaskChange(key, task.milestone_id, task.unit_id, change, old_due, new_due, old_to, new_to)
        )
    return changes


def _open_tasks(side: Side) -> dict[str, TaskState]:
    return {
        k: t
        for k, t in side.situation.tasks.items()
        if t.milestone_id in side.plan.milestones and t.state not in FINISHED
    }


def _recipients(side: Side, task: TaskState, now: datetime) -> dict[str, tuple[Recipient, ...]]:
    """Who the task's reminders and each escalation level go to, as the tick resolves them."""
    timetable = Timetable(side.plan, side.calendar, now)
    ladder = side.plan.escalation_ladder(task.milestone_id)
    told = {"reminder": timetable.people(side.plan.milestones[task.milestone_id].owners, task)}
    told.update({f"level-{i}": timetable.people(step.to, task) for i, step in enumerate(ladder, 1)})
    return told


def _ids(told: dict[str, tuple[Recipient, ...]]) -> dict[str, list[str]]:
    return {slot: [r.person_id for r in people] for slot, people in told.items()}
