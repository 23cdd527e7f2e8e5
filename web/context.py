"""What the web application works with, handed over once by the composition root (cli/serve_command.py).

The pages never build engines, renderers or transports themselves, and never read the
environment: `cuiban serve` builds this from its `Application` and typed `Settings`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from cuiban.notifications.render import Renderer
from cuiban.notifications.transports import Transport
from cuiban.services.tick_and_send import Delivery
from cuiban.workflow.calendar import WorkingCalendar
from cuiban.workflow.plan.schema import Plan

Clock = Callable[[], datetime]


@dataclass
class WebContext:
    plan: Plan
    calendar: WorkingCalendar
    engine: Engine
    renderer: Renderer
    transport: Transport
    delivery: Delivery
    secret_key: str
    base_url: str
    """Where the pages are reached, for links in mail (no trailing slash)."""
    evidence_dir: Path
    clock: Clock
    """Now, in the plan's timezone: the host's time, or a campaign moment that moves with it (--now)."""
    dev: bool = False
    plan_file: Path | None = None
    database_label: str = ""
    upload_dir: Path | None = None
    """Where uploads wait between preview and confirm (default: evidence_dir/uploads)."""
    send_in_background: bool = True
    """Send a sign-in link as soon as it is queued (a benchmark turns this off: it measures pages)."""
    extras: dict = field(default_factory=dict)

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def staging(self) -> Path:
        return self.upload_dir or self.evidence_dir / "uploads"


def moving_clock(start: datetime | None, tz: str) -> Clock:
    """The host's time, or `start` moving on with it (a demo replayed at a campaign moment)."""
    import pendulum

    if start is None:
        return lambda: pendulum.now(tz)
    began = time.monotonic()
    fixed = pendulum.instance(start).in_timezone(tz)
    return lambda: fixed + timedelta(seconds=time.monotonic() - began)


LOCAL = ("127.0.0.1", "localhost", "::1")


def dev_host_problem(host: str) -> str | None:
    """Why --dev may not listen on `host` (None: it may): its key is made up and it prints a link."""
    if host in LOCAL:
        return None
    return (
        f"--dev serves on this machine only; --host {host} would let others in with a development "
        "key: use --host 127.0.0.1, or run without --dev (with CUIBAN_SECRET_KEY set)"
    )
