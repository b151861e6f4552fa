"""Deliveries racing each other (run on SQLite and PostgreSQL): the same event many times at once, and
the same news under many event ids at once, pay the booking exactly once.

These tests commit for real, outside the per-test transaction, and clean up after themselves.
"""

from __future__ import annotations

import threading
from datetime import time, timedelta

import pytest
from sqlalchemy import delete, func, select

from incubator.accounts.models import User
from incubator.booking.models import Booking, BookingStatus, Lab, OpeningHours, Resource
from incubator.cohorts.models import ResourceKind
from incubator.core.db import utcnow
from incubator.core.permissions import Role
from incubator.extensions import db
from incubator.orgs.models import Membership, Organisation
from incubator.payments.models import LedgerEntry, Payment, PaymentAccount, WebhookEvent
from tests.payments.fixtures import event, signed

THREADS = 12


@pytest.fixture()
def pending_payment(app, fake):
    """A committed booking awaiting payment, its open checkout, and the customer having paid it."""
    with app.app_context():
        s = db.session
        org = Organisation(slug="race-pay", name="Race pay")
        user = User(email="payer@example.org", name="Payer", password_hash="x")
        s.add_all([org, user])
        s.flush()
        lab = Lab(org_id=org.id, name="Lab")
        resource = Resource(org_id=org.id, lab=lab, name="Room", kind=ResourceKind.ROOM, open_24h=True,
                            slot_minutes=30, min_minutes=30, max_minutes=240, min_notice_minutes=0)
        resource.hours = [OpeningHours(org_id=org.id, weekday=d, opens=time(0), closes=time(23, 59)) for d in range(7)]
        start = utcnow() + timedelta(days=3)
        booking = Booking(org_id=org.id, resource=resource, user_id=user.id, starts_at=start,
                          ends_at=start + timedelta(hours=1), blocked_until=start + timedelta(hours=1),
                          status=BookingStatus.AWAITING_PAYMENT, price=100_000, currency="VND",
                          hold_expires_at=utcnow() + timedelta(minutes=40))
        s.add_all([Membership(org=org, user=user, role=Role.FOUNDER), lab, resource, booking,
                   PaymentAccount(org_id=org.id, stripe_account_id="acct_1Race")])
        s.flush()
        checkout = fake.create_checkout(
            amount=100_000, currency="VND", description="Room", metadata={"booking_id": str(booking.id)},
            success_url="http://x/ok", cancel_url="http://x/no", expires_at=int((utcnow() + timedelta(minutes=31))
                                                                                 .timestamp()),
            destination="acct_1Race", application_fee=0, idempotency_key="race", customer_email=user.email)
        payment = Payment(org_id=org.id, booking_id=booking.id, user_id=user.id, description="Room", amount=100_000,
                          currency="VND", destination_account="acct_1Race", idempotency_key="race",
                          checkout_session_id=checkout.id, expires_at=utcnow() + timedelta(minutes=31))
        s.add(payment)
        s.commit()
        fake.complete(checkout.id)
        ids = {"org": org.id, "user": user.id, "booking": booking.id, "payment": payment.id, "session": checkout.id,
               "resource": resource.id}
    yield ids
    with app.app_context():
        s = db.session
        everything = {"all_orgs": True}
        s.execute(delete(LedgerEntry).where(LedgerEntry.org_id == ids["org"]).execution_options(**everything))
        s.execute(delete(WebhookEvent).where(WebhookEvent.payment_id == ids["payment"]))
        s.execute(delete(Payment).where(Payment.org_id == ids["org"]).execution_options(**everything))
        s.execute(delete(Booking).where(Booking.org_id == ids["org"]).execution_options(**everything))
        s.execute(delete(OpeningHours).where(OpeningHours.org_id == ids["org"]).execution_options(**everything))
        s.execute(delete(Resource).where(Resource.org_id == ids["org"]).execution_options(**everything))
        s.execute(delete(Lab).where(Lab.org_id == ids["org"]).execution_options(**everything))
        s.execute(delete(PaymentAccount).where(PaymentAccount.org_id == ids["org"]).execution_options(**everything))
        s.execute(delete(Membership).where(Membership.org_id == ids["org"]))
        s.execute(delete(User).where(User.id == ids["user"]))
        s.execute(delete(Organisation).where(Organisation.id == ids["org"]))
        s.commit()


def _race(app, bodies: list[str]) -> list[int]:
    statuses: list[int] = []
    barrier = threading.Barrier(len(bodies))

    def deliver(body: str) -> None:
        client = app.test_client()
        barrier.wait()
        statuses.append(client.post("/stripe/webhook", data=body, headers=signed(body)).status_code)

    threads = [threading.Thread(target=deliver, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return statuses


@pytest.mark.parametrize("same_id", [True, False], ids=["one event id", "many event ids"])
def test_racing_deliveries_pay_once(app, pending_payment, same_id):
    obj = {"id": pending_payment["session"], "object": "checkout.session"}
    bodies = [event("checkout.session.completed", obj, event_id="evt_race" if same_id else f"evt_race_{i}")
              for i in range(THREADS)]
    statuses = _race(app, bodies)
    assert statuses.count(200) == THREADS, statuses
    with app.app_context():
        s = db.session
        money = s.execute(select(func.count(), func.sum(LedgerEntry.amount)).where(
            LedgerEntry.payment_id == pending_payment["payment"]).execution_options(all_orgs=True)).one()
        assert tuple(money) == (1, 100_000)
        assert s.scalar(select(Booking.status).where(Booking.id == pending_payment["booking"])
                        .execution_options(all_orgs=True)) == BookingStatus.CONFIRMED
        events = s.scalar(select(func.count()).select_from(WebhookEvent)
                          .where(WebhookEvent.payment_id == pending_payment["payment"]))
        assert events == (1 if same_id else THREADS)
