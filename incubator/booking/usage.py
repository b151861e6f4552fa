"""Read-outs of lab use: a manager's utilisation per month, resource, startup and cohort, and the lab use
that reports build on (bookings and totals per startup and resource kind)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from incubator.booking.models import Booking, BookingStatus, Resource
from incubator.cohorts.models import Cohort, Enrolment
from incubator.orgs.models import Organisation

USED = (BookingStatus.COMPLETED,)
BOOKED = (BookingStatus.CONFIRMED, BookingStatus.COMPLETED, BookingStatus.NO_SHOW)


@dataclass
class UsageLine:
    month: str  # YYYY-MM in the organisation's time zone
    resource_id: int
    startup_id: int | None
    cohort_id: int | None
    booked_minutes: int = 0
    used_minutes: int = 0  # completed, or checked in


def utilisation(session: Session, org: Organisation, start: date, end: date) -> list[UsageLine]:
    """Hours booked and used per month, resource, startup and cohort, for bookings starting in [start, end)."""
    zone = ZoneInfo(org.timezone)
    begin, finish = datetime.combine(start, time(0), zone), datetime.combine(end, time(0), zone)
    bookings = session.execute(select(Booking).where(
        Booking.org_id == org.id, Booking.status.in_(BOOKED), Booking.starts_at >= begin,
        Booking.starts_at < finish)).scalars().all()
    startup_ids = {b.startup_id for b in bookings if b.startup_id}
    enrolments = session.execute(select(Enrolment.startup_id, Cohort.id, Cohort.starts_on, Cohort.ends_on)
                                 .join(Cohort, Cohort.id == Enrolment.cohort_id)
                                 .where(Enrolment.startup_id.in_(startup_ids))).all()
    lines: dict[tuple[str, int, int | None, int | None], UsageLine] = {}
    for booking in bookings:
        day = booking.starts_at.astimezone(zone).date()
        cohort_id = next((cid for sid, cid, first, last in enrolments
                          if sid == booking.startup_id and first <= day <= last), None)
        key = (day.strftime("%Y-%m"), booking.resource_id, booking.startup_id, cohort_id)
        line = lines.setdefault(key, UsageLine(*key))
        line.booked_minutes += booking.minutes
        if booking.status in USED or booking.checked_in_at is not None:
            line.used_minutes += booking.minutes
    return sorted(lines.values(), key=lambda line: (line.month, line.resource_id, line.startup_id or 0))


# -- lab use for reports ----------------------------------------------------------------------------

REPORTED = (BookingStatus.CONFIRMED, BookingStatus.COMPLETED)


def lab_bookings_stmt(*, startup_ids: list[int], start: datetime, end: datetime) -> Any:
    """Confirmed and completed bookings of the startups that started in [start, end), in order, with only
    what the report's list of bookings shows: startup, start, end, credit minutes, price, resource name and
    kind. The caller executes it (streamed for large exports) and scopes the organisations."""
    return (select(Booking.startup_id, Booking.starts_at, Booking.ends_at, Booking.credit_minutes, Booking.price,
                   Resource.name, Resource.kind)
            .join(Resource, Resource.id == Booking.resource_id)
            .where(Booking.startup_id.in_(startup_ids), Booking.status.in_(REPORTED),
                   Booking.starts_at >= start, Booking.starts_at < end)
            .order_by(Booking.starts_at, Booking.id))


def minutes_sql(session: Session) -> Any:
    """A booking's length in whole minutes, in SQL (of the session's database)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.round(func.extract("epoch", Booking.ends_at - Booking.starts_at) / 60)
    return func.round((func.julianday(Booking.ends_at) - func.julianday(Booking.starts_at)) * 1440)


def lab_use_totals(session: Session, *, startup_ids: list[int], start: datetime, end: datetime) -> list[Any]:
    """Per startup and resource kind, summed by the database: bookings, minutes, credit minutes, paid minutes
    (beyond the credits, of bookings that had a price), and credit minutes times the hourly list price (divide by
    60 for the in-kind value). Money received is the ledger's (``reporting.queries.lab_money``), never a price.
    The caller scopes the organisations."""
    minutes = minutes_sql(session)
    # The hourly list price: the public (external) rate, else the member rate.
    price = case((Resource.price_external > 0, Resource.price_external), else_=Resource.price_member)
    return list(session.execute(
        select(Booking.startup_id, Resource.kind, func.count(), func.sum(minutes), func.sum(Booking.credit_minutes),
               func.sum(case((Booking.price > 0, minutes - Booking.credit_minutes), else_=0)),
               func.sum(Booking.credit_minutes * price))
        .join(Resource, Resource.id == Booking.resource_id)
        .where(Booking.startup_id.in_(startup_ids), Booking.status.in_(REPORTED), Booking.starts_at >= start,
               Booking.starts_at < end)
        .group_by(Booking.startup_id, Resource.kind)).all())

