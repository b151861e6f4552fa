"""Who may book lab time, in one place for the pages, the API and the templates.

A member books when their role allows it (``BOOK_RESOURCES``) and, unless they run the labs (staff,
managers and owners book without a startup, as before), when they are a founder of a startup of the
organisation they book through. A founder membership with no startup (e.g. someone who applied to a
call before applying stopped making members) books nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any

from flask import abort, current_app, g, render_template
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from incubator.accounts.models import User
from incubator.booking import sharing
from incubator.booking.models import HOLD_STATUSES, Booking, BookingStatus, Resource, WaitlistEntry
from incubator.cohorts.models import Startup, StartupFounder
from incubator.core import formatting
from incubator.core.db import get_required
from incubator.core.errors import Conflict, NotAllowed
from incubator.core.permissions import Permission
from incubator.core.tenancy import all_orgs
from incubator.extensions import db
from incubator.orgs.models import Organisation

DEFAULT_MAX_HOLDS = 3
DEFAULT_COOLDOWN = 120  # minutes before a hold that ran out can be taken again by the same person


def has_startup(session: Session, org: Organisation, user: User) -> bool:
    return session.execute(select(StartupFounder.id).join(Startup, Startup.id == StartupFounder.startup_id).where(
        Startup.org_id == org.id, StartupFounder.user_id == user.id).limit(1)).first() is not None


def booking_refusal(session: Session, org: Organisation, user: User, membership: Any) -> NotAllowed | None:
    """Why ``user`` (with ``membership`` of ``org``) may not book through ``org``, or None when they may."""
    if membership is None or not membership.has(Permission.BOOK_RESOURCES):
        return NotAllowed(_("Your role in this organisation does not allow booking."), code="not_allowed")
    if membership.has(Permission.MANAGE_RESOURCES):
        return None
    if not has_startup(session, org, user):
        return NotAllowed(_("Only founders of a startup of %(org)s can book lab time.", org=org.name),
                          code="no_startup")
    return None


def resource_refusals(session: Session, org: Organisation, user: User, membership: Any,
                      resources: list[Resource], on: Any) -> dict[int, str]:
    """Why ``user`` may not book each of ``resources`` (by id; a bookable one is absent): their role or
    their having no startup (``booking_refusal``), a resource that is switched off, or the training it
    needs that they do not hold valid on ``on``. The messages are the booking rules' own; one query for
    the person's certifications, whatever the number of resources (``resource.training`` loaded)."""
    from incubator.booking.models import Certification

    refusal = booking_refusal(session, org, user, membership)
    if refusal is not None:
        return {r.id: refusal.message for r in resources}
    needed = {r.training_id for r in resources if r.training_id is not None}
    trained = set(session.execute(select(Certification.training_id).where(
        Certification.user_id == user.id, Certification.training_id.in_(needed),
        Certification.expires_on >= on)).scalars()) if needed else set()
    reasons = {}
    for r in resources:
        if not r.active:
            reasons[r.id] = _("This resource cannot be booked at the moment.")
        elif r.training_id is not None and r.training_id not in trained:
            reasons[r.id] = _("You need a valid “%(training)s” certification to book this machine.",
                              training=r.training.name if r.training is not None else "")
    return reasons


def may_book() -> bool:
    """For templates: whether the current member may book through the current organisation."""
    from incubator.extensions import db

    if g.get("may_book") is None:
        g.may_book = booking_refusal(db.session, g.org, current_user, g.get("membership")) is None
    return g.may_book


