"""The payment pages: paying from "My bookings" through the test-payment page, receipts, the
organisation's report and CSV, and the connected account."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import select

import config
from incubator.booking.models import Booking, BookingStatus
from incubator.payments.models import PaymentAccount
from tests.conftest import csrf_token
from tests.payments.fixtures import book_room, deliver


def _pay_from_the_pages(client, sign_in, session, pay_api, world, fablab, fake):
    booking = book_room(pay_api, world.founder, fablab.room)
    sign_in(world.founder)
    mine = client.get("/o/bbi/bookings").get_data(as_text=True)
    assert f"/o/bbi/bookings/{booking['id']}/pay" in mine
    token = csrf_token(client, "/o/bbi/bookings")
    to_checkout = client.post(f"/o/bbi/bookings/{booking['id']}/pay", data={"csrf_token": token})
    assert to_checkout.status_code == 302 and "/payments/test-checkout/cs_test_" in to_checkout.location
    page = client.get(to_checkout.location)
    assert "Test payment page." in page.get_data(as_text=True)
    token = csrf_token(client, to_checkout.location)
    back = client.post(to_checkout.location, data={"csrf_token": token, "action": "pay"})
    assert back.status_code == 302 and re.search(r"/o/bbi/payments/\d+\?session_id=cs_test_", back.location)
    assert 'data-status="pending"' in client.get(back.location).get_data(as_text=True)
    deliver(client, fake)
    assert 'data-status="paid"' in client.get(back.location).get_data(as_text=True)
    return booking["id"], int(re.search(r"/payments/(\d+)", back.location).group(1))


def test_a_founder_pays_from_the_pages(client, sign_in, session, pay_api, paying, fablab, fake):
    booking_id, payment_id = _pay_from_the_pages(client, sign_in, session, pay_api, paying, fablab, fake)
    assert session.scalar(select(Booking.status).where(Booking.id == booking_id)) == BookingStatus.CONFIRMED
    receipts = client.get("/o/bbi/receipts").get_data(as_text=True)
    assert f"/o/bbi/payments/{payment_id}/receipt.pdf" in receipts
    own = client.get(f"/o/bbi/startups/{paying.startup.id}/receipts")
    assert own.status_code == 200 and f"/o/bbi/payments/{payment_id}/receipt.pdf" in own.get_data(as_text=True)
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/o/bbi/receipts")})
    sign_in(paying.other_founder)  # another startup's founder sees none of it
    assert client.get(f"/o/bbi/payments/{payment_id}").status_code == 404
    assert client.get(f"/o/bbi/payments/{payment_id}/receipt.pdf").status_code == 404
    assert client.get(f"/o/bbi/startups/{paying.startup.id}/receipts").status_code == 404


def test_declined_card_on_the_test_page(client, sign_in, session, pay_api, paying, fablab, fake):
    booking = book_room(pay_api, paying.founder, fablab.room)
    sign_in(paying.founder)
    location = client.post(f"/o/bbi/bookings/{booking['id']}/pay",
                           data={"csrf_token": csrf_token(client, "/o/bbi/bookings")}).location
    declined = client.post(location, data={"csrf_token": csrf_token(client, location), "action": "decline"})
    assert declined.status_code == 422 and "declined" in declined.get_data(as_text=True)


def test_the_manager_report_and_csv(client, sign_in, session, pay_api, paying, fablab, fake):
    booking_id, payment_id = _pay_from_the_pages(client, sign_in, session, pay_api, paying, fablab, fake)
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/o/bbi/receipts")})
    sign_in(paying.manager)
    page = client.get("/o/bbi/manage/payments").get_data(as_text=True)
    assert 'data-total="received">₫150,000<' in page and 'data-total="net">₫150,000<' in page
    rows = list(csv.DictReader(io.StringIO(client.get("/o/bbi/manage/payments.csv").get_data(as_text=True))))
    assert [(r["booking_id"], r["amount"], r["currency"], r["status"], r["net"]) for r in rows] == [
        (str(booking_id), "150000", "VND", "paid", "150000")]
    token = csrf_token(client, "/o/bbi/manage/payments")
    client.post(f"/o/bbi/manage/payments/{payment_id}/refund", data={"csrf_token": token})
    deliver(client, fake)
    again = client.post(f"/o/bbi/manage/payments/{payment_id}/refund", data={"csrf_token": token},
                        follow_redirects=True)
    assert "already refunded" in again.get_data(as_text=True) and fake.calls.count("refund") == 1
    rows = list(csv.DictReader(io.StringIO(client.get("/o/bbi/manage/payments.csv").get_data(as_text=True))))
    assert [(r["refunded"], r["net"], r["status"]) for r in rows] == [("150000", "0", "refunded")]


def test_founders_cannot_see_the_report(client, sign_in, paying):
    sign_in(paying.founder)
    assert client.get("/o/bbi/manage/payments").status_code == 403
    assert client.get("/o/bbi/manage/payments.csv").status_code == 403


def test_connecting_a_stripe_account(client, sign_in, session, world):
    sign_in(world.manager)
    token = csrf_token(client, "/o/bbi/manage/payments")
    bad = client.post("/o/bbi/manage/payments/account", data={"csrf_token": token, "stripe_account_id": "sk_live_x"})
    assert bad.status_code == 422 and 'data-field="stripe_account_id"' in bad.get_data(as_text=True)
    assert session.scalar(select(PaymentAccount.id)) is None
    ok = client.post("/o/bbi/manage/payments/account", data={"csrf_token": token, "stripe_account_id": "acct_1Abc"})
    assert ok.status_code == 302
    assert session.scalar(select(PaymentAccount.stripe_account_id)) == "acct_1Abc"


def test_production_refuses_the_fake_gateway():
    settings = {"SECRET_KEY": "x" * 40, "DATABASE_URL": "postgresql://db/x", "REDIS_URL": "redis://redis:6379/0",
                "PAYMENT_GATEWAY": "fake"}
    with pytest.raises(config.ConfigError):
        config.Production.validate(settings)
    with pytest.raises(config.ConfigError):
        config.Production.validate({**settings, "PAYMENT_GATEWAY": None, "STRIPE_SECRET_KEY": "sk_live_1"})


def test_the_report_runs_a_fixed_number_of_queries(app, client, sign_in, session, paying):
    from incubator.core.permissions import Role
    from incubator.ledger.models import Payment
    from tests.conftest import page_queries
    from tests.factories import member

    def add_payments(n: int) -> None:
        for _ in range(n):
            payer = member(paying.org, Role.FOUNDER)
            session.add(Payment(org_id=paying.org.id, user_id=payer.id, description="Room", amount=50_000,
                                currency="VND", destination_account="acct_1TestBBI",
                                idempotency_key=f"k-{payer.id}", status="paid"))
        session.flush()

    sign_in(paying.manager)
    add_payments(2)
    few = page_queries(app, client, "/o/bbi/manage/payments")
    add_payments(10)
    assert page_queries(app, client, "/o/bbi/manage/payments") == few
    assert 'data-total="received">₫600,000<' in client.get("/o/bbi/manage/payments").get_data(as_text=True)
