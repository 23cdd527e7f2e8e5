"""Entry point of the `cuiban` console script."""

from __future__ import annotations

import click

from cli.file_commands import roster, sync
from cli.notify_commands import digest, outbox, templates, tick
from cli.plan_commands import plan
from cli.record_commands import history, task, teacher
from cli.replay_commands import demo, simulate
from cli.report_commands import report
from cli.run_command import run


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cuiban")
def cuiban() -> None:
    """催办 cuiban: track a data-collection campaign's deadlines, remind and escalate."""


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
