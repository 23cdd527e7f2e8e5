"""ID-card and mobile numbers wherever they were typed: one rule for everything that hides them
(the log export, the retention purge), so that what one finds the other finds too."""

from __future__ import annotations

import re
from typing import Any

HIDDEN = "******"
"""What a hidden value becomes: that it was there, not what it was."""
NUMBERS = re.compile(r"(?<![0-9])(?:[0-9]{17}[0-9Xx]|1[3-9][0-9]{9})(?![0-9])")
"""An 18-character ID-card number or an 11-digit mobile number, wherever it was typed."""


def scrubbed(value: Any) -> Any:
    """`value` (text, a number, or lists and mappings of them) with every such number hidden."""
    if isinstance(value, str):
        return NUMBERS.sub(HIDDEN, value)
    if isinstance(value, list):
        return [scrubbed(v) for v in value]
    if isinstance(value, dict):
        return {k: scrubbed(v) for k, v in value.items()}
    if isinstance(value, int) and not isinstance(value, bool) and NUMBERS.fullmatch(str(value)):
        return HIDDEN
    return value
