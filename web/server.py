"""Serving the application with uvicorn: behind a reverse proxy, or alone on 127.0.0.1 for --dev."""

from __future__ import annotations

import uvicorn

from cuiban.web.app import create_app
from cuiban.web.context import WebContext

LOCAL = ("127.0.0.1", "localhost", "::1")


class NotLocal(ValueError):
    """--dev on an address other people could reach."""


def check_dev_host(host: str) -> None:
    if host not in LOCAL:
        raise NotLocal(
            f"--dev serves on this machine only; --host {host} would let others in with a development "
            "key: use --host 127.0.0.1, or run without --dev (with CUIBAN_SECRET_KEY set)"
        )


def serve(context: WebContext, host: str, port: int, trusted_proxies: str) -> None:
    """Run until stopped. `trusted_proxies`: addresses whose X-Forwarded-For/-Proto are believed."""
    uvicorn.run(
        create_app(context),
        host=host,
        port=port,
        proxy_headers=True,
        forwarded_allow_ips=trusted_proxies,
        server_header=False,
        log_level="info",
        access_log=False,  # a link's token is in its URL: uvicorn's access log would keep it
    )
