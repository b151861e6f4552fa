"""iCal feeds at secret, revocable addresses (``core.feeds``): a person's bookings, and a resource's
bookings, written by the one builder (``core.ics``: local times with the organisation's VTIMEZONE)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Blueprint, Response, abort
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from incubator.booking.models import ACTIVE_STATUSES, Booking, BookingStatus, Resource
from incubator.core.db import get_required
from incubator.core.feeds import FeedKind, live_feed_token
from incubator.core.ics import CalendarEvent, build_calendar
from incubator.core.tenancy import all_orgs
from incubator.extensions import db
from incubator.orgs.models import Membership, Organisation

bp = Blueprint("booking_feeds", __name__)


# What a subscriber's calendar shows for each booking state; the others are left out of the feeds.
EVENT_STATUS = {
    BookingStatus.CONFIRMED: "CONFIRMED",
    BookingStatus.COMPLETED: "CONFIRMED",  # checked in, or used: it happened
    BookingStatus.PENDING_APPROVAL: "TENTATIVE",
    BookingStatus.AWAITING_PAYMENT: "TENTATIVE",
    BookingStatus.HELD: "TENTATIVE",
}


def booking_event(booking: Booking) -> CalendarEvent:
    """A booking as a calendar event. Its time never changes (a new time is a new booking), so its
    SEQUENCE stays 0; a cancelled booking leaves the feeds."""
    return CalendarEvent(kind="booking", ident=booking.id, starts_at=booking.starts_at, ends_at=booking.ends_at,
                         summary=f"{booking.resource.name} · {booking.user.name}", changed_at=booking.updated_at,
                         status=EVENT_STATUS[booking.status], location=booking.resource.lab.name)


WITH_NAMES = (selectinload(Booking.resource).selectinload(Resource.lab), selectinload(Booking.user))


def _calendar(name: str, bookings: Sequence[Booking], org: Organisation) -> bytes:
    return build_calendar([booking_event(b) for b in bookings if b.status in EVENT_STATUS],
                          name=name, timezone=org.timezone)


def _respond(body: bytes) -> Any:
    return Response(body, mimetype="text/calendar", headers={"Cache-Control": "private, max-age=300"})


@bp.route("/feeds/bookings/<token>.ics")
def person_feed(token: str) -> Any:
    record = live_feed_token(db.session, token, FeedKind.BOOKINGS)
    if record is None:
        abort(404)
    with all_orgs(db.session):  # the address names no organisation: the token's decides
        member = db.session.execute(select(Membership.id).where(
            Membership.org_id == record.org_id, Membership.user_id == record.owner_id)).first()
        if member is None:  # no longer a member: the address went with the membership
            abort(404)
        org = get_required(db.session, Organisation, record.org_id)
        bookings = db.session.execute(select(Booking).where(  # a shared lab's bookings belong to its owner
            or_(Booking.org_id == record.org_id, Booking.partner_org_id == record.org_id),
            Booking.user_id == record.owner_id, Booking.status.in_(ACTIVE_STATUSES))
            .order_by(Booking.starts_at).options(*WITH_NAMES)).scalars().all()
        return _respond(_calendar(f"Lab bookings · {org.name}", bookings, org))


@bp.route("/feeds/resources/<token>.ics")
def resource_feed(token: str) -> Any:
    record = live_feed_token(db.session, token, FeedKind.RESOURCE)
    if record is None:
        abort(404)
    with all_orgs(db.session):  # the address names no organisation: the token's decides
        resource = db.session.execute(select(Resource).where(
            Resource.id == record.owner_id, Resource.org_id == record.org_id)).scalar_one_or_none()
        if resource is None:
            abort(404)
        org = get_required(db.session, Organisation, resource.org_id)
        bookings = db.session.execute(select(Booking).where(
            Booking.resource_id == resource.id, Booking.status.in_(ACTIVE_STATUSES))
            .order_by(Booking.starts_at).options(*WITH_NAMES)).scalars().all()
        return _respond(_calendar(resource.name, bookings, org))
