"""The province's own records: the 附表4 figures of institutions that run cuiban elsewhere, and which
institutions run in this deployment.

Uploaded figures live in the province's own schema (its connection's search_path), one row per
institution and month: uploading the same month again replaces the row, so the province reads the
institution's latest word on that month. The file itself is not kept: its figures, its name and when
it came are what the province's table shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Connection, Date, delete, insert, select
from sqlmodel import Field, SQLModel

from cuiban.models import tenancy
from cuiban.models.utc import UTCDateTime


class ProvinceUpload(SQLModel, table=True):
    """附表4 of one institution for one month, as uploaded to the province (`cuiban province upload`)."""

    __tablename__ = "province_upload"

    unit_id: str = Field(primary_key=True, max_length=64)
    """The institution's unit id in the province plan."""
    month: str = Field(primary_key=True, max_length=7)
    """2016-12: the form's 年月."""
    file_name: str = Field(max_length=400)
    uploaded_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    filled_on: date | None = Field(default=None, sa_column=Column(Date(), nullable=True))
    """The form's 填表日期, when it gives one."""
    entry_total: int
    entry_done: int
    entry_completed_on: date | None = Field(default=None, sa_column=Column(Date(), nullable=True))
    review_total: int
    review_done: int
    review_completed_on: date | None = Field(default=None, sa_column=Column(Date(), nullable=True))


UPLOAD = ProvinceUpload.__table__  # type: ignore[attr-defined]


def replace(connection: Connection, row: Mapping[str, Any]) -> dict[str, Any] | None:
    """Store one institution's figures for a month; the row it replaced, if there was one."""
    key = (UPLOAD.c.unit_id == row["unit_id"]) & (UPLOAD.c.month == row["month"])
    old = connection.execute(select(UPLOAD).where(key)).first()
    connection.execute(delete(UPLOAD).where(key))
    connection.execute(insert(UPLOAD).values(**row))
    return dict(old._mapping) if old else None


def for_month(connection: Connection, month: str) -> dict[str, dict[str, Any]]:
    """Every uploaded form of `month` (2016-12), by unit id."""
    rows = connection.execute(select(UPLOAD).where(UPLOAD.c.month == month))
    return {r.unit_id: dict(r._mapping) for r in rows}


def hosted(connection: Connection) -> frozenset[str]:
    """The institutions whose data this database holds (their schemas, migrated): none on SQLite,
    which holds one institution and no tenants."""
    if connection.dialect.name != "postgresql":
        return frozenset()
    return frozenset(tenancy.institutions(connection))
