"""Finding the header row by its names, also below a title row or merged cells."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from intake.tables import Row, UnreadableFile
from workflow.cells import clean

SEARCH_ROWS = 20


@dataclass(frozen=True)
class Header:
    row: int
    columns: dict[str, int]
    """Engine field → column index, for the mapped headers present in the file."""


def locate(
    rows: Iterator[Row], headers: dict[str, str], required: set[str], source: str
) -> tuple[Header, Iterator[Row]]:
    """The header row (the first that holds every required header) and the rows after it."""
    wanted = {clean(text): name for name, text in headers.items()}
    looked: list[Row] = []
    for number, cells in rows:
        found = {wanted[c]: i for i, c in enumerate(clean(x) for x in cells) if c in wanted}
        if required <= set(found):
            return Header(number, found), rows
        looked.append((number, cells))
        if len(looked) >= SEARCH_ROWS:
            break
    missing = "、".join(headers[name] for name in sorted(required))
    raise UnreadableFile(
        f"{source}: no header row with the columns {missing} in the first {SEARCH_ROWS} rows"
    )


def data_rows(rows: Iterator[Row]) -> Iterator[Row]:
    """Rows after the header, skipping the empty ones (a non-blank first cell settles it at once)."""
    return (
        row
        for row in rows
        if (row[1] and type(first := row[1][0]) is str and first and not first.isspace())
        or _has_value(row[1])
    )


def _has_value(cells: list) -> bool:
    for cell in cells:
        if cell is None:
            continue
        if type(cell) is not str or (cell and not cell.isspace()):
            return True
    return False
