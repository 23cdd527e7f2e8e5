"""Rows of cells from a spreadsheet or CSV file, streamed, with 1-based row numbers.

Workbooks keep the traps of the programs that wrote them, and each is closed here:
a workbook saved with the 1904 date system says so (`Table.epoch`, for the date
numbers a cell holds without a date format); a formula whose value was never
computed (a file written by a program that does not calculate) arrives as a
`FormulaWithoutValue` naming its cell, never as an empty cell; an .xls TRUE arrives
as True, not as the number 1, and an error cell as its text (#N/A).
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from cuiban.workflow.cells import EXCEL_EPOCH, EXCEL_EPOCH_1904, FormulaWithoutValue
from cuiban.workflow.wording import Words, words

Row = tuple[int, list[Any]]

SUFFIXES = (".xlsx", ".xls", ".csv")


class UnreadableFile(ValueError):
    """The file cannot be read as a table; `words` says why (one sentence a line), put into words in the
    plan's language where shown; str() is the English."""

    def __init__(self, *lines: Words) -> None:
        self.words = lines
        super().__init__("\n".join(str(line) for line in lines))

    def __reduce__(self) -> tuple:
        return UnreadableFile, self.words

    def renamed(self, path: str, name: str) -> UnreadableFile:
        """The same sentences naming the file `name` where they named (the staged) `path`."""
        return UnreadableFile(*(line.replaced(path, name) for line in self.words))


CHUNK = 1 << 16
"""Bytes read at a time while finding a file's encoding: each is decoded and thrown away, so what this
holds at once stays under a megabyte (1 MiB chunks held 5 MB, decoded), whatever the file's size."""


@dataclass
class Table:
    rows: Iterator[Row]
    epoch: date = EXCEL_EPOCH
    """Day 0 of the date numbers in this file: 1899-12-30, or 1904-01-01 for a workbook saved with
    Excel's 1904 date system (old Mac Excel). CSV numbers follow the usual 1900 system."""


def read_table(path: Path) -> Table:
    suffix = path.suffix.lower()
    if not path.exists():
        raise UnreadableFile(words("file.missing", file=str(path)))
    if suffix == ".csv":
        return Table(_csv_rows(path))
    if suffix == ".xlsx":
        return _xlsx_table(path)
    if suffix == ".xls":
        return _xls_table(path)
    kinds = ", ".join(SUFFIXES)
    if not suffix:
        raise UnreadableFile(words("file.no_suffix", file=str(path), suffixes=kinds))
    raise UnreadableFile(words("file.suffix", file=str(path), suffixes=kinds, suffix=suffix))


def read_rows(path: Path) -> Iterator[Row]:
    return read_table(path).rows


def encoding_of(path: Path) -> str:
    """UTF-8 (with or without BOM) when the whole file decodes cleanly, else GB18030 (a superset
    of GBK). Decoded in chunks and thrown away: a million-row file is not held in memory."""
    status = path.stat()
    return _encoding_of(path.resolve(), status.st_size, status.st_mtime_ns)


@cache
def _encoding_of(path: Path, _size: int, _mtime_ns: int) -> str:
    """Once per version of a file: the import reads it three times (its header here, then one
    pass in each checking process, which inherit this cache)."""
    failures: dict[str, int] = {}
    for encoding in ("utf-8-sig", "gb18030"):
        failure = _first_undecodable(path, encoding)
        if failure is None:
            return encoding
        failures[encoding] = failure
    # the encoding that read furthest is the one the file was meant to be in; name its bad byte
    encoding, offset = max(failures.items(), key=lambda item: item[1])
    row, byte = _row_and_byte(path, offset)
    meant = "UTF-8" if encoding == "utf-8-sig" else "GBK/GB18030"
    raise UnreadableFile(
        words("file.bad_byte", file=str(path), row=row, byte=f"{byte:02X}", offset=offset, meant=meant)
    )


def _first_undecodable(path: Path, encoding: str) -> int | None:
    """The byte offset of the first byte `encoding` cannot decode, or None when all of it decodes."""
    consumed = 0
    with path.open("rb") as handle:
        if encoding == "utf-8-sig":  # the BOM skipped here, so that offsets count from the file's start
            consumed = 3 if handle.read(3) == codecs.BOM_UTF8 else 0
            handle.seek(consumed)
            encoding = "utf-8"
        decoder = codecs.getincrementaldecoder(encoding)()
        while True:
            chunk = handle.read(CHUNK)
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as error:
                return consumed - pending + error.start
            if not chunk:
                return None
            consumed += len(chunk)


