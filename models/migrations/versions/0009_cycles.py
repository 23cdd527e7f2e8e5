"""Campaign cycles: a `cycle` table, and a `cycle` column on tasks, outbox messages and status exports.

Tasks are unique per (cycle, milestone, unit, occurrence) and outbox keys per (cycle, key), so
next year's campaign opens its own tasks and sends its own messages. The migration cannot know
the plan, so existing rows keep `cycle` NULL and no cycle row is made: the first command that
opens the database with a plan adopts them into its cycle (services.cycles). transition_log is
not touched (a batch rebuild would lose its append-only triggers, see 0006).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

from cuiban.models.utc import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

UNNAMED = {"uq": "uq_%(table_name)s_%(column_0_N_name)s"}
"""SQLite reflects the old unique constraints without a name: this convention gives them one to drop."""


def _old_names() -> tuple[str, str]:
    """The names the old unique constraints have: PostgreSQL's own, or the convention's on SQLite."""
    if op.get_bind().dialect.name == "postgresql":
        return "task_milestone_id_unit_id_occurrence_key", "outbox_key_key"
    return "uq_task_milestone_id_unit_id_occurrence", "uq_outbox_key"


def upgrade() -> None:
    op.create_table(
        "cycle",
        sa.Column("cycle", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
    )
    task_unique, outbox_unique = _old_names()
    with op.batch_alter_table("task", naming_convention=UNNAMED) as batch:
        batch.add_column(sa.Column("cycle", sa.Integer(), nullable=True))
        batch.drop_constraint(task_unique, type_="unique")
        batch.create_unique_constraint(
            "uq_task_cycle_key", ["cycle", "milestone_id", "unit_id", "occurrence"]
        )
    with op.batch_alter_table("outbox", naming_convention=UNNAMED) as batch:
        batch.add_column(sa.Column("cycle", sa.Integer(), nullable=True))
        batch.drop_constraint(outbox_unique, type_="unique")
        batch.create_unique_constraint("uq_outbox_cycle_key", ["cycle", "key"])
    with op.batch_alter_table("sync_export") as batch:
        batch.add_column(sa.Column("cycle", sa.Integer(), nullable=True))


def downgrade() -> None:
    """Back to one cycle (refused by the old unique constraints if the database holds two)."""
    task_unique, outbox_unique = _old_names()
    with op.batch_alter_table("sync_export") as batch:
        batch.drop_column("cycle")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint("uq_outbox_cycle_key", type_="unique")
        batch.drop_column("cycle")
        batch.create_unique_constraint(outbox_unique, ["key"])
    with op.batch_alter_table("task") as batch:
        batch.drop_constraint("uq_task_cycle_key", type_="unique")
        batch.drop_column("cycle")
        batch.create_unique_constraint(task_unique, ["milestone_id", "unit_id", "occurrence"])
    op.drop_table("cycle")
