"""Files sent with an outbox message (附表4 to the province, the digest's chart).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_attachment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("outbox_key", sa.String(400), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("content_id", sa.String(100), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=False),
    )
    op.create_index("ix_outbox_attachment_outbox_key", "outbox_attachment", ["outbox_key"])


def downgrade() -> None:
    op.drop_index("ix_outbox_attachment_outbox_key", "outbox_attachment")
    op.drop_table("outbox_attachment")
