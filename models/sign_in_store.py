"""Sign-in links and requests: hashed tokens, used once; requests counted for the rate limits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, func, insert, select, update

from cuiban.models.tables import SignInLink, SignInRequest, WebSession

LINK = SignInLink.__table__
REQUEST = SignInRequest.__table__


SIGN_IN_LOCK = 0x6375_6962_616E  # "cuiban": one advisory lock for every sign-in request


def hold_lock(connection: Connection) -> None:
    """Serialise sign-in bookkeeping until the transaction ends, so that two requests at once do not
    each count without the other: on PostgreSQL an advisory lock; on SQLite the database's write
    lock, which any write statement takes at once, even one that changes no row (a read first would
    only take a snapshot, and two transactions could count the same)."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({SIGN_IN_LOCK})")
    else:
        connection.exec_driver_sql("DELETE FROM sign_in_request WHERE 0")


def links_since(connection: Connection, person: str, since: datetime) -> int:
    query = select(func.count()).select_from(LINK)
    query = query.where(LINK.c.person_id == person, LINK.c.created_at >= since)
    return int(connection.execute(query).scalar_one())


def record_request(connection: Connection, email_hash: str, client: str, at: datetime) -> None:
    connection.execute(insert(REQUEST).values(email_hash=email_hash, client=client, at=at))


def requests_since(connection: Connection, since: datetime, *, email_hash: str | None = None,
                   client: str | None = None) -> int:
    """Requests at or after `since` for this address (hashed) or from this client."""
    query = select(func.count()).select_from(REQUEST).where(REQUEST.c.at >= since)
    if email_hash is not None:
        query = query.where(REQUEST.c.email_hash == email_hash)
    if client is not None:
        query = query.where(REQUEST.c.client == client)
    return int(connection.execute(query).scalar_one())


def forget_requests_before(connection: Connection, before: datetime) -> None:
    """Requests older than every rate window are of no further use: they are not kept."""
    connection.execute(delete(REQUEST).where(REQUEST.c.at < before))


def add_link(connection: Connection, token_hash: str, person: str, at: datetime, expires: datetime) -> None:
    connection.execute(
        insert(LINK).values(token_hash=token_hash, person_id=person, created_at=at, expires_at=expires)
    )


def use_link(connection: Connection, token_hash: str, at: datetime) -> str | None:
    """The person the link signs in, marking it used in the same statement; None when it is
    unknown, used or expired (two clicks at once: one UPDATE wins, the other finds it used)."""
    taken = connection.execute(
        update(LINK)
        .where(LINK.c.token_hash == token_hash, LINK.c.used_at.is_(None), LINK.c.expires_at > at)
        .values(used_at=at)
        .returning(LINK.c.person_id)
    ).first()
    return None if taken is None else str(taken[0])


def link_state(connection: Connection, token_hash: str) -> dict | None:
    row = connection.execute(select(LINK).where(LINK.c.token_hash == token_hash)).first()
    return None if row is None else dict(row._mapping)


SESSION = WebSession.__table__


def open_session(connection: Connection, sid_hash: str, person: str, at: datetime) -> None:
    connection.execute(insert(SESSION).values(sid_hash=sid_hash, person_id=person, created_at=at))


def session_person(connection: Connection, sid_hash: str) -> str | None:
    """The person of a session that has not ended, else None."""
    row = connection.execute(
        select(SESSION.c.person_id).where(SESSION.c.sid_hash == sid_hash, SESSION.c.ended_at.is_(None))
    ).first()
    return None if row is None else str(row[0])


def end_session(connection: Connection, sid_hash: str, at: datetime) -> None:
    live = (SESSION.c.sid_hash == sid_hash) & SESSION.c.ended_at.is_(None)
    connection.execute(update(SESSION).where(live).values(ended_at=at))


def forget_sessions_before(connection: Connection, before: datetime) -> None:
    """Sessions begun before `before` have expired with their cookie: not kept."""
    connection.execute(delete(SESSION).where(SESSION.c.created_at < before))
