"""What a cell of HR's roster or a status export means: text normalised, identifiers checked.

Cells arrive as text (CSV), numbers or dates (Excel). Every value is normalised as
text first — NFKC turns full-width digits and spaces into plain ones — and Excel's
numbers are refused where they are a sign of damage (a staff ID or an ID-card number
that lost its leading zeros or its last digits).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta
from typing import Any

from cuiban.workflow.wording import Words, words

EXCEL_EPOCH = date(1899, 12, 30)
"""Day 0 of Excel's date numbers (the 1900 date system; 1900-03-01 is 61)."""
EXCEL_EPOCH_1904 = date(1904, 1, 1)
"""Day 0 in a workbook saved with the 1904 date system (old Mac Excel): the same date, a number 1462 less."""
FIRST_RELIABLE_SERIAL = 61
"""Excel counts a 1900-02-29 that never was: its numbers below 61 are not dates anyone means."""
EARLIEST_DATE = date(1900, 1, 1)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_CARD = re.compile(r"^\d{17}[\dX]$")
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})(?:[-/.月](\d{1,2})日?)?月?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_YES = frozenset({"是", "y", "yes", "true", "1", "在职"})
_NO = frozenset({"否", "n", "no", "false", "0", ""})
OPEN_ENDED = frozenset({"无固定期限", "长期", "永久"})
OPEN_ENDED_MONTHS = 999
"""Contract length recorded for open-ended contracts (无固定期限): longer than any rule asks."""


class CellError(ValueError):
    """A cell whose value cannot be used; `words` says why (put into words in the plan's language
    where it is shown; str() is the English)."""

    def __init__(self, message: str, /, **fields: Any) -> None:
        self.words = words(message, **fields)
        super().__init__(str(self.words))

    def __reduce__(self) -> tuple:
        return _cell_error, (self.words,)


def _cell_error(said: Words) -> CellError:
    return CellError(said.id, **dict(said.fields))


class FormulaWithoutValue:
    """A workbook cell holding a formula whose value was never computed (the file was written by a
    program that does not calculate). Read as text it is its formula; every use of it is refused."""

    __slots__ = ("cell", "formula")

    def __init__(self, cell: str, formula: str) -> None:
        self.cell = cell
        self.formula = formula

    def __str__(self) -> str:
        return f"={self.formula}"

    def __repr__(self) -> str:
        return f"FormulaWithoutValue({self.cell!r}, {self.formula!r})"

    @property
    def reason(self) -> Words:
        return words("cell.formula", cell=self.cell)


def clean(value: Any) -> str:
    """Text of a cell: NFKC-normalised, every run of white space (line breaks too) one space,
    trimmed; '' for an empty cell."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if text.isascii():
        if text.isalnum():  # IDs and numbers, most cells of a roster: nothing to change
            return text
    else:
        text = unicodedata.normalize("NFKC", text)
    if " " not in text and text.isprintable():  # no white space of any kind: nothing to collapse
        return text
    return " ".join(text.split())


def identifier(value: Any) -> str:
    """A staff ID: kept as text exactly, refused if Excel stored it as a number."""
    if type(value) is not str:
        _refuse_formula(value)
        if isinstance(value, int | float):  # bool is an int too
            raise CellError("cell.id_as_number")
    text = clean(value)
    if text.isdigit():
        return text
    if re.match(r"^\d(\.\d+)?[eE][+-]?\d+$", text):
        raise CellError("cell.id_scientific")
    return text


def _refuse_formula(value: Any) -> None:
    if type(value) is FormulaWithoutValue:
        raise CellError("cell.formula", cell=value.cell)


def id_card(value: Any) -> str:
    """A resident ID number (GB 11643): 18 characters, upper-case X, valid check digit."""
    if type(value) is not str:
        _refuse_formula(value)
    if isinstance(value, int | float):
        raise CellError("cell.id_card_as_number")
    text = clean(value).upper()
    if not _ID_CARD.match(text):
        raise CellError("cell.id_card_shape")
    expected = _ID_CHECK[sum(int(d) * w for d, w in zip(text, _ID_WEIGHTS, strict=False)) % 11]
    if text[17] != expected:
        raise CellError("cell.id_card_check")
    return text


def calendar_date(value: Any, epoch: date = EXCEL_EPOCH) -> date:
    """A date from an Excel date or serial number (counted from `epoch`: 1904 workbooks count from
    1904-01-01), or text like 2016/12/15, 2016.12.15, 2016-12-15; never before 1900."""
    if isinstance(value, datetime):
        return _believable(value.date())
    if isinstance(value, date):
        return _believable(value)
    if isinstance(value, bool):
        raise CellError("cell.date_yes_no", value=str(value).upper())
    if isinstance(value, int | float):
        if not 0 <= value < 2958466:
            raise CellError("cell.date_out_of_range")
        if epoch == EXCEL_EPOCH and value < FIRST_RELIABLE_SERIAL:
            raise CellError("cell.date_small_number", number=f"{value:g}")
        return epoch + timedelta(days=int(value))
    _refuse_formula(value)
    text = clean(value)
    match = _DATE.match(text) or _COMPACT_DATE.match(text)
    if not match:
        raise CellError("cell.not_date")
    year, month, day = (int(g) if g else 1 for g in match.groups())
    try:
        found = date(year, month, day)
    except ValueError:
        raise CellError("cell.not_real_date") from None
    return _believable(found)


def _believable(day: date) -> date:
    if day < EARLIEST_DATE:
        raise CellError("cell.before_1900", day=day.isoformat())
    return day


def year_month(value: Any, epoch: date = EXCEL_EPOCH) -> str:
    """出生年月: the year and month of a date, as YYYY-MM."""
    day = calendar_date(value, epoch)
    return f"{day.year:04d}-{day.month:02d}"


def months(value: Any) -> int:
    """A contract length in months; open-ended contracts (无固定期限) count as 999."""
    _refuse_formula(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value != int(value) or value < 0:
            raise CellError("cell.months_whole")
        return int(value)
    text = clean(value)
    if text in OPEN_ENDED:
        return OPEN_ENDED_MONTHS
    if not text.isdigit():
        raise CellError("cell.months_or_open")
    return int(text)


def yes_no(value: Any) -> str:
    text = clean(value).lower()
    if text in _YES:
        return "是"
    if text in _NO:
        return "否"
    raise CellError("cell.yes_no")


def gender(value: Any) -> str:
    text = clean(value)
    if text in ("男", "女"):
        return text
    raise CellError("cell.gender")


def email(value: Any) -> str:
    text = clean(value)
    if not _EMAIL.match(text):
        raise CellError("cell.email")
    return text


def phone(value: Any) -> str:
    if type(value) is not str:
        _refuse_formula(value)
    text = re.sub(r"[\s-]", "", clean(value if not isinstance(value, float) else int(value)))
    if not re.fullmatch(r"\+?\d{7,15}", text):
        raise CellError("cell.phone")
    return text


def masked(field: str, value: str) -> str:
    """How a value may appear in messages: ID-card and phone numbers are masked."""
    if field in ("id_card", "phone") and len(value) > 4:
        return value[:2] + "*" * (len(value) - 4) + value[-2:]
    return value