def require_booking(view: Callable[..., Any]) -> Callable[..., Any]:
    """Pages that book: a member who may not answers 403 with the reason."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from incubator.extensions import db

        refusal = booking_refusal(db.session, g.org, current_user, g.get("membership"))
        if refusal is not None:
            return render_template("errors/error.html", status=403, title=_("Not allowed"), text=refusal.message,
                                   code=refusal.code), 403
        return view(*args, **kwargs)

    return wrapper


# -- holds ------------------------------------------------------------------------------------------

def max_holds() -> int:
    return int(current_app.config.get("MAX_HOLDS_PER_USER", DEFAULT_MAX_HOLDS))


def check_holds(session: Session, org: Organisation, user: User, now: Any) -> None:
    """A person holds at most ``MAX_HOLDS_PER_USER`` bookings awaiting payment (or held for them from the
    waitlist) at once in an organisation.

    The person's row is locked first (PostgreSQL; SQLite's write lock does the same), so two requests
    of the same person cannot both take the last place."""
    session.execute(select(User.id).where(User.id == user.id).with_for_update(key_share=True))
    held = session.execute(select(func.count()).select_from(Booking).where(
        Booking.org_id == org.id, Booking.user_id == user.id, Booking.status.in_(HOLD_STATUSES),
        # all_orgs: holds at a shared lab are its owner's rows
        Booking.hold_expires_at > now).execution_options(all_orgs=True)).scalar_one()
    if held >= max_holds():
        raise Conflict(_("You already hold %(n)d bookings awaiting payment: pay or cancel one first.", n=held),
                       code="too_many_holds")


def renewal_cooldown() -> timedelta:
    return timedelta(minutes=int(current_app.config.get("HOLD_RENEWAL_COOLDOWN_MINUTES") or DEFAULT_COOLDOWN))


def check_renewal(session: Session, resource: Resource, user: User, starts_at: datetime, blocked_until: datetime,
                  now: datetime) -> None:
    """A hold cannot be renewed: whoever let a hold of this resource run out unpaid (or cancelled it
    unpaid) cannot hold an overlapping time again until the cool-down passes, so someone else can."""
    released_at = func.coalesce(Booking.cancelled_at, Booking.hold_expires_at)
    last = session.execute(select(func.max(released_at)).where(
        Booking.resource_id == resource.id, Booking.user_id == user.id,
        # released, or a hold that ran out and that nothing has released yet (the periodic job will)
        or_(Booking.status.in_((BookingStatus.EXPIRED, BookingStatus.CANCELLED)),
            and_(Booking.status.in_(HOLD_STATUSES), Booking.hold_expires_at < now)),
        Booking.hold_expires_at.is_not(None),
        Booking.starts_at < blocked_until, Booking.blocked_until > starts_at,
        # all_orgs: a shared lab's bookings are its owner's rows
        released_at > now - renewal_cooldown()).execution_options(all_orgs=True)).scalar_one()
    if last is not None:
        if last.tzinfo is None:  # SQLite answers aggregates without their time zone
            last = last.replace(tzinfo=UTC)
        raise Conflict(_("Your hold on this time ended unpaid; you can hold it again from %(time)s.",
                         time=formatting.time_(last + renewal_cooldown())), code="hold_renewal")


# -- loaders for the pages and the API of booking and payments ----------------------------------------

def shared_or_404(resource_id: int) -> tuple[Any, Resource, Organisation]:
    if not 0 < resource_id < 2**31:
        abort(404)
    share = sharing.share_for(db.session, g.org, resource_id)
    if share is None:
        abort(404)
    with all_orgs(db.session):  # a shared resource and its owner belong to another organisation
        resource = get_required(db.session, Resource, share.resource_id)
        owner = get_required(db.session, Organisation, share.org_id)
        _ = resource.hours, resource.lab, resource.training  # loaded while the filter is lifted
    return share, resource, owner


def booking_or_404(booking_id: int) -> Booking:
    """A booking of this organisation, or one made from it of a resource another organisation shares
    with it (such a booking belongs to the owner, with ``partner_org_id`` naming this organisation)."""
    if not 0 < booking_id < 2**31:
        abort(404)
    booking = db.session.execute(select(Booking).where(Booking.id == booking_id, or_(
        # all_orgs: a partner's booking is held by the lab's owner
        Booking.org_id == g.org.id, Booking.partner_org_id == g.org.id)).execution_options(all_orgs=True)
    ).scalar_one_or_none()
    if booking is None:
        abort(404)
    return booking


def manages(membership: Any, booking: Booking) -> bool:
    """Whether the member runs the labs the booking belongs to (a partner's staff do not run the owner's)."""
    return membership is not None and booking.org_id == g.org.id and membership.has(Permission.MANAGE_RESOURCES)


def may_see_booking(user: User, membership: Any, booking: Booking) -> bool:
    """Those who run the labs see their bookings; everyone else their own."""
    return manages(membership, booking) or booking.user_id == user.id


def visible_booking_or_404(booking_id: int, user: User, membership: Any) -> Booking:
    """A booking the member may see (``may_see_booking``), or 404, for the pages and the API."""
    booking = booking_or_404(booking_id)
    if not may_see_booking(user, membership, booking):
        abort(404)
    return booking


def may_cancel(user: User, membership: Any, booking: Booking) -> bool:
    return booking.can_cancel(user, manages(membership, booking))


def may_take(user: User, booking: Booking) -> bool:
    """A slot freed from the waitlist is held for one person, who may take it."""
    return booking.user_id == user.id and booking.status == BookingStatus.HELD


def resource_or_404(resource_id: int, *options: Any) -> Resource:
    """A resource of this organisation, active or not (the pages and the managers' API); ``options``
    load what the caller shows with it in the same query (the week grid: lab, training, hours)."""
    if not 0 < resource_id < 2**31:
        abort(404)
    resource = db.session.execute(select(Resource).where(Resource.id == resource_id, Resource.org_id == g.org.id)
                                  .options(*options)).unique().scalar_one_or_none()
    if resource is None:
        abort(404)
    return resource


def bookable_resource_or_404(resource_id: int, membership: Any) -> tuple[Resource, Any, Organisation]:
    """A resource to book from this organisation: one of its own that is active, or an active one another
    organisation shares with it (for members who book): (resource, share or None, owner). A member who
    may not book through this organisation (``booking_refusal``: their role, or a founder of no startup)
    gets 403 for a shared one, as on the shared pages."""
    if not 0 < resource_id < 2**31:
        abort(404)
    own = db.session.execute(select(Resource).where(Resource.id == resource_id, Resource.org_id == g.org.id,
                                                    Resource.active.is_(True))).scalar_one_or_none()
    if own is not None:
        return own, None, g.org
    share, resource, owner = shared_or_404(resource_id)
    if not resource.active:
        abort(404)
    refusal = booking_refusal(db.session, g.org, current_user, membership)
    if refusal is not None:
        raise refusal
    return resource, share, owner


def waitlist_entry_or_404(entry_id: int, user: User) -> WaitlistEntry:
    """A person's own place in a waitlist of this organisation."""
    if not 0 < entry_id < 2**31:
        abort(404)
    entry = db.session.execute(select(WaitlistEntry).where(
        WaitlistEntry.id == entry_id, WaitlistEntry.org_id == g.org.id, WaitlistEntry.user_id == user.id)
    ).scalar_one_or_none()
    if entry is None:
        abort(404)
    return entry


def template_predicates() -> dict[str, Any]:
    """The rules the booking templates ask, for the current member."""
    return {"may_book": may_book,
            "may_cancel": lambda booking: may_cancel(current_user, g.get("membership"), booking),
            "may_take": lambda booking: may_take(current_user, booking)}


def owner_of(booking: Booking) -> Organisation:
    """The organisation a booking belongs to (and whose account its payment goes to)."""
    org: Organisation = g.org
    return org if booking.org_id == org.id else get_required(db.session, Organisation, booking.org_id)
