"""Entry point of the `cuiban` console script."""

from __future__ import annotations

import click

from cli.context import check_settings
from cli.errors import CuibanGroup
from cli.file_commands import roster, sync
from cli.notify_commands import digest, outbox, templates, tick
from cli.plan_commands import plan
from cli.record_commands import history, task, teacher
from cli.replay_commands import demo, simulate
from cli.report_commands import report
from cli.run_command import run


@click.group(cls=CuibanGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cuiban")
@click.option(
    "--debug",
    is_flag=True,
    help="On an error, print the traceback as well as the sentence (also CUIBAN_DEBUG=1).",
)
def cuiban(debug: bool) -> None:
    """催办 cuiban: track a data-collection campaign's deadlines, remind and escalate.

    Exit status: 0 done, 1 the environment stopped it (database down or locked, disk,
    permissions), 2 input or settings refused, 143/130 stopped by SIGTERM/SIGINT.
    """
    check_settings()


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
):
    cuiban.add_command(command)


if __name__ == "__main__":
    cuiban()
