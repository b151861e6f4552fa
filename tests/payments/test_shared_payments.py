"""A partner organisation's booking of a shared resource is paid from the partner's own pages and API,
into the owner's connected account at the partner rate; the receipts and the owner's report show it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from incubator.accounts.services import create_api_token
from incubator.booking.models import Booking, BookingStatus, ResourceShare
from incubator.cohorts.models import Startup, StartupFounder
from incubator.core.permissions import Role
from incubator.ledger.models import Payment
from tests.booking.fixtures import next_weekday_at
from tests.conftest import csrf_token, login
from tests.factories import OrgFactory, member
from tests.payments.fixtures import deliver


@pytest.fixture()
def partner(paying, fablab, session):
    """bbi (connected to acct_1TestBBI) shares its meeting room with TDMU at 150,000 ₫ an hour; two TDMU
    founders, each of a startup of their own (booking needs one)."""
    tdmu = OrgFactory(slug="tdmu", name="TDMU")
    founder, colleague = member(tdmu, Role.FOUNDER), member(tdmu, Role.FOUNDER)
    for user, name in ((founder, "MouldTech"), (colleague, "PlastiCo")):
        startup = Startup(org_id=tdmu.id, name=name)
        session.add_all([startup, StartupFounder(org_id=tdmu.id, startup=startup, user=user)])
    fablab.room.price_partner = 150_000
    session.add(ResourceShare(org_id=paying.org.id, resource_id=fablab.room.id, partner_org_id=tdmu.id))
    session.flush()
    token, _record = create_api_token(session, founder, "t")
    session.flush()
    return founder, colleague, {"Authorization": f"Bearer {token}"}


def _book(client, fablab, headers) -> int:
    start = next_weekday_at(1, 10)
    created = client.post("/api/v1/orgs/tdmu/bookings", headers=headers, json={
        "resource_id": fablab.room.id, "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=2)).isoformat()})
    assert created.status_code == 201 and created.get_json()["status"] == "awaiting_payment"
    return created.get_json()["id"]


def test_a_partner_pays_over_the_api_into_the_owners_account(client, session, paying, fablab, partner, fake):
    founder, _colleague, headers = partner
    booking_id = _book(client, fablab, headers)
    checkout = client.post(f"/api/v1/orgs/tdmu/bookings/{booking_id}/checkout", headers=headers)
    assert checkout.status_code == 200, checkout.get_json()
    raw = fake.raw(checkout.get_json()["session_id"])
    assert (raw["amount_total"], raw["destination"]) == (300_000, "acct_1TestBBI")  # the partner rate, the owner's
    again = client.post(f"/api/v1/orgs/tdmu/bookings/{booking_id}/checkout", headers=headers)
    assert again.get_json()["session_id"] == raw["id"]
    fake.complete(raw["id"])
    deliver(client, fake)
    assert session.get(Booking, booking_id).status == BookingStatus.CONFIRMED
    payment = session.execute(select(Payment).where(Payment.booking_id == booking_id)).scalar_one()
    assert (payment.org_id, payment.status, payment.amount) == (paying.org.id, "paid", 300_000)
    listed = client.get("/api/v1/orgs/tdmu/payments", headers=headers).get_json()
    assert [(p["booking_id"], p["status"]) for p in listed] == [(booking_id, "paid")]


def test_a_partner_pays_from_their_own_pages_and_keeps_the_receipt(client, session, paying, fablab, partner, fake):
    founder, colleague, headers = partner
    booking_id = _book(client, fablab, headers)
    login(client, founder.email)
    mine = client.get("/o/tdmu/bookings").get_data(as_text=True)
    assert f"/o/tdmu/bookings/{booking_id}/pay" in mine and "Pay now" in mine
    to_checkout = client.post(f"/o/tdmu/bookings/{booking_id}/pay",
                              data={"csrf_token": csrf_token(client, "/o/tdmu/bookings")})
    assert to_checkout.status_code == 302 and "/payments/test-checkout/" in to_checkout.location
    fake.complete(to_checkout.location.rsplit("/", 1)[1])
    deliver(client, fake)
    payment = session.execute(select(Payment).where(Payment.booking_id == booking_id)).scalar_one()
    status = client.get(f"/o/tdmu/payments/{payment.id}")
    assert status.status_code == 200 and 'data-status="paid"' in status.get_data(as_text=True)
    assert payment.receipt_number in client.get("/o/tdmu/receipts").get_data(as_text=True)
    pdf = client.get(f"/o/tdmu/payments/{payment.id}/receipt.pdf")
    assert pdf.status_code == 200 and pdf.data[:5] == b"%PDF-"
    login(client, colleague.email)  # another member of the partner sees nothing of it
    assert client.get(f"/o/tdmu/payments/{payment.id}").status_code == 404
    assert client.get(f"/o/tdmu/payments/{payment.id}/receipt.pdf").status_code == 404
    login(client, paying.manager.email)  # the owner's report counts the money it received
    report = client.get("/o/bbi/manage/payments").get_data(as_text=True)
    assert payment.receipt_number in report and "₫300,000" in report


def test_others_cannot_pay_a_partner_booking(client, session, paying, fablab, partner, fake):
    founder, colleague, headers = partner
    booking_id = _book(client, fablab, headers)
    token, _record = create_api_token(session, colleague, "t")
    session.flush()
    other = {"Authorization": f"Bearer {token}"}
    assert client.post(f"/api/v1/orgs/tdmu/bookings/{booking_id}/checkout", headers=other).status_code == 404
    assert client.post(f"/api/v1/orgs/bbi/bookings/{booking_id}/checkout", headers=headers).status_code == 404
    assert session.execute(select(Payment)).first() is None
