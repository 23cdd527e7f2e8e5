"""The first schema: units, people, teachers, tasks, the transition log.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from cuiban.models.utc import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "unit",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
    )
    op.create_table(
        "person",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("unit_id", sa.String(64), nullable=True),
    )
    op.create_table(
        "teacher",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("staff_id", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("unit_id", sa.String(64), nullable=False),
        sa.Column("gender", sa.String(8)),
        sa.Column("birth_month", sa.String(7)),
        sa.Column("post", sa.String(100)),
        sa.Column("employment", sa.String(100)),
        sa.Column("contract_months", sa.Integer()),
        sa.Column("in_service_elsewhere", sa.String(8)),
        sa.Column("email", sa.String(320)),
        sa.Column("education", sa.String(100)),
        sa.Column("degree", sa.String(100)),
        sa.Column("title", sa.String(100)),
        sa.Column("id_card", sa.String(18)),
        sa.Column("phone", sa.String(32)),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("excluded_rule", sa.String(64)),
        sa.Column("state_changed_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_teacher_unit_state", "teacher", ["unit_id", "state"])
    op.create_table(
        "task",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("milestone_id", sa.String(64), nullable=False),
        sa.Column("unit_id", sa.String(64), nullable=False),
        sa.Column("occurrence", sa.String(10), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=True),
        sa.Column("completed_at", UTCDateTime(), nullable=True),
        sa.Column("completed_by", sa.String(200)),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("milestone_id", "unit_id", "occurrence"),
    )
    op.create_table(
        "transition_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("record_kind", sa.String(16), nullable=False),
        sa.Column("record_key", sa.String(200), nullable=False),
        sa.Column("from_state", sa.String(32)),
        sa.Column("to_state", sa.String(32), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(200)),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("note", sa.String()),
        sa.Column("data", sa.String()),
    )
    op.create_index("ix_transition_log_record", "transition_log", ["record_kind", "record_key"])


def downgrade() -> None:
    for table in ("transition_log", "task", "teacher", "person", "unit"):
        op.drop_table(table)
