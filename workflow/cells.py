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


def id_card(value: Any) -> str:
    """A resident ID number (GB 11643): 18 characters, upper-case X, valid check digit."""
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


def calendar_date(value: Any) -> date:
    """A date from an Excel date or serial number, or text like 2016/12/15, 2016.12.15, 2016-12-15."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not 1 <= value < 2958466:
            raise CellError("not a date Excel could store")
        return EXCEL_EPOCH + timedelta(days=int(value))
    text = clean(value)
    match = _DATE.match(text) or _COMPACT_DATE.match(text)
    if not match:
        raise CellError("not a date; write it like 2016-12-15")
    year, month, day = (int(g) if g else 1 for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        raise CellError("not a real calendar date") from None


def year_month(value: Any) -> str:
    """出生年月: the year and month of a date, as YYYY-MM."""
    day = calendar_date(value)
    return f"{day.year:04d}-{day.month:02d}"


def months(value: Any) -> int:
    """A contract length in months; open-ended contracts (无固定期限) count as 999."""
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
    text = re.sub(r"[\s-]", "", clean(value if not isinstance(value, float) else int(value)))
    if not re.fullmatch(r"\+?\d{7,15}", text):
        raise CellError("not a phone number")
    return text


def masked(field: str, value: str) -> str:
    """How a value may appear in messages: ID-card and phone numbers are masked."""
    if field in ("id_card", "phone") and len(value) > 4:
        return value[:2] + "*" * (len(value) - 4) + value[-2:]
    return value
