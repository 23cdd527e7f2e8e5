"""Delivery like a mail server: send order, claims with a holder and an expiry, one Message-ID per
row, when a message was meant to go out (to tell late ones), when it failed, the sender's pause,
and the latest moment a tick has seen (the catch-up rule's memory).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from cuiban.models.utc import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("priority", sa.SmallInteger(), nullable=False, server_default="2"))
        batch.add_column(sa.Column("due_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("claimed_by", sa.String(200), nullable=True))
        batch.add_column(sa.Column("claim_expires_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("failed_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("late", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute("UPDATE outbox SET priority = 0 WHERE kind = 'digest'")
    op.execute("UPDATE outbox SET priority = 1 WHERE kind IN ('escalation', 'report')")
    op.execute("UPDATE outbox SET failed_at = created_at WHERE status = 'failed'")
    op.create_index("ix_outbox_send_order", "outbox", ["status", "priority", "id"])
    op.drop_index("ix_outbox_status", "outbox")  # the send order's index starts with the status
    op.create_table(
        "delivery_pause",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("paused_until", UTCDateTime(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
    )
    op.create_table(
        "tick_mark",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("tick_mark")
    op.drop_table("delivery_pause")
    op.create_index("ix_outbox_status", "outbox", ["status"])
    op.drop_index("ix_outbox_send_order", "outbox")
    with op.batch_alter_table("outbox") as batch:
        for column in ("late", "failed_at", "claim_expires_at", "claimed_by", "due_at", "priority"):
            batch.drop_column(column)
