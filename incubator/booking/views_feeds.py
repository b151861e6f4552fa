"""iCal feeds at secret, revocable addresses: a person's bookings, and a resource's bookings.

Events carry the organisation's time zone (TZID with its VTIMEZONE), so calendars show local times.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort
from icalendar import Calendar, Event
from sqlalchemy import or_, select

from incubator.booking.models import ACTIVE_STATUSES, Booking, BookingStatus, FeedToken, Resource
from incubator.core.db import get_required
from incubator.core.ics import uid_domain
from incubator.core.tenancy import all_orgs
from incubator.core.tokens import hash_token
from incubator.extensions import db
from incubator.orgs.models import Organisation

bp = Blueprint("booking_feeds", __name__)


# What a subscriber's calendar shows for each booking state; the others are left out of the feeds.
EVENT_STATUS = {
    BookingStatus.CONFIRMED: "CONFIRMED",
    BookingStatus.COMPLETED: "CONFIRMED",  # checked in, or used: it happened
    BookingStatus.PENDING_APPROVAL: "TENTATIVE",
    BookingStatus.AWAITING_PAYMENT: "TENTATIVE",
    BookingStatus.HELD: "TENTATIVE",
}


def _calendar(name: str, bookings: Sequence[Booking], org: Organisation) -> bytes:
    zone = ZoneInfo(org.timezone)
    cal = Calendar()
    cal.add("prodid", "-//Incubator//Lab bookings//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", org.timezone)
    domain = uid_domain()
    for booking in bookings:
        if booking.status not in EVENT_STATUS:
            continue
        event = Event()
        event.add("uid", f"booking-{booking.id}@{domain}")
        event.add("dtstamp", booking.updated_at)
        event.add("dtstart", booking.starts_at.astimezone(zone))
        event.add("dtend", booking.ends_at.astimezone(zone))
        event.add("summary", f"{booking.resource.name} · {booking.user.name}")
        event.add("location", booking.resource.lab.name)
        event.add("status", EVENT_STATUS[booking.status])
        cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()


def _respond(body: bytes) -> Any:
    return Response(body, mimetype="text/calendar", headers={"Cache-Control": "private, max-age=300"})


@bp.route("/feeds/bookings/<token>.ics")
def person_feed(token: str) -> Any:
    with all_orgs(db.session):
        record = db.session.execute(select(FeedToken).where(FeedToken.token_hash == hash_token(token))
                                    ).scalar_one_or_none()
        if record is None:
            abort(404)
        org = get_required(db.session, Organisation, record.org_id)
        bookings = db.session.execute(select(Booking).where(  # a shared lab's bookings belong to its owner
            or_(Booking.org_id == record.org_id, Booking.partner_org_id == record.org_id),
            Booking.user_id == record.user_id, Booking.status.in_(ACTIVE_STATUSES))
            .order_by(Booking.starts_at)).scalars().all()
        return _respond(_calendar(f"Lab bookings · {org.name}", bookings, org))


@bp.route("/feeds/resources/<token>.ics")
def resource_feed(token: str) -> Any:
    with all_orgs(db.session):
        resource = db.session.execute(select(Resource).where(Resource.feed_token_hash == hash_token(token))
                                      ).scalar_one_or_none()
        if resource is None:
            abort(404)
        org = get_required(db.session, Organisation, resource.org_id)
        bookings = db.session.execute(select(Booking).where(
            Booking.resource_id == resource.id, Booking.status.in_(ACTIVE_STATUSES))
            .order_by(Booking.starts_at)).scalars().all()
        return _respond(_calendar(resource.name, bookings, org))
