"""附表4 read back: the cells of the sheet `reports.xlsx.monthly` writes, from a workbook an institution sent.

Only reading happens here (values, not formulas: a cell Excel computed is read as its saved value);
what the cells mean and whether they add up is `workflow.province_upload`'s.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

SHEET = "附表4"
MAX_BYTES = 5 * 1024 * 1024
"""附表4 is one small sheet (with the chart, some 60 KB): a larger file is not one."""
MAX_ROWS, MAX_COLUMNS = 60, 12


class UnreadableForm(ValueError):
    """The file is not a workbook with a 附表4 sheet; `reason` says which, for the caller's sentence."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def monthly_cells(path: Path) -> list[list[tuple[str, object]]]:
    """The sheet 附表4's rows as (coordinate, value) pairs: the first rows and columns, where the form is."""
    if path.stat().st_size > MAX_BYTES:
        raise UnreadableForm("too_large")
    try:
        book = load_workbook(path, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise UnreadableForm("not_xlsx") from None
    if SHEET not in book.sheetnames:
        raise UnreadableForm("no_sheet")
    sheet = book[SHEET]
    rows = sheet.iter_rows(max_row=min(sheet.max_row, MAX_ROWS), max_col=min(sheet.max_column, MAX_COLUMNS))
    return [[(cell.coordinate, cell.value) for cell in row] for row in rows]
