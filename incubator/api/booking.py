"""Bookings, the waitlist and the lab read-outs over the API: the same loaders and rules as the pages
(``booking.access``), the same service calls, the same error codes.

This module is the ``api_booking`` blueprint that ``incubator.api.init_app`` registers: the blueprint
itself and what the operations share are in ``booking_common``; importing this module registers the
operations of ``booking_resources`` (labs, resources, closures, shares) and ``booking_trainings``
(trainings, certifications) too. Schemas are in ``booking_schemas``.
"""

from __future__ import annotations

from typing import Any

from flask import abort, g
from flask_smorest.pagination import PaginationParameters
from sqlalchemy import or_, select

from incubator.api import booking_resources, booking_trainings  # noqa: F401  (their operations join this blueprint)
from incubator.api.booking_common import (
    BOOKERS,
    FORBIDDEN,
    MANAGERS,
    NOT_FOUND,
    _booking,
    _booking_out,
    _created,
    _month,
    _refuse_booking,
    _slice,
    bp,
    errors,
    found_first,
)
from incubator.api.booking_schemas import (
    ApprovalIn,
    BookingIn,
    BookingOut,
    BookingsQuery,
    MonthQuery,
    PartnerUsageOut,
    QuoteOut,
    UsageOut,
    WaitlistIn,
    WaitlistOut,
    WeeklyIn,
    WeeklyOut,
)
from incubator.api.paging import api_page
from incubator.booking import services, sharing, usage, waitlist
from incubator.booking.access import (
    bookable_resource_or_404,
    manages,
    resource_or_404,
    visible_booking_or_404,
    waitlist_entry_or_404,
)
from incubator.booking.billing import money_for
from incubator.booking.models import Booking, WaitlistEntry
from incubator.core.permissions import Permission, require
from incubator.core.tenancy import all_orgs
from incubator.core.timezones import add_months
from incubator.extensions import db
from incubator.orgs.models import Organisation

# -- read-outs --------------------------------------------------------------------------------------

@bp.route("/partner-usage")
@require(Permission.MANAGE_RESOURCES)
@bp.arguments(MonthQuery, location="query")
@bp.response(200, PartnerUsageOut(many=True))
@bp.paginate()
@errors(NOT_FOUND, MANAGERS, (422, "Invalid month"))
def partner_usage(query: dict[str, Any], pagination_parameters: PaginationParameters) -> Any:
    """The month's usage statement per partner organisation (what the partner-usage page shows)."""
    lines = sharing.partner_statement(db.session, g.org, _month(query))
    slugs = dict(db.session.execute(select(Organisation.id, Organisation.slug).where(
        Organisation.id.in_([line["partner_org_id"] for line in lines]))).all())
    return _slice([{**line, "partner_org": slugs.get(line["partner_org_id"], "")} for line in lines],
                  pagination_parameters)


@bp.route("/utilisation")
@require(Permission.MANAGE_RESOURCES)
@bp.arguments(MonthQuery, location="query")
@bp.response(200, UsageOut(many=True))
@bp.paginate()
@errors(NOT_FOUND, MANAGERS, (422, "Invalid month"))
def utilisation(query: dict[str, Any], pagination_parameters: PaginationParameters) -> Any:
    """Minutes booked and used in the month per resource, startup and cohort (the utilisation page)."""
    month = _month(query)
    return _slice(usage.utilisation(db.session, g.org, month, add_months(month, 1)), pagination_parameters)


# -- bookings ---------------------------------------------------------------------------------------

BOOKING_REFUSALS = (
    (409, "`slot_taken`: the time overlaps another booking; `too_many_holds`: as many bookings await "
          "payment as one person may hold; `hold_renewal`: this person's hold of the time ran out unpaid"),
    (422, "A booking rule said no; `code` says which (outside_opening_hours, training_required, too_long, "
          "too_short, too_far_ahead, too_late_notice, quota_exceeded, closed, not_on_slot, ...)"),
)


@bp.route("/bookings", methods=["POST"])
@require(Permission.BOOK_RESOURCES)
@bp.arguments(BookingIn)
@bp.response(201, BookingOut)
@errors(NOT_FOUND, BOOKERS, *BOOKING_REFUSALS)
def create_booking(data: dict[str, Any]) -> Any:
    _refuse_booking()
    resource, share, owner = bookable_resource_or_404(data["resource_id"], g.membership)
    with all_orgs(db.session):  # a shared resource's bookings belong to its owner
        booking = services.create_booking(
            db.session, owner, resource, g.api_user, data["starts_at"], data["ends_at"], note=data["note"],
            is_staff=share is None and g.membership.has(Permission.MANAGE_RESOURCES), share=share)
        body = _booking_out(booking)
    return _created(body, "api_booking.get_booking", booking_id=booking.id)


