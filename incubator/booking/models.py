"""Labs, bookable resources, opening hours, closures, trainings, bookings and the credit ledger."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, synonym

from incubator.accounts.models import User
from incubator.cohorts.models import ResourceKind, Startup
from incubator.core.db import Base, OrgScoped, TimestampMixin, intpk, str255, utcnow
from incubator.core.versioning import Versioned
from incubator.core.weekly import WeeklyWindow


class BookingStatus(StrEnum):
    HELD = "held"  # offered to the first in the waitlist, who confirms it before the hold runs out
    PENDING_APPROVAL = "pending_approval"
    AWAITING_PAYMENT = "awaiting_payment"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    NO_SHOW = "no_show"
    EXPIRED = "expired"  # a hold that ran out


# Bookings in these states hold their slot; the database refuses any overlap between them.
ACTIVE_STATUSES = (BookingStatus.HELD, BookingStatus.PENDING_APPROVAL, BookingStatus.AWAITING_PAYMENT,
                   BookingStatus.CONFIRMED, BookingStatus.COMPLETED)
HOLD_STATUSES = (BookingStatus.HELD, BookingStatus.AWAITING_PAYMENT)  # released when hold_expires_at passes


class Lab(OrgScoped, Base):
    __tablename__ = "labs"

    id: Mapped[intpk]
    name: Mapped[str255]
    site: Mapped[str] = mapped_column(String(255), default="")
    description: Mapped[str] = mapped_column(Text, default="")

    resources: Mapped[list[Resource]] = relationship(back_populates="lab", order_by="Resource.name")


class Training(OrgScoped, Base):
    """A certification a person needs before booking some machines (e.g. laser cutter safety)."""

    __tablename__ = "trainings"

    id: Mapped[intpk]
    name: Mapped[str255]
    validity_months: Mapped[int] = mapped_column(default=12)


class Certification(OrgScoped, Base):
    __tablename__ = "certifications"
    __table_args__ = (Index("ix_certifications_user_training", "user_id", "training_id"),)

    id: Mapped[intpk]
    training_id: Mapped[int] = mapped_column(ForeignKey("trainings.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    certified_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    certified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    training: Mapped[Training] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])


class Resource(OrgScoped, TimestampMixin, Versioned, Base):
    """Something bookable: a machine, a bench, a room, a workspace."""

    __tablename__ = "resources"
    __table_args__ = (
        CheckConstraint("slot_minutes > 0", name="slot"),
        CheckConstraint("min_minutes > 0 AND max_minutes >= min_minutes", name="durations"),
        CheckConstraint("buffer_minutes >= 0", name="buffer"),
        CheckConstraint("price_member >= 0 AND price_partner >= 0 AND price_external >= 0", name="prices"),
    )

    id: Mapped[intpk]
    lab_id: Mapped[int] = mapped_column(ForeignKey("labs.id"), index=True)
    name: Mapped[str255]
    kind: Mapped[ResourceKind] = mapped_column(String(12))
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(default=True)
    open_24h: Mapped[bool] = mapped_column(default=False)  # e.g. 3D printers running overnight
    slot_minutes: Mapped[int] = mapped_column(default=30)
    min_minutes: Mapped[int] = mapped_column(default=30)
    max_minutes: Mapped[int] = mapped_column(default=240)
    buffer_minutes: Mapped[int] = mapped_column(default=0)  # kept free after each booking
    max_days_ahead: Mapped[int] = mapped_column(default=30)
    min_notice_minutes: Mapped[int] = mapped_column(default=60)
    max_hours_per_week: Mapped[int | None]  # per startup
    needs_approval: Mapped[bool] = mapped_column(default=False)
    training_id: Mapped[int | None] = mapped_column(ForeignKey("trainings.id", ondelete="SET NULL"), index=True)
    free_cancellation_hours: Mapped[int] = mapped_column(default=24)
    no_show_minutes: Mapped[int] = mapped_column(default=15)  # released when nobody checked in by then
    # Price per hour in minor units of the organisation's currency, by member group.
    price_member: Mapped[int] = mapped_column(default=0)
    price_partner: Mapped[int] = mapped_column(default=0)
    price_external: Mapped[int] = mapped_column(default=0)
    photo_key: Mapped[str | None] = mapped_column(String(64))

    lab: Mapped[Lab] = relationship(back_populates="resources")
    training: Mapped[Training | None] = relationship()
    hours: Mapped[list[OpeningHours]] = relationship(back_populates="resource", cascade="all, delete-orphan",
                                                     order_by="OpeningHours.weekday")

    @property
    def buffer(self) -> timedelta:
        return timedelta(minutes=self.buffer_minutes)


class OpeningHours(WeeklyWindow, OrgScoped, Base):
    """When a resource can be booked on a weekday (0 is Monday), in the organisation's time zone.

    A weekly window (``core.weekly``) whose columns keep their booking names ``opens`` and ``closes``
    (``starts`` and ``ends`` in the shared check; ``opens``/``closes`` stay as synonyms)."""

    __tablename__ = "opening_hours"
    __table_args__ = (CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
                      CheckConstraint("closes > opens", name="order"))

    id: Mapped[intpk]
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"), index=True)
    starts: Mapped[time] = mapped_column("opens", Time)
    ends: Mapped[time] = mapped_column("closes", Time)
    opens: Mapped[time] = synonym("starts")
    closes: Mapped[time] = synonym("ends")

    resource: Mapped[Resource] = relationship(back_populates="hours")


class Closure(OrgScoped, Base):
    """A closure or maintenance period of one resource."""

    __tablename__ = "closures"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="order"),
                      Index("ix_closures_resource_start", "resource_id", "starts_at"))

    id: Mapped[intpk]
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(255), default="")
    maintenance: Mapped[bool] = mapped_column(default=False)


class Booking(OrgScoped, TimestampMixin, Base):
    """A booked time range. ``blocked_until`` is the end plus the resource's buffer: the range that
    no other active booking of the resource may overlap (an exclusion constraint on PostgreSQL,
    triggers on SQLite: migrations 0004 and 0015b)."""

    __tablename__ = "bookings"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="order"),
                      CheckConstraint("blocked_until >= ends_at", name="blocked"),
                      Index("ix_bookings_resource_start", "resource_id", "starts_at"),
                      Index("ix_bookings_user_start", "user_id", "starts_at"),
                      Index("ix_bookings_status_hold", "status", "hold_expires_at"),
                      # a startup's bookings, and its weekly quota of one resource (rules.quota_minutes)
                      Index("ix_bookings_startup_resource_start", "startup_id", "resource_id", "starts_at"))

    id: Mapped[intpk]
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    startup_id: Mapped[int | None] = mapped_column(ForeignKey("startups.id", ondelete="SET NULL"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    blocked_until: Mapped[datetime]
    status: Mapped[BookingStatus] = mapped_column(String(20))
    credit_minutes: Mapped[int] = mapped_column(default=0)  # paid with cohort credits
    price: Mapped[int] = mapped_column(default=0)  # minor units, for the minutes beyond credits
    currency: Mapped[str] = mapped_column(String(3), default="VND")
    hold_expires_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    checked_in_at: Mapped[datetime | None]
    partner_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)  # shared lab
    note: Mapped[str] = mapped_column(String(500), default="")

    resource: Mapped[Resource] = relationship()
    user: Mapped[User] = relationship()
    startup: Mapped[Startup | None] = relationship()

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    def can_cancel(self, user: User, is_manager: bool) -> bool:
        return self.status in ACTIVE_STATUSES and self.status != BookingStatus.COMPLETED and (
            is_manager or self.user_id == user.id)


class ResourceShare(OrgScoped, Base):
    """The owner organisation shares a resource with a partner organisation, at the partner rate."""

    __tablename__ = "resource_shares"
    __table_args__ = (UniqueConstraint("resource_id", "partner_org_id"),)

    id: Mapped[intpk]
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"), index=True)
    partner_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    needs_approval: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    resource: Mapped[Resource] = relationship()


class WaitlistEntry(OrgScoped, Base):
    """Someone who wants a taken slot; when it frees up, the first in line gets it held for a while."""

    __tablename__ = "waitlist_entries"
    __table_args__ = (Index("ix_waitlist_resource_start", "resource_id", "starts_at"),)

    id: Mapped[intpk]
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10), default="waiting")  # waiting | offered | done
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    resource: Mapped[Resource] = relationship()
    user: Mapped[User] = relationship()
