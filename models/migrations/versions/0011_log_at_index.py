"""An index on the transition log's time: figures as of a past moment ask for the newest entry
(whether the moment is current at all: one lookup instead of reading the whole log, at every tick
and dashboard) and read the entries after it as a range; `log export --from/--to` reads by time too.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_transition_log_at", "transition_log", ["at"])


def downgrade() -> None:
    op.drop_index("ix_transition_log_at", "transition_log")