@bp.route("/bookings/quote", methods=["POST"])
@require(Permission.BOOK_RESOURCES)
@bp.arguments(BookingIn)
@bp.response(200, QuoteOut)
@errors(NOT_FOUND, BOOKERS, BOOKING_REFUSALS[1])
def quote_booking(data: dict[str, Any]) -> Any:
    """What ``POST /bookings`` with this body would charge: the price, the credits it uses and leaves,
    the weekly quota left, by the same code that charges it. Nothing is booked; the overlap is only
    known when booking."""
    _refuse_booking()
    resource, share, owner = bookable_resource_or_404(data["resource_id"], g.membership)
    with all_orgs(db.session):  # a shared resource's bookings belong to its owner
        offer = services.quote_booking(
            db.session, owner, resource, g.api_user, data["starts_at"], data["ends_at"],
            is_staff=share is None and g.membership.has(Permission.MANAGE_RESOURCES), share=share)
    return {"minutes": offer.minutes, "credit_minutes": offer.credit_minutes, "price": offer.price,
            "currency": offer.currency, "credits_before": offer.credits_before, "credits_after": offer.credits_after,
            "quota_minutes": offer.quota_minutes, "quota_left": offer.quota_left, "status": offer.status.value}


@bp.route("/bookings/weekly", methods=["POST"])
@require(Permission.BOOK_RESOURCES)
@bp.arguments(WeeklyIn)
@bp.response(201, WeeklyOut)
@errors(NOT_FOUND, BOOKERS, *BOOKING_REFUSALS)
def create_weekly(data: dict[str, Any]) -> Any:
    """The same time every week (as the booking page offers): all or nothing, or skipping the weeks that
    cannot be booked (each listed with its reason). A resource of this organisation only."""
    _refuse_booking()
    resource = resource_or_404(data["resource_id"])
    made, skipped = services.create_weekly(
        db.session, g.org, resource, g.api_user, data["starts_at"], data["ends_at"], data["weeks"],
        skip_conflicts=data["skip_conflicts"], is_staff=g.membership.has(Permission.MANAGE_RESOURCES),
        note=data["note"])
    if not made:
        raise skipped[0][1]
    money = money_for(db.session, made)
    body = {"bookings": [_booking_out(b, money[b.id]) for b in made],
            "skipped": [{"starts_at": start, "code": error.code, "message": error.message}
                        for start, error in skipped]}
    return _created(body, "api_booking.get_booking", booking_id=made[0].id)


@bp.route("/bookings")
@require(Permission.VIEW_DASHBOARD)
@bp.arguments(BookingsQuery, location="query")
@bp.response(200, BookingOut(many=True))
@bp.paginate()
@errors(NOT_FOUND, FORBIDDEN)
def list_bookings(query: dict[str, Any], pagination_parameters: PaginationParameters) -> Any:
    """Those who run the labs see the organisation's bookings; everyone (or ``mine=1``) their own, shared
    labs included. Filters: ``status``, ``resource_id``, and bookings overlapping ``from``/``to``."""
    if query["mine"] or not g.membership.has(Permission.MANAGE_RESOURCES):
        stmt = select(Booking).where(Booking.user_id == g.api_user.id, or_(
            # all_orgs: a partner's bookings of shared labs are their owners' rows
            Booking.org_id == g.org.id, Booking.partner_org_id == g.org.id)).execution_options(all_orgs=True)
    else:
        stmt = select(Booking).where(Booking.org_id == g.org.id)
    if "status" in query:
        stmt = stmt.where(Booking.status == query["status"])
    if "resource_id" in query:
        stmt = stmt.where(Booking.resource_id == query["resource_id"])
    if "from_" in query:
        stmt = stmt.where(Booking.ends_at > query["from_"])
    if "to" in query:
        stmt = stmt.where(Booking.starts_at < query["to"])
    rows = api_page(stmt.order_by(Booking.starts_at.desc(), Booking.id.desc()), pagination_parameters)
    money = money_for(db.session, rows)
    return [_booking_out(b, money[b.id]) for b in rows]


@bp.route("/bookings/<int:booking_id>")
@require(Permission.VIEW_DASHBOARD)
@bp.response(200, BookingOut)
@errors(NOT_FOUND, FORBIDDEN)
def get_booking(booking_id: int) -> Any:
    """A booking the caller may see: their own, or any of the labs they run."""
    return _booking_out(visible_booking_or_404(booking_id, g.api_user, g.membership))


