"""The province's uploaded 附表4 figures: one row per institution and month (`models.province_store`).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from cuiban.models.utc import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "province_upload",
        sa.Column("unit_id", sa.String(64), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("file_name", sa.String(400), nullable=False),
        sa.Column("uploaded_at", UTCDateTime(), nullable=False),
        sa.Column("filled_on", sa.Date(), nullable=True),
        sa.Column("entry_total", sa.Integer(), nullable=False),
        sa.Column("entry_done", sa.Integer(), nullable=False),
        sa.Column("entry_completed_on", sa.Date(), nullable=True),
        sa.Column("review_total", sa.Integer(), nullable=False),
        sa.Column("review_done", sa.Integer(), nullable=False),
        sa.Column("review_completed_on", sa.Date(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("province_upload")
