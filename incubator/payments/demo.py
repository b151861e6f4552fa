"""Demo payments: each incubator's (made-up) Stripe account, and a paid booking with its receipt."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from incubator.accounts.models import User
from incubator.booking.models import Booking, BookingStatus
from incubator.core.timezones import to_local
from incubator.orgs.models import Organisation
from incubator.payments.models import LedgerEntry, LedgerKind, Payment, PaymentAccount, PaymentStatus


def seed(session: Session, orgs: list[Organisation], founder: User) -> None:
    for org in orgs:
        if session.execute(select(PaymentAccount.id).where(PaymentAccount.org_id == org.id)).first() is None:
            session.add(PaymentAccount(org_id=org.id, stripe_account_id=f"acct_demo{org.slug.upper()}"))
    booking = session.execute(select(Booking).where(
        Booking.user_id == founder.id, Booking.org_id == orgs[0].id, Booking.price > 0,
        Booking.status.in_((BookingStatus.CONFIRMED, BookingStatus.COMPLETED))).order_by(Booking.starts_at)
    ).scalars().first()
    if booking is None or session.execute(select(Payment.id).where(Payment.booking_id == booking.id)).first():
        return
    paid_at = booking.created_at - timedelta(minutes=5) if booking.created_at else None
    when = to_local(booking.starts_at, orgs[0].timezone)
    payment = Payment(org_id=booking.org_id, booking_id=booking.id, user_id=founder.id, startup_id=booking.startup_id,
                      description=f"{booking.resource.name}, {when:%Y-%m-%d %H:%M}",
                      amount=booking.price, currency=booking.currency,
                      destination_account=f"acct_demo{orgs[0].slug.upper()}",
                      idempotency_key=f"booking-{booking.id}-checkout", checkout_session_id=f"cs_demo_{booking.id}",
                      payment_intent_id=f"pi_demo_{booking.id}", status=PaymentStatus.PAID, paid_at=paid_at)
    session.add(payment)
    session.flush()
    session.add(LedgerEntry(org_id=booking.org_id, kind=LedgerKind.PAYMENT, startup_id=booking.startup_id,
                            amount=booking.price, currency=booking.currency, booking_id=booking.id,
                            payment_id=payment.id, reference=f"payment:{payment.payment_intent_id}"))
    session.flush()
