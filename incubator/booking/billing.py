"""What a booking costs its booker, as lists show it: paid (with its receipt), covered by credits, to pay,
refunded, or nothing. Pages and the API read it from here so that paid and owed never look alike."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from incubator.booking.models import Booking, BookingStatus
from incubator.ledger.models import Payment, PaymentStatus

OWING = (BookingStatus.AWAITING_PAYMENT, BookingStatus.PENDING_APPROVAL, BookingStatus.HELD)


class MoneyState(StrEnum):
    PAID = "paid"  # a settled payment: its receipt is there
    REFUNDED = "refunded"  # paid, then all given back
    CREDITS = "credits"  # no price: the cohort's credits cover it
    TO_PAY = "to_pay"  # a price still owed (payable once the booking awaits payment)
    INVOICED = "invoiced"  # confirmed with a price but no online payment (a partner's monthly statement)
    NONE = "none"  # free, or a booking that ended unpaid (cancelled, expired)


@dataclass(frozen=True)
class Money:
    state: MoneyState
    amount: int  # what was paid, refunded, is owed or invoiced (0 otherwise), minor units
    payment: Payment | None = None

    @property
    def payable(self) -> bool:
        return self.state == MoneyState.TO_PAY


def money_of(booking: Booking, payment: Payment | None) -> Money:
    if payment is not None and payment.status == PaymentStatus.REFUNDED:
        return Money(MoneyState.REFUNDED, payment.amount_refunded, payment)
    if payment is not None and payment.is_settled:
        return Money(MoneyState.PAID, payment.amount - payment.amount_refunded, payment)
    if booking.price > 0 and booking.status in OWING:
        return Money(MoneyState.TO_PAY, booking.price)
    if booking.price > 0 and booking.status in (BookingStatus.CONFIRMED, BookingStatus.COMPLETED,
                                                BookingStatus.NO_SHOW):
        return Money(MoneyState.INVOICED, booking.price)
    if booking.credit_minutes > 0 and booking.status not in (BookingStatus.CANCELLED, BookingStatus.EXPIRED):
        return Money(MoneyState.CREDITS, 0)
    return Money(MoneyState.NONE, 0)


def money_for(session: Session, bookings: list[Booking]) -> dict[int, Money]:
    """Each booking's money, in one query for their payments (a shared lab's belong to its owner)."""
    ids = [b.id for b in bookings]
    payments = {p.booking_id: p for p in session.execute(
        # all_orgs: a shared lab's payments are its owner's
        select(Payment).where(Payment.booking_id.in_(ids)).execution_options(all_orgs=True)).scalars()} if ids else {}
    return {b.id: money_of(b, payments.get(b.id)) for b in bookings}
