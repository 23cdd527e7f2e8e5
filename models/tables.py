"""The tables: units and people (copied from the plan), teachers, unit tasks, the transition log.

Rows are plain storage; state machines live in `workflow` and are mapped to and from
these rows. ID-card and phone columns exist but stay empty unless the plan maps them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, LargeBinary, SmallInteger, UniqueConstraint
from sqlmodel import Field, SQLModel

from cuiban.models.utc import UTCDateTime


def _stamp(nullable: bool = False) -> Column:
    return Column(UTCDateTime(), nullable=nullable)


class Unit(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=16)


class Person(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    email: str = Field(max_length=320)
    unit_id: str | None = Field(default=None, max_length=64)


class Teacher(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    staff_id: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    unit_id: str = Field(max_length=64)
    gender: str | None = Field(default=None, max_length=8)
    birth_month: str | None = Field(default=None, max_length=7)
    post: str | None = Field(default=None, max_length=100)
    employment: str | None = Field(default=None, max_length=100)
    contract_months: int | None = None
    in_service_elsewhere: str | None = Field(default=None, max_length=8)
    email: str | None = Field(default=None, max_length=320)
    education: str | None = Field(default=None, max_length=100)
    degree: str | None = Field(default=None, max_length=100)
    title: str | None = Field(default=None, max_length=100)
    id_card: str | None = Field(default=None, max_length=18)
    phone: str | None = Field(default=None, max_length=32)
    state: str = Field(max_length=32)
    excluded_rule: str | None = Field(default=None, max_length=64)
    state_changed_at: datetime = Field(sa_column=_stamp())
    updated_at: datetime = Field(sa_column=_stamp())

    __table_args__ = (Index("ix_teacher_unit_state", "unit_id", "state"),)


class Cycle(SQLModel, table=True):
    """A campaign year (the plan's `cycle`): the newest row is the current one; an older one is closed,
    read-only and still reportable."""

    cycle: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    title: str = Field(max_length=200)
    started_at: datetime = Field(sa_column=_stamp())
    closed_at: datetime | None = Field(default=None, sa_column=_stamp(nullable=True))


class Task(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    cycle: int | None = None
    """The campaign the task belongs to; NULL only on rows from before cycles, until adopted."""
    milestone_id: str = Field(max_length=64)
    unit_id: str = Field(max_length=64)
    occurrence: str = Field(default="", max_length=10)
    """The due date of a monthly milestone's occurrence (YYYY-MM-DD); '' otherwise."""
    state: str = Field(max_length=16)
    escalation_level: int = 0
    due_at: datetime | None = Field(default=None, sa_column=_stamp(nullable=True))
    completed_at: datetime | None = Field(default=None, sa_column=_stamp(nullable=True))
    completed_by: str | None = Field(default=None, max_length=200)
    updated_at: datetime = Field(sa_column=_stamp())

    __table_args__ = (
        UniqueConstraint("cycle", "milestone_id", "unit_id", "occurrence", name="uq_task_cycle_key"),
    )

    @property
    def key(self) -> str:
        parts = [self.milestone_id, self.unit_id] + ([self.occurrence] if self.occurrence else [])
        return "/".join(parts)


class TransitionLog(SQLModel, table=True):
    """Append-only: every state change and field change, with who, how and when."""

    __tablename__ = "transition_log"

    id: int | None = Field(default=None, primary_key=True)
    record_kind: str = Field(max_length=16)
    record_key: str = Field(max_length=200)
    from_state: str | None = Field(default=None, max_length=32)
    to_state: str = Field(max_length=32)
    event: str = Field(max_length=32)
    actor: str | None = Field(default=None, max_length=200)
    source: str = Field(max_length=16)
    at: datetime = Field(sa_column=_stamp())
    note: str | None = None
    data: str | None = None
    """JSON: field → [old, new] for updates and approved corrections."""

    __table_args__ = (
        Index("ix_transition_log_record", "record_kind", "record_key"),
        Index("ix_transition_log_at", "at"),
    )


class Outbox(SQLModel, table=True):
    """Every message decided by a tick, rendered, with its delivery state.

    `key` (kind, milestone/task, unit, recipient, slot) is unique in its cycle: deciding the same
    message twice inserts nothing, so nothing is sent twice.
    """

    id: int | None = Field(default=None, primary_key=True)
    cycle: int | None = None
    """The campaign whose tick queued it (NULL: before cycles until adopted, or a sign-in link)."""
    key: str = Field(max_length=400)
    kind: str = Field(max_length=16)
    task_key: str | None = Field(default=None, max_length=200)
    unit_id: str | None = Field(default=None, max_length=64)
    recipient: str = Field(max_length=320)
    recipient_name: str = Field(max_length=200)
    slot: str = Field(max_length=64)
    subject: str
    body_text: str
    body_html: str
    data: str | None = None
    """JSON of what was rendered (the digest keeps its figures here for the next day's changes)."""
    status: str = Field(max_length=16)
    """Indexed by `ix_outbox_send_order` (status, priority, id)."""
    attempts: int = 0
    last_error: str | None = None
    next_attempt_at: datetime | None = Field(default=None, sa_column=_stamp(nullable=True))
    created_at: datetime = Field(sa_column=_stamp())
    sent_at: datetime | None = Field(default=None, sa_column=_stamp(nullable=True))
    message_id: str | None = Field(default=None, max_length=200)
    """Fixed when the row is queued and used on every attempt, so a receiver can drop a duplicate."""
    priority: int = Field(default=2, sa_column=Column(SmallInteger(), nullable=False, server_default="2"))
    """Send order: 0 digests, 1 escalations and reports, 2 reminders."""
    due_at: datetime | None = Field(default=None, sa_column=_stamp(nullable=True))
    """When the message was meant to go out (its slot); sent later than that by more than the tick
    interval, it is `late`."""
    claimed_by: str | None = Field(default=None, max_length=200)
    """The sender holding it while `sending` (host:pid:token)."""
    claim_expires_at: datetime | None = Field(default=None, sa_column=_stamp(nullable=True))
    """Real (host) time after which another sender may take the claim over; renewed while sending."""
    failed_at: datetime | None = Field(default=None, sa_column=_stamp(nullable=True))
    late: bool = False

    __table_args__ = (
        Index("ix_outbox_send_order", "status", "priority", "id"),
        UniqueConstraint("cycle", "key", name="uq_outbox_cycle_key"),
    )


class OutboxPart(SQLModel, table=True):
    """One task's reminder or escalation sent inside a combined mail (one mail per person per day):
    its own key (`reminder|task|email|slot`, `escalation|…|level-N`) stays the memory of what was
    sent, as if it had been a message of its own, so nothing is decided twice and the catch-up
    rule (`outbox_store.reminded`) reads it like a reminder row."""

    __tablename__ = "outbox_part"

    id: int | None = Field(default=None, primary_key=True)
    cycle: int | None = None
    key: str = Field(max_length=400)
    outbox_key: str = Field(max_length=400, index=True)
    """The combined message it went out in."""
    kind: str = Field(max_length=16)
    task_key: str = Field(max_length=200)
    slot: str = Field(max_length=64)
    due_at: datetime | None = Field(default=None, sa_column=_stamp(nullable=True))
    created_at: datetime = Field(sa_column=_stamp())

    __table_args__ = (
        UniqueConstraint("cycle", "key", name="uq_outbox_part_cycle_key"),
        Index("ix_outbox_part_created_at", "created_at"),
    )


class DeliveryPause(SQLModel, table=True):
    """The sender's pause after a provider's rate limit or an outage: nothing is sent until then."""

    __tablename__ = "delivery_pause"

    name: str = Field(primary_key=True, max_length=64)
    paused_until: datetime = Field(sa_column=_stamp())
    reason: str


class OutboxAttachment(SQLModel, table=True):
    """A file sent with an outbox message: attached, or shown inline in its HTML when `content_id` is set."""

    __tablename__ = "outbox_attachment"

    id: int | None = Field(default=None, primary_key=True)
    outbox_key: str = Field(max_length=400, index=True)
    filename: str = Field(max_length=200)
    content_type: str = Field(max_length=100)
    content_id: str | None = Field(default=None, max_length=100)
    content: bytes = Field(sa_column=Column(LargeBinary(), nullable=False))


class TickMark(SQLModel, table=True):
    """The latest moment a tick has decided at: a reminder slot a tick has seen and passed over
    (one reminder a day) is not sent by a later one."""

    __tablename__ = "tick_mark"

    name: str = Field(primary_key=True, max_length=64)
    at: datetime = Field(sa_column=_stamp())


class RunnerLease(SQLModel, table=True):
    """Which `cuiban run` acts on this database, until when (renewed on every tick)."""

    __tablename__ = "runner_lease"

    name: str = Field(primary_key=True, max_length=64)
    holder: str = Field(max_length=200)
    expires_at: datetime = Field(sa_column=_stamp())


class SenderTurn(SQLModel, table=True):
    """A sending account's next free turn: senders book turns here, so a provider's rate limit holds
    for all of them together, whichever process or machine they run on. A deployment of several
    institutions keeps this table once, in the shared schema (`models.tenancy`; `turn_store`)."""

    __tablename__ = "sender_turn"

    name: str = Field(primary_key=True, max_length=200)
    next_at: datetime = Field(sa_column=_stamp())


class SyncExport(SQLModel, table=True):
    """Each status export applied by `cuiban sync`, with the moment its statuses are as of: an export
    older than the newest one applied is refused (it would walk records back)."""

    __tablename__ = "sync_export"

    id: int | None = Field(default=None, primary_key=True)
    cycle: int | None = None
    """The campaign the export was applied in: the newest-export check is per cycle."""
    file_name: str = Field(max_length=400)
    as_of: datetime = Field(sa_column=_stamp())
    as_of_from: str = Field(max_length=16)
    """Where `as_of` came from: `option` (--as-of), `file name` (a date, to the day), `modified` (mtime)."""
    applied_at: datetime = Field(sa_column=_stamp())
    rows: int
    actor: str | None = Field(default=None, max_length=200)
    forced: bool = False
    """Applied with --force although a newer export had been applied."""


# ── the web pages: sign-in links, refusals, evidence files ──


class SignInLink(SQLModel, table=True):
    """A one-time sign-in link sent by mail: only its SHA-256 is kept, so the table cannot sign anyone in."""

    __tablename__ = "sign_in_link"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    person_id: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=_stamp())
    expires_at: datetime = Field(sa_column=_stamp())
    used_at: datetime | None = Field(default=None, sa_column=_stamp(nullable=True))


