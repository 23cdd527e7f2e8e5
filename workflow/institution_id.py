"""What an institution ID may look like: it names the institution's schema, so a safe identifier."""

from __future__ import annotations

import re

INSTITUTION_ID = re.compile(r"[a-z][a-z0-9_]{0,39}\Z")


class TenancyError(ValueError):
    """An institution where there can be none (SQLite), or a malformed institution ID."""


def check_id(institution: str) -> str:
    if not INSTITUTION_ID.match(institution):
        raise TenancyError(
            f"institution {institution!r} is not an institution ID: lower-case letters, digits and _, "
            "starting with a letter, at most 40 characters (e.g. hebtu)"
        )
    return institution
