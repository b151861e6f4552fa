"""The waitlist: joining and leaving it, holding freed time for the first in line, taking a held slot,
and cancelling a booking, which offers its freed time to the people waiting, the same way whichever
door (page or API) and whichever organisation (the owner's or a partner's) it was cancelled from."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from flask import current_app, has_request_context, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from incubator.accounts.models import User
from incubator.booking import rules, services
from incubator.booking.models import Booking, BookingStatus, Resource, WaitlistEntry
from incubator.core.db import get_required, utcnow
from incubator.core.errors import Conflict, DomainError
from incubator.core.mail import send_mail
from incubator.core.tenancy import all_orgs
from incubator.orgs.models import Organisation
from incubator.webhooks.services import emit_for

WAITLIST_HOLD = timedelta(minutes=30)  # how long a freed slot is kept for the first in line


def join_waitlist(session: Session, org: Organisation, resource: Resource, user: User, starts_at: datetime,
                  ends_at: datetime) -> WaitlistEntry:
    if ends_at <= starts_at or starts_at <= utcnow():
        raise rules.rule("invalid_range", _("Choose a time in the future."))
    entry = WaitlistEntry(org_id=org.id, resource_id=resource.id, user_id=user.id, starts_at=starts_at,
                          ends_at=ends_at)
    session.add(entry)
    session.flush()
    return entry


def leave_waitlist(session: Session, entry: WaitlistEntry, user: User) -> None:
    """A person leaves the waitlist (a slot already held for them stays theirs to take or let run out)."""
    if entry.user_id != user.id or entry.status != "waiting":
        raise Conflict(_("This place in the waitlist is no longer waiting."), code="not_waiting")
    session.delete(entry)
    session.flush()


def offer_freed_time(session: Session, org: Organisation, resource: Resource, now: datetime | None = None,
                     notify: Callable[[Booking], None] | None = None) -> list[Booking]:
    """Hold freed time for the first people waiting, in the order they joined, if every rule allows it."""
    now = now or utcnow()
    offered = []
    entries = session.execute(select(WaitlistEntry).where(
        WaitlistEntry.resource_id == resource.id, WaitlistEntry.status == "waiting",
        WaitlistEntry.starts_at > now).order_by(WaitlistEntry.created_at)).scalars().all()
    for entry in entries:
        try:
            with session.begin_nested():
                booking = services.create_booking(session, org, resource, entry.user, entry.starts_at,
                                                  entry.ends_at, now=now)
        except DomainError:
            continue  # still taken, or no longer allowed for this person: they keep waiting
        booking.status, booking.hold_expires_at = BookingStatus.HELD, now + WAITLIST_HOLD
        entry.status, entry.booking_id = "offered", booking.id
        offered.append(booking)
        if notify is not None:
            notify(booking)
    session.flush()
    return offered


def take_held(booking: Booking, user: User, now: datetime | None = None) -> None:
    """The person the time was held for takes it: confirmed, or awaiting payment beyond credits."""
    now = now or utcnow()
    if booking.user_id != user.id or booking.status != BookingStatus.HELD:
        raise DomainError(_("Nothing is held for you here."), code="not_held")
    if booking.hold_expires_at is not None and booking.hold_expires_at < now:
        raise DomainError(_("The hold ran out."), code="hold_expired")
    if booking.price > 0:
        booking.status = BookingStatus.AWAITING_PAYMENT
        booking.hold_expires_at = now + timedelta(minutes=services.HOLD_MINUTES)
    else:
        booking.status, booking.hold_expires_at = BookingStatus.CONFIRMED, None
        emit_for(booking, "booking.confirmed", *services.WEBHOOK_FIELDS)


def bookings_link(org: Organisation) -> str:
    """The address of *My bookings* in ``org``: from the request when there is one, else ``PUBLIC_URL``."""
    if has_request_context():
        return url_for("booking.mine", org_slug=org.slug, _external=True)
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}/o/{org.slug}/bookings"


def notify_offer(booking: Booking, link: str) -> None:
    """Mail the person a slot is held for, in their language, with ``link`` to their bookings."""
    from incubator.extensions import db

    session = db.session
    org = get_required(session, Organisation, booking.org_id)
    with force_locale(booking.user.locale or org.default_locale):
        subject = _("A slot you waited for is held for you: %(resource)s", resource=booking.resource.name)
        body = render_template("booking/email/offer.txt", booking=booking, link=link, org=org)
    send_mail(session, booking.user.email, subject, body)


def offer_waiting(session: Session, resource: Resource, now: datetime | None = None) -> int:
    """Offer the freed time of ``resource`` to its owner's waitlist, each offer mailed with a link to
    *My bookings* in the owner organisation (where the waitlist and the held booking are)."""
    owner = get_required(session, Organisation, resource.org_id)
    link = bookings_link(owner)
    return len(offer_freed_time(session, owner, resource, now,
                                notify=lambda booking: notify_offer(booking, link)))


def cancel(session: Session, booking: Booking, user: User, is_manager: bool, now: datetime | None = None) -> bool:
    """Cancel a booking (``services.cancel_booking``: the policy decides whether credits come back, answered)
    and offer its freed time to the waitlist of the resource, for the pages and the API alike.

    A booking of a shared resource belongs to its owner, as do the resource and its waitlist, so this
    spans organisations on purpose (``all_orgs``) when a partner's member cancels it."""
    with all_orgs(session):
        returned = services.cancel_booking(session, booking, user, is_manager, now)
        offer_waiting(session, booking.resource, now)
    return returned
