"""Paid, covered by credits and owed bookings look different in "My bookings" and in the API."""

from __future__ import annotations

import re
from datetime import timedelta

from incubator.accounts.services import create_api_token
from incubator.booking.models import Booking, BookingStatus
from incubator.ledger.models import Payment, PaymentStatus
from tests.booking.fixtures import next_weekday_at
from tests.conftest import login


def test_paid_credits_and_owed_bookings_are_told_apart(client, world, fablab, session):
    def booking(resource, day, status, price=0, credit_minutes=0):
        start = next_weekday_at(day, 10)
        b = Booking(org_id=world.org.id, resource_id=resource.id, user_id=world.founder.id,
                    startup_id=world.startup.id, starts_at=start, ends_at=start + timedelta(hours=1),
                    blocked_until=start + timedelta(hours=1), status=status, price=price,
                    credit_minutes=credit_minutes, currency="VND")
        session.add(b)
        session.flush()
        return b

    paid = booking(fablab.room, 0, BookingStatus.CONFIRMED, price=100_000)
    payment = Payment(org_id=world.org.id, booking_id=paid.id, user_id=world.founder.id, startup_id=world.startup.id,
                      description="Meeting room", amount=100_000, currency="VND", status=PaymentStatus.PAID,
                      destination_account="acct_test", idempotency_key="k-paid")
    covered = booking(fablab.printer, 1, BookingStatus.CONFIRMED, credit_minutes=60)
    owed = booking(fablab.room, 2, BookingStatus.AWAITING_PAYMENT, price=100_000)
    session.add(payment)
    session.flush()

    login(client, world.founder.email)
    html = client.get("/o/bbi/bookings").get_data(as_text=True)
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", html, re.S)[1:]:
        rows[re.search(r'data-money="(\w+)"', row).group(1)] = row
    assert set(rows) == {"paid", "credits", "to_pay"}
    assert "Paid" in rows["paid"] and f"/o/bbi/payments/{payment.id}/receipt.pdf" in rows["paid"]
    assert "To pay" not in rows["paid"] and "Pay now" not in rows["paid"]
    assert "Covered by credits" in rows["credits"] and "To pay" not in rows["credits"]
    assert "Pay now" not in rows["credits"]
    assert re.search(r"To pay [^<]*100[.,]000", rows["to_pay"]) and "Pay now" in rows["to_pay"]
    assert f"/o/bbi/bookings/{owed.id}/pay" in rows["to_pay"]

    token, _record = create_api_token(session, world.founder, "t")
    session.flush()
    listed = client.get("/api/v1/orgs/bbi/bookings?mine=1", headers={"Authorization": f"Bearer {token}"}).get_json()
    by_id = {b["id"]: (b["payment"], b["amount_due"]) for b in listed}
    assert by_id == {paid.id: ("paid", 0), covered.id: ("credits", 0), owed.id: ("to_pay", 100_000)}


def test_a_refunded_booking_says_so(client, world, fablab, session):
    start = next_weekday_at(3, 10)
    cancelled = Booking(org_id=world.org.id, resource_id=fablab.room.id, user_id=world.founder.id,
                        starts_at=start, ends_at=start + timedelta(hours=1), blocked_until=start + timedelta(hours=1),
                        status=BookingStatus.CANCELLED, price=100_000, currency="VND")
    session.add(cancelled)
    session.flush()
    session.add(Payment(org_id=world.org.id, booking_id=cancelled.id, user_id=world.founder.id, description="x",
                        amount=100_000, amount_refunded=100_000, currency="VND", status=PaymentStatus.REFUNDED,
                        destination_account="acct_test", idempotency_key="k-refunded"))
    session.flush()
    login(client, world.founder.email)
    html = client.get("/o/bbi/bookings").get_data(as_text=True)
    assert 'data-money="refunded"' in html and "Refunded" in html and "To pay" not in html
