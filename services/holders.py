"""Who holds a lease or a claim: `host:pid[:token]`, enough to tell on this host that the holder died.

A holder on another host is judged by its lease's expiry alone; one on this host whose
process is gone is dead at once, so a crashed `cuiban run` or sender does not block its
own restart for a whole lease.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import UTC, datetime


def holder_name(token: bool = True) -> str:
    base = f"{socket.gethostname()}:{os.getpid()}"
    return f"{base}:{uuid.uuid4().hex[:8]}" if token else base


def holder_is_dead(holder: str, host: str | None = None) -> bool:
    name, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if name != (host or socket.gethostname()) or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, someone else's
        return False
    return False


def host_now() -> datetime:
    """The host's real clock: leases and claims are about processes, not a campaign's `--now`."""
    return datetime.now(UTC)
