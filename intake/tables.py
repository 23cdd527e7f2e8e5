"""Rows of cells from a spreadsheet or CSV file, streamed, with 1-based row numbers."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

Row = tuple[int, list[Any]]

SUFFIXES = (".xlsx", ".xls", ".csv")


class UnreadableFile(ValueError):
    """The file cannot be read as a table; the message says why."""


CHUNK = 1 << 20
"""Bytes read at a time while finding a file's encoding."""


def read_rows(path: Path) -> Iterator[Row]:
    suffix = path.suffix.lower()
    if not path.exists():
        raise UnreadableFile(f"{path}: the file does not exist")
    if suffix == ".csv":
        return _csv_rows(path)
    if suffix == ".xlsx":
        return _xlsx_rows(path)
    if suffix == ".xls":
        return _xls_rows(path)
    raise UnreadableFile(f"{path}: expected one of {', '.join(SUFFIXES)}, not {suffix or 'no suffix'}")


def encoding_of(path: Path) -> str:
    """UTF-8 (with or without BOM) when the whole file decodes cleanly, else GB18030 (a superset
    of GBK). Decoded in chunks and thrown away: a million-row file is not held in memory."""
    status = path.stat()
    return _encoding_of(path.resolve(), status.st_size, status.st_mtime_ns)


@cache
def _encoding_of(path: Path, _size: int, _mtime_ns: int) -> str:
    """Once per version of a file: the import reads it three times (its header here, then one
    pass in each checking process, which inherit this cache)."""
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as handle:
                while chunk := handle.read(CHUNK):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise UnreadableFile(f"{path}: the text is neither UTF-8 nor GBK/GB18030")


def _csv_rows(path: Path) -> Iterator[Row]:
    with path.open(encoding=encoding_of(path), newline="") as handle:
        yield from enumerate(csv.reader(handle), 1)


def _xlsx_rows(path: Path) -> Iterator[Row]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise UnreadableFile(f"{path}: not a readable .xlsx workbook ({exc})") from None
    try:
        sheet = book.worksheets[0]
        for number, row in enumerate(sheet.iter_rows(values_only=True), 1):
            yield number, list(row)
    finally:
        book.close()


def _xls_rows(path: Path) -> Iterator[Row]:
    import xlrd

    try:
        book = xlrd.open_workbook(str(path))
    except Exception as exc:
        raise UnreadableFile(f"{path}: not a readable .xls workbook ({exc})") from None
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
    return cell.value
