"""`cuiban purge`: personal data of a closed campaign removed once the plan's retention period is over.

Why: PIPL's minimum-necessary and storage-limitation principles (Art. 6, Art. 19): ID-card and
phone numbers and teachers' emails were needed to run the campaign, not to keep its record.
Staff IDs, names, departments, states and the transition log stay, so the reports still print
and the audit trail keeps its shape. One transaction; a second purge finds nothing and says so.

The log is append-only by the database's own triggers (migration 0006). Values of these fields
that a roster re-import or a command-line correction wrote into a log row's `data`, and ID-card or
mobile numbers typed into a note, are masked in the same transaction under the one exception
migration 0010 makes (a permit row the purge alone writes and removes; only `data` and `note`
may change): the rows stay, with who, what and when, and show that a field changed, not its values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from cuiban.models import cycle_store, log_store, purge_store
from cuiban.models.log_store import Entry
from cuiban.models.unit_of_work import transaction
from cuiban.services.rejection import Refusal
from cuiban.workflow.clock import end_of_day, local_iso
from cuiban.workflow.plan.schema import Plan


@dataclass(frozen=True)
class Purged:
    cycle: int
    kept_until: datetime
    due: bool
    dry_run: bool
    filled: dict[str, int]
    """Teachers holding each field before the purge."""
    cleared: dict[str, int] = field(default_factory=dict)
    """Teachers whose field was emptied (nothing on a dry run, or when not due)."""
    log_rows: dict[str, int] = field(default_factory=dict)
    """Log rows holding old/new values of each field (and `other`: a number typed in a note or another
    field) before the purge."""
    holding: int = 0
    """Log rows holding any of them (a row may hold several) before the purge."""
    masked: int = 0
    """Log rows whose `data`/`note` were masked (nothing on a dry run, or when not due)."""
    previous: dict[str, Any] | None = None
    """The latest earlier purge's audit entry."""


def purge(
    engine: Engine, plan: Plan, now: datetime, *, dry_run: bool = False, actor: str | None = None
) -> Purged:
    """Empty teachers' ID-card, phone and email of the plan's campaign once `campaign.end` plus
    `retention.days_after_end` has passed, with an audit entry in the log. Refusal: no retention."""
    if plan.retention is None:
        raise Refusal(
            "the plan sets no retention period, so nothing is purged; add e.g. "
            "`retention: {days_after_end: 180}` to the plan (docs/data-retention.md)"
        )
    kept_until = end_of_day(plan.campaign.end, plan.timezone) + timedelta(days=plan.retention.days_after_end)
    due = now > kept_until
    with transaction(engine, dry_run=dry_run or not due) as connection:
        _refuse_newer_cycle(connection, plan)
        filled = purge_store.filled(connection)
        masks = purge_store.log_masks(connection)
        log_rows = purge_store.held(masks)
        previous = purge_store.last_purge(connection)
        if dry_run or not due or not (any(filled.values()) or masks):
            return Purged(plan.cycle, kept_until, due, dry_run, filled, {}, log_rows, len(masks), 0, previous)
        cleared = purge_store.clear(connection)
        masked = purge_store.mask_log(connection, masks, now, actor)
        audit = _audit(plan, now, actor, filled, cleared, kept_until, log_rows, masked)
        log_store.append(connection, [audit])
    return Purged(
        plan.cycle, kept_until, due, dry_run, filled, cleared, log_rows, len(masks), masked, previous
    )


class NewerCycle(Refusal):
    """A purge by an older cycle's plan while a newer cycle runs on the same teachers."""


def _refuse_newer_cycle(connection, plan: Plan) -> None:  # type: ignore[no-untyped-def]
    """Teachers persist across cycles: emptying their fields by the end of an older cycle would take
    from the current one what its roster brought. Until the purge is cycle-aware, it is refused."""
    newest = cycle_store.current(connection)
    if newest is not None and newest > plan.cycle:
        raise NewerCycle(
            f"cycle {newest} is the current one on this database and shares its teacher records; a "
            f"purge by the plan of cycle {plan.cycle} would empty what cycle {newest} uses: run it with "
            "the current cycle's plan once that cycle's retention is over; nothing was changed"
        )


def _audit(
    plan: Plan, now: datetime, actor: str | None, filled: dict[str, int], cleared: dict[str, int],
    kept_until: datetime, log_rows: dict[str, int], masked: int,
) -> Entry:
    """The purge's own log row: for each field, teachers holding it before and after ([old, new]), and
    the log rows holding such values before and after (`transition_log`), so the masking is on record."""
    assert plan.retention is not None
    counts = ", ".join(f"teacher.{name} {n}" for name, n in cleared.items())
    note = (
        f"retention: campaign.end {plan.campaign.end} + {plan.retention.days_after_end} days "
        f"(kept until {local_iso(kept_until, plan.timezone)}); emptied: {counts}; "
        f"transition_log rows masked: {masked}{_held(log_rows, ' ')}"
    )
    data: dict[str, Any] = {
        f"teacher.{name}": [filled[name], filled[name] - cleared[name]] for name in cleared
    }
    data["transition_log"] = [masked, 0]
    return Entry("purge", str(plan.cycle), None, "purged", "purge", "cli", now, actor, note, data)


def _held(log_rows: dict[str, int], sep: str = ": ") -> str:
    """ (phone: 1, email: 1): the fields the masked log rows held, those held at all."""
    held = [f"{name}{sep}{n}" for name, n in log_rows.items() if n]
    return f" ({', '.join(held)})" if held else ""


def lines(done: Purged, tz: str) -> list[str]:
    """What the purge did, or would do, for the person running it."""
    until = local_iso(done.kept_until, tz)
    counts = ", ".join(f"teacher.{name}: {n}" for name, n in done.filled.items())
    out = [f"cycle {done.cycle}: personal data kept until {until} (campaign.end + retention)"]
    if not done.due:
        out.append(f"not due yet: nothing purged; teachers holding each field now: {counts}")
    elif done.dry_run:
        out.append(f"dry run, nothing changed; would empty (teachers): {counts}")
    elif done.cleared:
        emptied = ", ".join(f"teacher.{name}: {n}" for name, n in done.cleared.items())
        out.append(f"emptied (teachers): {emptied}; an audit entry was written to the log")
    else:
        out.append("nothing left to purge; nothing changed" + _previous(done.previous, tz))
    if done.masked:
        out.append(
            f"masked in the transition log: {done.masked} rows{_held(done.log_rows)}: ID-card, phone "
            "and email values and numbers typed in notes replaced by ******; the rows stay"
        )
    elif done.holding:
        verb = "would mask" if done.due else "to mask once due"
        out.append(f"{verb} in the transition log: {done.holding} rows{_held(done.log_rows)}")
    return out


def _previous(entry: dict[str, Any] | None, tz: str) -> str:
    if entry is None:
        return ""
    return f" (purged at {local_iso(entry['at'], tz)} by {entry['actor'] or 'unknown'})"
