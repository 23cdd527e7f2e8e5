"""A long table a hundred rows at a time: pages count from 1, a page past either end shows the nearest."""

from cuiban.web.responses import paged


def test_pages() -> None:
    rows = list(range(250))
    assert (paged(rows, 1).rows[0], len(paged(rows, 1).rows), paged(rows, 1).pages) == (0, 100, 3)
    assert paged(rows, 3).rows == list(range(200, 250))
    assert paged(rows, 9).page == 3 and paged(rows, 0).page == 1
    assert paged([], 1).rows == [] and paged([], 1).pages == 1
