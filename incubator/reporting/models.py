"""Reporting: targets a funding organisation sets itself, and generated report files kept for reuse."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from incubator.core.db import Base, OrgScoped, TimestampMixin, intpk


class ExportStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    READY = "ready"
    FAILED = "failed"


class ReportTarget(OrgScoped, TimestampMixin, Base):
    """What an organisation (typically a state agency) aims for in a year, for one headline figure."""

    __tablename__ = "report_targets"
    __table_args__ = (UniqueConstraint("org_id", "year", "metric"),)

    id: Mapped[intpk]
    year: Mapped[int]
    metric: Mapped[str] = mapped_column(String(40))
    value: Mapped[int] = mapped_column(BigInteger)  # money in minor units of the organisation's currency


class ReportExport(OrgScoped, TimestampMixin, Base):
    """A generated download. ``cache_key`` covers the parameters and a fingerprint of the data, so a
    file is served again until the data behind it changes."""

    __tablename__ = "report_exports"

    id: Mapped[intpk]
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    cache_key: Mapped[str] = mapped_column(String(64), index=True)
    format: Mapped[str] = mapped_column(String(8))  # csv | xlsx | pdf
    locale: Mapped[str] = mapped_column(String(8))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)  # cohort_ids, period
    status: Mapped[ExportStatus] = mapped_column(String(10), default=ExportStatus.QUEUED)
    progress: Mapped[int] = mapped_column(default=0)  # percent
    file_key: Mapped[str | None] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255), default="")
    error: Mapped[str] = mapped_column(Text, default="")
    finished_at: Mapped[datetime | None]


class ReportBranding(OrgScoped, TimestampMixin, Base):
    """What an organisation prints on its reports: its logo (PNG or JPEG in storage)."""

    __tablename__ = "report_brandings"
    __table_args__ = (UniqueConstraint("org_id"),)

    id: Mapped[intpk]
    logo_key: Mapped[str | None] = mapped_column(String(64))
