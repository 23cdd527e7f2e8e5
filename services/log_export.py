"""`cuiban log export`: the whole transition log as CSV or JSON lines, streamed a page at a time.

Who (actor), what (record, event, from → to state), when (local time in the plan's timezone),
how (source), the note, and the old and new values of changed fields. Why streamed: at a
million teachers the log has millions of rows; pages of 10,000 by id keep memory constant.
Why masked: ID-card and phone numbers never leave cuiban in an export (a change of either
shows that the field changed, not the values), and any such number typed into a note or
another field is blanked too.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from cuiban.models import export_store
from cuiban.services.rejection import Refusal
from cuiban.workflow.clock import NaiveDatetimeError, end_of_day, require_aware, start_of_day
from cuiban.workflow.personal_numbers import HIDDEN, NUMBERS, scrubbed
from cuiban.workflow.plan.schema import Plan

FORMATS = ("csv", "jsonl")
HEADER = (
    "id", "at", "actor", "record_kind", "record_key", "unit", "event",
    "from_state", "to_state", "source", "note", "changes",
)
HIDDEN_FIELDS = frozenset({"id_card", "phone"})
BOM = "\ufeff"
"""Written first in a CSV so that Excel opens it as UTF-8."""


@dataclass(frozen=True)
class Window:
    start: datetime | None = None
    end: datetime | None = None
    unit: str | None = None


@dataclass(frozen=True)
class Exported:
    rows: int


def window(plan: Plan, start: str | None, end: str | None, unit: str | None) -> Window:
    """--from/--to (a date: the whole day in the plan's timezone; or a moment with its offset) and
    --unit checked; Refusal with one sentence otherwise."""
    if unit is not None and unit not in plan.units:
        raise Refusal(f"--unit {unit!r} is not a unit of the plan; units: {', '.join(plan.units)}")
    first = _moment(plan, start, "--from", at_end=False)
    last = _moment(plan, end, "--to", at_end=True)
    if first is not None and last is not None and last < first:
        raise Refusal(f"--to ({end}) is before --from ({start}); nothing to export")
    return Window(first, last, unit)


def _moment(plan: Plan, text: str | None, option: str, *, at_end: bool) -> datetime | None:
    if text is None:
        return None
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        try:
            moment = datetime.fromisoformat(text.strip())
        except ValueError:
            raise Refusal(
                f"{option} {text!r} is neither a date (2016-12-01) nor a moment with its offset "
                "(2016-12-10T10:00+08:00)"
            ) from None
        try:
            return require_aware(moment, option)
        except NaiveDatetimeError as error:
            raise Refusal(str(error)) from None
    return end_of_day(day, plan.timezone) if at_end else start_of_day(day, plan.timezone)


def export_log(
    engine: Engine, plan: Plan, out: TextIO, fmt: str, within: Window = Window(), page_size: int = 10_000
) -> Exported:
    """Write the log's rows in id order to `out` as they are read, `page_size` read at a time; how
    many were written."""
    if fmt not in FORMATS:
        raise Refusal(f"--format {fmt!r}: one of {', '.join(FORMATS)}")
    shape = _Shape(plan, within.unit)
    written = 0
    write = _csv_writer(out) if fmt == "csv" else _jsonl_writer(out)
    with engine.connect() as connection:
        for page in export_store.pages(
            connection, start=within.start, end=within.end, teacher_unit=within.unit, size=page_size
        ):
            for row in page:
                shaped = shape(row)
                if shaped is not None:
                    write(shaped)
                    written += 1
    out.flush()
    return Exported(written)


def _csv_writer(out: TextIO):  # type: ignore[no-untyped-def]
    out.write(BOM)
    writer = csv.writer(out)
    writer.writerow(HEADER)

    def write(row: dict[str, Any]) -> None:
        changes = row["changes"]
        writer.writerow(
            [*(row[k] for k in HEADER[:-1]), json.dumps(changes, ensure_ascii=False) if changes else ""]
        )

    return write


def _jsonl_writer(out: TextIO):  # type: ignore[no-untyped-def]
    def write(row: dict[str, Any]) -> None:
        out.write(json.dumps(row, ensure_ascii=False))
        out.write("\n")

    return write


class _Shape:
    """A store row as an export row: local time, the record's unit, values masked; None when
    --unit leaves it out."""

    def __init__(self, plan: Plan, unit: str | None) -> None:
        self.zone = ZoneInfo(plan.timezone)
        self.units = frozenset(plan.units)
        self.unit = unit
        self.shown: dict[datetime, str] = {}
        """Each moment as shown, made once: an import or a sync writes thousands of rows at one time."""

    def local(self, at: datetime) -> str:
        shown = self.shown.get(at)
        if shown is None:
            if len(self.shown) > 10_000:
                self.shown.clear()
            shown = self.shown[at] = at.astimezone(self.zone).isoformat(timespec="seconds")
        return shown

    def __call__(self, row: Sequence[Any]) -> dict[str, Any] | None:
        (id_, at, actor, kind, key, teacher_unit, event, source_state, dest, source, note, data) = row
        unit = teacher_unit if kind == "teacher" else self._unit_of_key(key) if kind == "task" else None
        if self.unit is not None and unit != self.unit:
            return None
        return {
            "id": id_,
            "at": self.local(at),
            "actor": actor,
            "record_kind": kind,
            "record_key": key,
            "unit": unit,
            "event": event,
            "from_state": source_state,
            "to_state": dest,
            "source": source,
            "note": NUMBERS.sub(HIDDEN, note) if note else note,
            "changes": _masked(data) if data else None,
        }

    def _unit_of_key(self, key: str) -> str | None:
        """A task's key is milestone/unit[/occurrence]: its first part that names a unit."""
        return next((part for part in key.split("/")[1:] if part in self.units), None)


def _masked(data: str) -> Any:
    """The log's field → [old, new], ID-card and phone values hidden (that they changed is kept),
    and any such number elsewhere blanked."""
    changes = scrubbed(json.loads(data))
    if not isinstance(changes, dict):
        return changes
    for field in HIDDEN_FIELDS & changes.keys():
        pair = changes[field]
        changes[field] = [HIDDEN if v else v for v in pair] if isinstance(pair, list) else HIDDEN
    return changes

