"""Demo payments: each incubator's (made-up) Stripe account, the second one (tdmu) on payOS into its
(made-up) bank account, through the fake payOS while no credentials are entered; and the priced bookings
the demo confirmed, paid, each with its receipt."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from incubator.booking.models import Booking, BookingStatus
from incubator.core import formatting
from incubator.ledger.models import LedgerEntry, LedgerKind, Payment, PaymentStatus
from incubator.orgs.models import Organisation
from incubator.payments.models import GatewayChoice, PaymentAccount

PAYOS_ORGS = {"tdmu"}
PAYOS_DEMO = {"gateway": GatewayChoice.PAYOS, "bank_bin": "970436", "bank_account": "0271000123456",
              "bank_account_name": "TRUONG DAI HOC THU DAU MOT"}


def seed(session: Session, orgs: list[Organisation]) -> None:
    """Connect each incubator's account, and pay every priced booking the demo confirmed, each with its
    ledger row and receipt: a confirmed booking with a price was paid, as in real use."""
    for org in orgs:
        if session.execute(select(PaymentAccount.id).where(PaymentAccount.org_id == org.id)).first() is None:
            session.add(PaymentAccount(org_id=org.id, stripe_account_id=f"acct_demo{org.slug.upper()}",
                                       **(PAYOS_DEMO if org.slug in PAYOS_ORGS else {})))
    by_id = {org.id: org for org in orgs}
    unpaid = session.execute(select(Booking).where(
        Booking.org_id.in_(by_id), Booking.price > 0,
        Booking.status.in_((BookingStatus.CONFIRMED, BookingStatus.COMPLETED)),
        ~select(Payment.id).where(Payment.booking_id == Booking.id).exists())
        # all_orgs: the demo pays bookings of every organisation
        .order_by(Booking.starts_at).execution_options(all_orgs=True)).scalars().all()
    for booking in unpaid:
        _pay(session, booking, by_id[booking.org_id])


def _pay(session: Session, booking: Booking, org: Organisation) -> None:
    paid_at = booking.created_at - timedelta(minutes=5) if booking.created_at else None
    when = formatting.datetime_(booking.starts_at, tz=org.timezone)
    on_payos = org.slug in PAYOS_ORGS
    payment = Payment(org_id=booking.org_id, booking_id=booking.id, user_id=booking.user_id,
                      startup_id=booking.startup_id, description=f"{booking.resource.name}, {when}",
                      amount=booking.price, currency=booking.currency, gateway="payos" if on_payos else "stripe",
                      destination_account="payos:test" if on_payos else f"acct_demo{org.slug.upper()}",
                      idempotency_key=f"booking-{booking.id}-checkout",
                      checkout_session_id=None if on_payos else f"cs_demo_{booking.id}",
                      payment_intent_id=f"payos_demo_{booking.id}" if on_payos else f"pi_demo_{booking.id}",
                      status=PaymentStatus.PAID, paid_at=paid_at)
    session.add(payment)
    session.flush()
    session.add(LedgerEntry(org_id=booking.org_id, kind=LedgerKind.PAYMENT, startup_id=booking.startup_id,
                            amount=booking.price, currency=booking.currency, booking_id=booking.id,
                            payment_id=payment.id, reference=f"payment:{payment.payment_intent_id}"))
    session.flush()
