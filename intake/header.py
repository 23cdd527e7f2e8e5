"""Finding the header row by its names, also below a title row or merged cells.

A header row that names one of the plan's columns twice is refused (which of the two
would be read?), and a file whose header lacks a required column names that column
and the closest header it does have (a renamed 工号 → 职工号 is found at once).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass

from cuiban.intake.tables import Row, UnreadableFile
from cuiban.workflow.cells import clean
from cuiban.workflow.wording import Words, words

SEARCH_ROWS = 20


@dataclass(frozen=True)
class Header:
    row: int
    columns: dict[str, int]
    """Engine field → column index, for the mapped headers present in the file."""


def locate(
    rows: Iterator[Row], headers: dict[str, str], required: set[str], source: str
) -> tuple[Header, Iterator[Row]]:
    """The header row (the first that holds every required header) and the rows after it.

    Raises UnreadableFile naming every problem of the header: a mapped header given in two
    columns, or required headers missing (each with the closest header of the row that looked most
    like the header)."""
    wanted = {clean(text): name for name, text in headers.items()}
    best: tuple[int, list[str], dict[str, list[int]]] | None = None
    for looked, (number, cells) in enumerate(rows, 1):
        texts = [clean(x) for x in cells]
        found: dict[str, list[int]] = {}
        for i, text in enumerate(texts):
            if text in wanted:
                found.setdefault(wanted[text], []).append(i)
        if required <= set(found):
            twice = _named_twice(found, headers, number, source)
            if twice:
                raise UnreadableFile(*twice)
            return Header(number, {name: places[0] for name, places in found.items()}), rows
        if found and (best is None or len(required & set(found)) > len(required & set(best[2]))):
            best = (number, texts, found)
        if looked >= SEARCH_ROWS:
            break
    if best is None:
        names = "、".join(headers[name] for name in sorted(required))
        raise UnreadableFile(words("header.none", file=source, names=names, rows=SEARCH_ROWS))
    number, texts, found = best
    lines = [_missing(source, number, headers[name], texts, found) for name in sorted(required - set(found))]
    raise UnreadableFile(*lines, *_named_twice(found, headers, number, source))


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA: how a spreadsheet names a column."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _place(index: int) -> Words:
    return words("header.place", letter=column_letter(index), number=index + 1)


def _named_twice(found: dict[str, list[int]], headers: dict[str, str], row: int, source: str) -> list[Words]:
    return [
        words(
            "header.twice", file=source, row=row, header=headers[name], count=len(places),
            places=[_place(i) for i in places[:-1]], last=_place(places[-1]),
        )
        for name, places in found.items()
        if len(places) > 1
    ]


def _missing(source: str, row: int, header: str, texts: list[str], found: dict[str, list[int]]) -> Words:
    used = {i for places in found.values() for i in places}
    others = {text: i for i, text in enumerate(texts) if text and i not in used}
    close = difflib.get_close_matches(header, list(others), n=1, cutoff=0.3)
    if close:
        place = _place(others[close[0]])
        return words("header.missing_close", file=source, row=row, header=header, close=close[0], place=place)
    return words("header.missing", file=source, row=row, header=header)


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
