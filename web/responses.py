"""What the route modules share once they have guarded: reading an id from a URL or a form.

Why one place: every route that takes a record's id answers a hostile one the same way (no such
record: a 404 page or a flash), never with a 500 from the database driver, which cannot bind an
integer past 64 bits.
"""

from __future__ import annotations

LARGEST_ID = 2**63 - 1
"""The largest id a BIGINT column holds (SQLite's INTEGER too)."""


def record_id(text: str) -> int | None:
    """A record's id as sent in a URL or a form (ASCII digits, 1 ≤ id ≤ LARGEST_ID), or None: an id
    that no record can have (empty, signed, another script's digits, too large)."""
    if not text or len(text) > 19 or not (text.isascii() and text.isdecimal()):
        return None
    number = int(text)
    return number if 1 <= number <= LARGEST_ID else None
