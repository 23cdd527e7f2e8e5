"""Status exports applied, with their as-of time (an older one is refused); the transition log made
append-only by the database itself (triggers refuse UPDATE and DELETE, and TRUNCATE on PostgreSQL).

Nothing in cuiban updates or deletes log rows; the triggers make that a rule no tool or hand-written
SQL can break. (A later migration that rebuilds `transition_log` with batch operations on SQLite
must create the triggers again.)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

from cuiban.models.utc import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

REFUSED = "transition_log is append-only: its rows cannot be changed or deleted"

SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER transition_log_no_{verb.lower()} BEFORE {verb} ON transition_log
    BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END"""
    for verb in ("UPDATE", "DELETE")
]

POSTGRES_TRIGGERS = [
    f"""CREATE FUNCTION transition_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION USING MESSAGE = '{REFUSED} (' || TG_OP || ' refused)', ERRCODE = 'restrict_violation';
    END $$""",
    """CREATE TRIGGER transition_log_no_change BEFORE UPDATE OR DELETE ON transition_log
    FOR EACH ROW EXECUTE FUNCTION transition_log_append_only()""",
    """CREATE TRIGGER transition_log_no_truncate BEFORE TRUNCATE ON transition_log
    FOR EACH STATEMENT EXECUTE FUNCTION transition_log_append_only()""",
]


def upgrade() -> None:
    op.create_table(
        "sync_export",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("file_name", sa.String(400), nullable=False),
        sa.Column("as_of", UTCDateTime(), nullable=False),
        sa.Column("as_of_from", sa.String(16), nullable=False),
        sa.Column("applied_at", UTCDateTime(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=True),
        sa.Column("forced", sa.Boolean(), nullable=False),
    )
    dialect = op.get_bind().dialect.name
    for statement in POSTGRES_TRIGGERS if dialect == "postgresql" else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER transition_log_no_truncate ON transition_log")
        op.execute("DROP TRIGGER transition_log_no_change ON transition_log")
        op.execute("DROP FUNCTION transition_log_append_only()")
    else:
        op.execute("DROP TRIGGER transition_log_no_update")
        op.execute("DROP TRIGGER transition_log_no_delete")
    op.drop_table("sync_export")
