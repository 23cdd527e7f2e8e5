"""Combined mails (one mail per person per day): an `outbox_part` row per task reminder or escalation
a combined message carries, under the key the message of its own would have had, so the keys stay
the memory of what was sent (`outbox_store.keys_since`, `existing_keys`, `reminded` read them too).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

from cuiban.models.utc import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_part",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("cycle", sa.Integer(), nullable=True),
        sa.Column("key", sa.String(400), nullable=False),
        sa.Column("outbox_key", sa.String(400), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("task_key", sa.String(200), nullable=False),
        sa.Column("slot", sa.String(64), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("cycle", "key", name="uq_outbox_part_cycle_key"),
    )
    op.create_index("ix_outbox_part_outbox_key", "outbox_part", ["outbox_key"])
    op.create_index("ix_outbox_part_created_at", "outbox_part", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_part_created_at", "outbox_part")
    op.drop_index("ix_outbox_part_outbox_key", "outbox_part")
    op.drop_table("outbox_part")
