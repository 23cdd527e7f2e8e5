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
    """A cell whose value cannot be used; the message says why in plain words."""


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
    def reason(self) -> str:
        return (
            f"{self.cell} is a formula whose value was never computed and saved; open the file in "
            "Excel or WPS, let it calculate, save it and import it again"
        )


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
            raise CellError(
                "Excel stored this ID as a number, so leading zeros may be lost; "
                "format the column as text (文本) and enter the IDs again"
            )
    text = clean(value)
    if text.isdigit():
        return text
    if re.match(r"^\d(\.\d+)?[eE][+-]?\d+$", text):
        raise CellError("this ID was turned into scientific notation by Excel; digits are lost")
    return text


def _refuse_formula(value: Any) -> None:
    if type(value) is FormulaWithoutValue:
        raise CellError(value.reason)


def id_card(value: Any) -> str:
    """A resident ID number (GB 11643): 18 characters, upper-case X, valid check digit."""
    if type(value) is not str:
        _refuse_formula(value)
    if isinstance(value, int | float):
        raise CellError(
            "Excel stored this ID-card number as a number, which keeps only 15 digits; "
            "format the column as text (文本)"
        )
    text = clean(value).upper()
    if not _ID_CARD.match(text):
        raise CellError("an ID-card number has 17 digits and a check digit (0-9 or X)")
    expected = _ID_CHECK[sum(int(d) * w for d, w in zip(text, _ID_WEIGHTS, strict=False)) % 11]
    if text[17] != expected:
        raise CellError("the check digit does not match: a digit was mistyped")
    return text


def calendar_date(value: Any, epoch: date = EXCEL_EPOCH) -> date:
    """A date from an Excel date or serial number (counted from `epoch`: 1904 workbooks count from
    1904-01-01), or text like 2016/12/15, 2016.12.15, 2016-12-15; never before 1900."""
    if isinstance(value, datetime):
        return _believable(value.date())
    if isinstance(value, date):
        return _believable(value)
    if isinstance(value, bool):
        raise CellError(f"{str(value).upper()} is a yes/no value, not a date; enter the date itself")
    if isinstance(value, int | float):
        if not 0 <= value < 2958466:
            raise CellError("not a date Excel could store")
        if epoch == EXCEL_EPOCH and value < FIRST_RELIABLE_SERIAL:
            raise CellError(
                f"the number {value:g} is not a date anyone means (Excel counts 1 as 1900-01-01; "
                "was a number or TRUE typed here?); enter the date itself"
            )
        return epoch + timedelta(days=int(value))
    _refuse_formula(value)
    text = clean(value)
    match = _DATE.match(text) or _COMPACT_DATE.match(text)
    if not match:
        raise CellError("not a date; write it like 2016-12-15")
    year, month, day = (int(g) if g else 1 for g in match.groups())
    try:
        found = date(year, month, day)
    except ValueError:
        raise CellError("not a real calendar date") from None
    return _believable(found)


def _believable(day: date) -> date:
    if day < EARLIEST_DATE:
        raise CellError(f"{day.isoformat()} is before 1900, which cannot be right here; enter the real date")
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
            raise CellError("a contract length is a whole number of months")
        return int(value)
    text = clean(value)
    if text in OPEN_ENDED:
        return OPEN_ENDED_MONTHS
    if not text.isdigit():
        raise CellError("a contract length is a whole number of months, or 无固定期限")
    return int(text)


def yes_no(value: Any) -> str:
    text = clean(value).lower()
    if text in _YES:
        return "是"
    if text in _NO:
        return "否"
    raise CellError("write 是 or 否")


def gender(value: Any) -> str:
    text = clean(value)
    if text in ("男", "女"):
        return text
    raise CellError("write 男 or 女")


def email(value: Any) -> str:
    text = clean(value)
    if not _EMAIL.match(text):
        raise CellError("not an email address")
    return text


def phone(value: Any) -> str:
    if type(value) is not str:
        _refuse_formula(value)
    text = re.sub(r"[\s-]", "", clean(value if not isinstance(value, float) else int(value)))
    if not re.fullmatch(r"\+?\d{7,15}", text):
        raise CellError("not a phone number")
    return text


def masked(field: str, value: str) -> str:
    """How a value may appear in messages: ID-card and phone numbers are masked."""
    if field in ("id_card", "phone") and len(value) > 4:
        return value[:2] + "*" * (len(value) - 4) + value[-2:]
    return value