def _row_and_byte(path: Path, offset: int) -> tuple[int, int]:
    """The 1-based line holding byte `offset`, and that byte (newline is one byte in UTF-8 and GBK)."""
    lines = 1
    with path.open("rb") as handle:
        left = offset
        while left > 0:
            chunk = handle.read(min(CHUNK, left))
            if not chunk:
                break
            lines += chunk.count(b"\n")
            left -= len(chunk)
        byte = handle.read(1)
    return lines, byte[0] if byte else 0


def _csv_rows(path: Path) -> Iterator[Row]:
    with path.open(encoding=encoding_of(path), newline="") as handle:
        yield from enumerate(csv.reader(handle), 1)


def _xlsx_table(path: Path) -> Table:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise UnreadableFile(words("file.not_xlsx", file=str(path), detail=str(exc))) from None
    epoch = EXCEL_EPOCH_1904 if book.epoch.year == 1904 else EXCEL_EPOCH
    return Table(_xlsx_rows(book), epoch)


def _xlsx_rows(book: Any) -> Iterator[Row]:
    """The first sheet's rows as values (the computed ones: data_only), read by openpyxl's own sheet
    parser, taught to tell a formula with no computed value from an empty cell."""
    parser_class = _formula_aware_parser()
    try:
        sheet = book.worksheets[0]
        with sheet._get_source() as source:
            parser = parser_class(
                source,
                sheet._shared_strings,
                data_only=True,
                epoch=book.epoch,
                date_formats=book._date_formats,
                timedelta_formats=book._timedelta_formats,
            )
            parser.sheet_name = _quoted_sheet(sheet.title)
            expected = 1
            for number, cells in parser.parse():
                while expected < number:  # rows the file leaves out are empty rows
                    yield expected, []
                    expected += 1
                values: list[Any] = [None] * (cells[-1]["column"] if cells else 0)
                for cell in cells:
                    values[cell["column"] - 1] = cell["value"]
                yield number, values
                expected = number + 1
    finally:
        book.close()


@cache
def _formula_aware_parser() -> type:
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet._reader import FORMULA_TAG, VALUE_TAG, WorkSheetParser

    class FormulaAwareParser(WorkSheetParser):
        sheet_name = "Sheet1"

        def parse_cell(self, element: Any) -> dict[str, Any]:
            cell = super().parse_cell(element)
            if cell["value"] is None:  # only empty cells pay for the look at the formula
                formula = element.find(FORMULA_TAG)
                # a text formula may have computed ''; any other formula with no value was never computed
                if formula is not None and (element.get("t") != "str" or element.find(VALUE_TAG) is None):
                    where = f"{self.sheet_name}!{get_column_letter(cell['column'])}{cell['row']}"
                    cell["value"] = FormulaWithoutValue(where, formula.text or "")
            return cell

    return FormulaAwareParser


def _quoted_sheet(title: str) -> str:
    return title if title.replace("_", "").isalnum() else "'" + title.replace("'", "''") + "'"


def _xls_table(path: Path) -> Table:
    import xlrd

    try:
        book = xlrd.open_workbook(str(path))
    except Exception as exc:
        raise UnreadableFile(words("file.not_xls", file=str(path), detail=str(exc))) from None
    return Table(_xls_rows(book), EXCEL_EPOCH_1904 if book.datemode == 1 else EXCEL_EPOCH)


def _xls_rows(book: Any) -> Iterator[Row]:
    sheet = book.sheet_by_index(0)
    for index in range(sheet.nrows):
        yield index + 1, [_xls_value(cell, book.datemode) for cell in sheet.row(index)]


def _xls_value(cell: Any, datemode: int) -> Any:
    import xlrd

    if cell.ctype == xlrd.XL_CELL_DATE:
        return xlrd.xldate_as_datetime(cell.value, datemode)
    if cell.ctype == xlrd.XL_CELL_NUMBER:
        return int(cell.value) if cell.value == int(cell.value) else cell.value
    if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:  # xlrd gives 1 or 0, which would pass for a number
        return bool(cell.value)
    if cell.ctype == xlrd.XL_CELL_ERROR:  # an error code, not a number: its text, as Excel shows it
        return xlrd.error_text_from_code.get(cell.value, "#ERROR")
    return cell.value
