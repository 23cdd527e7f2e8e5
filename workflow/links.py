"""Where the web pages are, for the links a message carries (CUIBAN_BASE_URL).

One small value handed from the composition root to the tick, so a reminder can say
"look at your department's page" without every layer passing a bare string: with no
base URL there are no links, and the messages read as they did before the web pages.
A link is only an address; following it without a session asks for sign-in first.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class Links:
    base_url: str | None = None
    """Where people reach `cuiban serve` (no trailing slash); None: messages carry no link."""

    def unit(self, unit_id: str) -> str | None:
        """A department's (or office's) page: its unfinished teachers and its tasks."""
        return self._to(f"/units/{quote(unit_id, safe='')}")

    def dashboard(self) -> str | None:
        """The coordinator's dashboard: the digest, live."""
        return self._to("/dashboard")

    def _to(self, path: str) -> str | None:
        return None if self.base_url is None else f"{self.base_url.rstrip('/')}{path}"


NO_LINKS = Links()
"""Messages without links: what a tick renders when CUIBAN_BASE_URL is not set."""
