"""Which payments a caller may see and refund: one place for the pages and the API.

A payment belongs to the organisation that received it. The caller sees it if they manage payments
there, paid it, or founded the startup it was for; a payment made from this organisation for a partner's
shared resource (it belongs to the owner) is seen by its payer only. Refunds are for managers of the
receiving organisation (``@require(Permission.MANAGE_PAYMENTS)`` on both doors) and follow
``services.refund``'s rule: a paid payment, what is left of it, once. The list of one's own payments is
open to any signed-in person, member or not (an applicant who paid a call's fee), on both doors.
"""

from __future__ import annotations

from typing import Any

from flask import abort, g
from flask_login import current_user
from sqlalchemy import or_, select

from incubator.booking.access import booking_or_404
from incubator.booking.models import Booking
from incubator.cohorts.models import StartupFounder
from incubator.core.permissions import Permission, can
from incubator.core.tenancy import get_or_404
from incubator.extensions import db
from incubator.ledger.models import Payment


def is_founder_of(startup_id: int | None) -> bool:
    return startup_id is not None and db.session.execute(select(StartupFounder.user_id).where(
        StartupFounder.startup_id == startup_id, StartupFounder.user_id == current_user.id)).first() is not None


def visible(payment: Payment) -> bool:
    if payment.org_id != g.org.id:  # a partner's payment to the owner of a shared resource: the payer's
        return payment.user_id == current_user.id
    return can(Permission.MANAGE_PAYMENTS) or payment.user_id == current_user.id or is_founder_of(payment.startup_id)


def payment_or_404(payment_id: int) -> Payment:
    """A payment of this organisation, or one made from it for a booking of a resource shared with it
    (the payment, like the booking, belongs to the owner), if the current user may see it."""
    if not 0 < payment_id < 2**31:
        abort(404)
    payment = db.session.execute(select(Payment).outerjoin(Booking, Booking.id == Payment.booking_id).where(
        Payment.id == payment_id, or_(Payment.org_id == g.org.id, Booking.partner_org_id == g.org.id))
        # all_orgs: a partner's payment for a shared resource is held by its owner
        .execution_options(all_orgs=True)).scalar_one_or_none()
    if payment is None or not visible(payment):
        abort(404)
    return payment


def booking_to_pay_or_404(booking_id: int) -> Booking:
    """A booking the caller pays, for the page and the API: one of this organisation's (or one made from
    it of a resource another organisation shares, ``booking_or_404``) that is their own. Both doors first
    ask for ``@require(Permission.BOOK_RESOURCES)``: a member whose role books nothing gets 403."""
    booking = booking_or_404(booking_id)
    if booking.user_id != current_user.id:
        abort(404)
    return booking


def refundable_or_404(payment_id: int) -> Payment:
    """A payment a manager may refund: one this organisation received (the caller holds MANAGE_PAYMENTS)."""
    return get_or_404(Payment, payment_id)


def sees_everyone() -> Any:
    """Managers list the organisation's payments; everyone else their own."""
    return can(Permission.MANAGE_PAYMENTS)