@bp.route("/bookings/<int:booking_id>/cancel", methods=["POST"])
@require(Permission.VIEW_DASHBOARD)
@bp.response(200, BookingOut)
@errors(NOT_FOUND, FORBIDDEN, (422, "Not cancellable"),
        (502, "A paid booking's refund failed: nothing was cancelled"))
def cancel(booking_id: int) -> Any:
    """Cancel; the freed time is offered to the waitlist (``waitlist.cancel``, as on the pages)."""
    booking = visible_booking_or_404(booking_id, g.api_user, g.membership)
    waitlist.cancel(db.session, booking, g.api_user, manages(g.membership, booking))
    return _booking_out(booking)


@bp.route("/bookings/<int:booking_id>/approval", methods=["POST"])
@require(Permission.MANAGE_RESOURCES)
@found_first(booking_id=_booking)
@bp.arguments(ApprovalIn)
@bp.response(200, BookingOut)
@errors(NOT_FOUND, MANAGERS, (422, "`not_pending`: the booking does not wait for approval; or an invalid decision"))
def decide_approval(data: dict[str, Any], booking_id: int) -> Any:
    """Approve (confirmed, or awaiting payment when priced) or decline a booking waiting for approval."""
    booking = _booking(booking_id)
    services.decide_approval(booking, data["decision"] == "approve")
    return _booking_out(booking)


@bp.route("/bookings/<int:booking_id>/check-in", methods=["POST"])
@require(Permission.VIEW_DASHBOARD)
@bp.response(200, BookingOut)
@errors(NOT_FOUND, (403, "`not_yours`: someone else's booking"),
        (422, "`not_confirmed`, or `not_now`: from 15 minutes before the start until the end"))
def check_in(booking_id: int) -> Any:
    booking = visible_booking_or_404(booking_id, g.api_user, g.membership)
    services.check_in(booking, g.api_user, manages(g.membership, booking))
    return _booking_out(booking)


@bp.route("/bookings/<int:booking_id>/take", methods=["POST"])
@require(Permission.BOOK_RESOURCES)
@bp.response(200, BookingOut)
@errors(NOT_FOUND, BOOKERS, (422, "`not_held`: nothing is held for the caller; `hold_expired`: the hold ran out"))
def take(booking_id: int) -> Any:
    """Take the slot the waitlist held for the caller: confirmed, or awaiting payment when priced."""
    _refuse_booking()
    booking = visible_booking_or_404(booking_id, g.api_user, g.membership)
    if booking.user_id != g.api_user.id:  # a manager sees it, but it is held for its booker
        abort(404)
    waitlist.take_held(booking, g.api_user)
    return _booking_out(booking)


# -- waitlist ---------------------------------------------------------------------------------------

@bp.route("/waitlist")
@require(Permission.VIEW_DASHBOARD)
@bp.response(200, WaitlistOut(many=True))
@bp.paginate()
@errors(NOT_FOUND, FORBIDDEN)
def list_waitlist(pagination_parameters: PaginationParameters) -> Any:
    """The caller's places in this organisation's waitlists."""
    return api_page(select(WaitlistEntry).where(WaitlistEntry.org_id == g.org.id,
                                                WaitlistEntry.user_id == g.api_user.id)
                    .order_by(WaitlistEntry.starts_at.desc(), WaitlistEntry.id), pagination_parameters)


@bp.route("/resources/<int:resource_id>/waitlist", methods=["POST"])
@require(Permission.BOOK_RESOURCES)
@found_first(resource_id=resource_or_404)
@bp.arguments(WaitlistIn)
@bp.response(201, WaitlistOut)
@errors(NOT_FOUND, BOOKERS, (422, "`invalid_range`: choose a time in the future"))
def join_waitlist(data: dict[str, Any], resource_id: int) -> Any:
    """Wait for a taken time: when it frees up, it is held for the first in line, who gets an email."""
    _refuse_booking()
    resource = resource_or_404(resource_id)
    entry = waitlist.join_waitlist(db.session, g.org, resource, g.api_user, data["starts_at"], data["ends_at"])
    return _created(entry, "api_booking.list_waitlist")


@bp.route("/waitlist/<int:waitlist_entry_id>", methods=["DELETE"])
@require(Permission.VIEW_DASHBOARD)
@bp.response(204)
@errors(NOT_FOUND, FORBIDDEN, (409, "`not_waiting`: the time was already offered"))
def leave_waitlist(waitlist_entry_id: int) -> Any:
    waitlist.leave_waitlist(db.session, waitlist_entry_or_404(waitlist_entry_id, g.api_user), g.api_user)
    return None
