"""Serving the application with uvicorn: behind a reverse proxy, or alone on 127.0.0.1 for --dev."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator

import uvicorn

from cuiban.web.app import create_app
from cuiban.web.context import WebContext


class _Server(uvicorn.Server):
    """uvicorn's server, stopped by SIGTERM or SIGINT like `cuiban run`: it finishes the requests
    in flight and returns (uvicorn's own handling raises the signal again once it has stopped, which
    a service manager would see as a crash)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        stops = (signal.SIGTERM, signal.SIGINT)
        previous = {stop: signal.signal(stop, self.handle_exit) for stop in stops}
        try:
            yield
        finally:
            for stop, handler in previous.items():
                signal.signal(stop, handler)


def serve(context: WebContext, host: str, port: int, trusted_proxies: str) -> None:
    """Run until stopped. `trusted_proxies`: addresses whose X-Forwarded-For/-Proto are believed."""
    config = uvicorn.Config(
        create_app(context),
        host=host,
        port=port,
        proxy_headers=True,
        forwarded_allow_ips=trusted_proxies,
        server_header=False,
        log_level="info",
        access_log=False,  # a link's token is in its URL: uvicorn's access log would keep it
    )
    _Server(config).run()
