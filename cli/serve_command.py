"""`cuiban serve`: the web pages on the same database and plan as the commands."""

from __future__ import annotations

import click
import pendulum

from cuiban.cli.bootstrap import Application, pass_app
from cuiban.cli.options import db_option, plan_option
from cuiban.cli.run_command import _start
from cuiban.services.sign_in import dev_link


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port.")
@click.option("--dev", is_flag=True, help="This machine only: print a sign-in link for the coordinator.")
@click.option("--now", "start", metavar="ISO", callback=_start,
              help="Show the campaign from this moment on (the clock then moves on with the host's).")
@click.option("--trusted-proxies", default="127.0.0.1", show_default=True, metavar="IPS",
              help="Reverse proxies whose X-Forwarded-For and -Proto headers are believed.")
@plan_option
@db_option
@pass_app
def serve_command(app: Application, host: str, port: int, dev: bool, start: pendulum.DateTime | None,
                  trusted_proxies: str) -> None:
    """The web pages: dashboard, departments, uploads, sign-in by emailed link."""
    from cuiban.web.server import serve  # FastAPI and uvicorn: only when serving

    context = app.web_context(dev, start, host, port)
    if dev:
        link = dev_link(context.engine, context.plan, context.clock(), context.base_url)
        click.echo(f"sign in as the coordinator: {link}")
    serve(context, host, port, trusted_proxies)
    click.echo("stopped")
