"""Entry point of the `cuiban` console script."""

from __future__ import annotations

import click

from cuiban.cli.bootstrap import Application
from cuiban.cli.cycle_commands import cycle
from cuiban.cli.errors import HELP_ASKED, CuibanGroup
from cuiban.cli.file_commands import roster, sync
from cuiban.cli.log_commands import log, purge
from cuiban.cli.notify_commands import digest, outbox, templates, tick
from cuiban.cli.plan_commands import plan
from cuiban.cli.province_commands import province
from cuiban.cli.record_commands import history, task, teacher
from cuiban.cli.replay_commands import demo, simulate
from cuiban.cli.report_commands import report
from cuiban.cli.run_command import run
from cuiban.cli.serve_command import serve_command
from cuiban.cli.settings import from_process


@click.group(cls=CuibanGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cuiban")
@click.option(
    "--debug",
    is_flag=True,
    help="On an error, print the traceback as well as the sentence (also CUIBAN_DEBUG=1).",
)
@click.pass_context
def cuiban(ctx: click.Context, debug: bool) -> None:
    """催办 cuiban: track a data-collection campaign's deadlines, remind and escalate.

    Exit status: 0 done, 1 the environment stopped it (database down or locked, disk,
    permissions), 2 input or settings refused, 143/130 stopped by SIGTERM/SIGINT.
    """
    if not ctx.meta[HELP_ASKED]:
        ctx.obj = Application(from_process())  # every setting checked before the command does anything


for command in (
    plan,
    roster,
    sync,
    teacher,
    task,
    history,
    tick,
    outbox,
    digest,
    report,
    templates,
    simulate,
    demo,
    run,
    serve_command,
    cycle,
    log,
    purge,
    province,
):
    cuiban.add_command(command)


if __name__ == "__main__":
    cuiban()