class SignInRequest(SQLModel, table=True):
    """Every request for a link, known address or not (hashed): the rate limits count these."""

    __tablename__ = "sign_in_request"

    id: int | None = Field(default=None, primary_key=True)
    email_hash: str = Field(max_length=64)
    client: str = Field(max_length=64)
    at: datetime = Field(sa_column=_stamp())

    __table_args__ = (
        Index("ix_sign_in_request_email", "email_hash", "at"),
        Index("ix_sign_in_request_client", "client", "at"),
    )


class AccessLog(SQLModel, table=True):
    """Each refused request: who, what, for which unit, when, from where."""

    __tablename__ = "access_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=_stamp())
    person_id: str | None = Field(default=None, max_length=64)
    action: str = Field(max_length=32)
    unit_id: str | None = Field(default=None, max_length=64)
    method: str = Field(max_length=8)
    path: str = Field(max_length=400)
    client: str = Field(max_length=64)
    outcome: str = Field(max_length=16)
    why: str = Field(max_length=200)


class Evidence(SQLModel, table=True):
    """A file a unit handed in with a task (a signed 附表6, the collectors' list): stored by its id
    outside any served folder; only its checked type and original name are kept here."""

    __tablename__ = "evidence"

    id: int | None = Field(default=None, primary_key=True)
    task_key: str = Field(max_length=200, index=True)
    unit_id: str = Field(max_length=64)
    file_name: str = Field(max_length=200)
    content_type: str = Field(max_length=100)
    size: int
    sha256: str = Field(max_length=64)
    uploaded_by: str = Field(max_length=64)
    uploaded_at: datetime = Field(sa_column=_stamp())


class WebSession(SQLModel, table=True):
    """A signed-in session (the cookie holds its id; only the id's SHA-256 is kept): signing out
    ends it here, so a copy of the cookie is worth nothing afterwards."""

    __tablename__ = "web_session"

    sid_hash: str = Field(primary_key=True, max_length=64)
    person_id: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=_stamp())
    ended_at: datetime | None = Field(default=None, sa_column=_stamp(nullable=True))


class LogPurgePermit(SQLModel, table=True):
    """Exists only inside a retention purge's transaction (migration 0010): while a row is here, the
    log's triggers let an UPDATE change `data` and `note` and nothing else."""

    __tablename__ = "log_purge_permit"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=_stamp())
    actor: str | None = Field(default=None, max_length=200)


from cuiban.models.province_store import ProvinceUpload  # noqa: E402,F401  (registers the province's table)
