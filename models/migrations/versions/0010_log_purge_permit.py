"""A narrow exception to the log's append-only rule, for the retention purge only.

Why: a roster re-import or a command-line correction that changed an ID-card number, phone or
email leaves the old and new values in the log row's `data` (field → [old, new]), and a free-text
note may hold such a number; once the retention period is over (PIPL Art. 19) they must go too.
The purge inserts a `log_purge_permit` row, masks those values, and deletes the row, all in its
one transaction: no other connection ever sees the permit. While it exists, an UPDATE of
`transition_log` may change `data` and `note` and nothing else (every other column compared, old
to new, NULL-safe); DELETE and TRUNCATE stay refused always, and without a permit so does every
UPDATE. A later migration that adds a column to `transition_log` must add it to the comparison.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

from cuiban.models.utc import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

REFUSED = "transition_log is append-only: its rows cannot be changed or deleted"
"""0006's message, kept: tools and tests recognise the refusal by it."""

KEPT = ("id", "record_kind", "record_key", "from_state", "to_state", "event", "actor", "source", "at")
"""Every column of transition_log but `data` and `note`: a purge may change none of them."""


def _permitted(same: str) -> str:
    """The condition under which an UPDATE passes: a permit exists and only data/note change."""
    unchanged = " AND ".join(f"NEW.{name} {same} OLD.{name}" for name in KEPT)
    return f"EXISTS (SELECT 1 FROM log_purge_permit) AND {unchanged}"


SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER transition_log_no_update BEFORE UPDATE ON transition_log
    WHEN NOT ({_permitted("IS")})
    BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END""",
    f"""CREATE TRIGGER transition_log_no_delete BEFORE DELETE ON transition_log
    BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END""",
]

OLD_SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER transition_log_no_{verb.lower()} BEFORE {verb} ON transition_log
    BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END"""
    for verb in ("UPDATE", "DELETE")
]
"""0006's, restored by the downgrade."""

POSTGRES_FUNCTION = f"""CREATE OR REPLACE FUNCTION transition_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF {_permitted("IS NOT DISTINCT FROM")} THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION USING MESSAGE = '{REFUSED} (' || TG_OP || ' refused)', ERRCODE = 'restrict_violation';
END $$"""
"""The triggers of 0006 (UPDATE OR DELETE per row, TRUNCATE per statement) call this function; only
its body changes. TRUNCATE and DELETE never reach RETURN."""

OLD_POSTGRES_FUNCTION = f"""CREATE OR REPLACE FUNCTION transition_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = '{REFUSED} (' || TG_OP || ' refused)', ERRCODE = 'restrict_violation';
END $$"""


def upgrade() -> None:
    op.create_table(
        "log_purge_permit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=True),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_FUNCTION)
        return
    op.execute("DROP TRIGGER transition_log_no_update")
    op.execute("DROP TRIGGER transition_log_no_delete")
    for statement in SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(OLD_POSTGRES_FUNCTION)
    else:
        op.execute("DROP TRIGGER transition_log_no_update")
        op.execute("DROP TRIGGER transition_log_no_delete")
        for statement in OLD_SQLITE_TRIGGERS:
            op.execute(statement)
    op.drop_table("log_purge_permit")
