"""Same door (#13): every payments API operation and its page answer each kind of caller alike.

Checkout (of a booking, of an application's fee), the payments and their receipts, refunds and the
organisation's Stripe account: for each operation the page that does the same thing is called by the
same person, and both answers must fall in the same class (``tests.doors.answer_class``), the one the
table says. The fake gateway of the test settings stands in for Stripe.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from incubator.booking.models import Booking, BookingStatus
from incubator.core.db import utcnow
from incubator.intake.models import Stage
from incubator.ledger.models import Payment, PaymentStatus
from incubator.payments.models import PaymentAccount
from tests.booking.fixtures import next_weekday_at
from tests.doors import MANAGERS, ROLES, Door, documented, expect, person, walk
from tests.intake.fixtures import application, make_call

PAYMENTS = ("owner", "manager")  # MANAGE_PAYMENTS
EVERYONE_SIGNED_IN = {**dict.fromkeys(ROLES, "allowed"), "anonymous": "login"}  # one's own payments, member or not
SELLER = {"legal_name": "Công ty TNHH BBI", "legal_address": "Thủ Dầu Một, Bình Dương", "tax_code": "3700123456",
          "vat_rate": 10}
FOUNDERS_AND_PAYMENTS = expect(PAYMENTS + ("founder",), hidden=("staff", "reviewer", "mentor", "funder"))


@pytest.fixture()
def scene(session, world, fablab) -> dict[str, Any]:
    """bbi takes payments; the founder has a room booking awaiting payment, a draft application to a
    call with a fee, and a paid booking (its payment: to see, refund and print)."""
    org = world.org
    session.add(PaymentAccount(org_id=org.id, stripe_account_id="acct_1TestBBI"))
    start = next_weekday_at(2, 10)

    def booking(status: str, hours: int) -> Booking:
        row = Booking(org_id=org.id, resource_id=fablab.room.id, user_id=world.founder.id,
                      starts_at=start + timedelta(hours=hours), ends_at=start + timedelta(hours=hours + 1),
                      blocked_until=start + timedelta(hours=hours + 1), status=status, price=100_000, currency="VND",
                      hold_expires_at=utcnow() + timedelta(minutes=30))
        session.add(row)
        return row

    owed, paid = booking(BookingStatus.AWAITING_PAYMENT, 0), booking(BookingStatus.CONFIRMED, 2)
    call = make_call(org, world.cohort.programme, world.cohort)
    call.fee_minor = 200_000
    draft = application(call, world.founder, stage=Stage.DRAFT)
    session.flush()
    payment = Payment(org_id=org.id, booking_id=paid.id, user_id=world.founder.id, startup_id=world.startup.id,
                      description="Meeting room", amount=100_000, currency="VND", status=PaymentStatus.PAID,
                      destination_account="acct_1TestBBI", idempotency_key="doors-paid", paid_at=utcnow())
    session.add(payment)
    session.flush()
    return {"booking_id": owed.id, "application_id": draft.id, "payment_id": payment.id}


def doors() -> list[Door]:
    manage = expect(PAYMENTS)
    return [
        Door("checkout a booking", ("POST", "/bookings/{booking_id}/checkout", None),
             ("POST", "/bookings/{booking_id}/pay", {}),
             expect(("founder",), hidden=MANAGERS)),  # (BOOK_RESOURCES; only its booker pays it)
        Door("checkout an application fee", ("POST", "/applications/{application_id}/checkout", None),
             ("POST", "/applications/{application_id}/edit", {"action": "submit"}),
             {**dict.fromkeys(ROLES, "hidden"), "founder": "allowed", "anonymous": "login"}),
        Door("list payments", ("GET", "/payments", None), ("GET", "/receipts", None), EVERYONE_SIGNED_IN),
        Door("get payment", ("GET", "/payments/{payment_id}", None), ("GET", "/payments/{payment_id}", None),
             FOUNDERS_AND_PAYMENTS),
        Door("receipt", ("GET", "/payments/{payment_id}", None), ("GET", "/payments/{payment_id}/receipt.pdf", None),
             FOUNDERS_AND_PAYMENTS),  # the receipt prints the payment the API answers
        Door("refund", ("POST", "/payments/{payment_id}/refund", None),
             ("POST", "/manage/payments/{payment_id}/refund", {}), manage),
        Door("get payment account", ("GET", "/payment-account", None), ("GET", "/manage/payments", None), manage),
        Door("connect payment account", ("PUT", "/payment-account", {"stripe_account_id": "acct_1Door"}),
             ("POST", "/manage/payments/account", {"stripe_account_id": "acct_1Door2"}), manage),
        Door("choose the payment gateway", ("PUT", "/payment-gateway", {"gateway": "payos", "bank_bin": "970436",
                                                                         "bank_account": "0123456789"}),
             ("POST", "/manage/payments/gateway", {"gateway": "payos", "bank_bin": "970436",
                                                   "bank_account": "0123456789"}), manage),
        Door("get the seller on receipts", ("GET", "/payment-seller", None), ("GET", "/manage/payments", None),
             manage),
        Door("set the seller on receipts", ("PUT", "/payment-seller", SELLER), ("POST", "/manage/payments/seller",
                                                                                SELLER), manage),
        Door("the monthly e-invoice export", ("GET", "/payments/export?month=2026-11&format=xlsx", None),
             ("GET", "/manage/payments/export?month=2026-11&format=xlsx", None), manage),
        Door("mark a bank transfer received", ("POST", "/payments/{payment_id}/received", None),
             ("POST", "/manage/payments/{payment_id}/received", {}), manage),
        Door("confirm a refund sent by transfer", ("POST", "/payments/{payment_id}/refund-sent", None),
             ("POST", "/manage/payments/{payment_id}/refund-sent", {}), manage),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_every_payments_operation_answers_alike_through_the_page_and_the_api(app, session, world, scene, role):
    wrong = walk(app, session, role, person(world, role), doors(), scene)
    assert not wrong, f"{role}: {wrong}"


def test_the_table_walks_every_payments_operation_of_the_document(app):
    """A payments operation added to the API without a row here fails this test."""
    walked = {door.operation for door in doors()}
    assert walked == documented(app, {"api_payments"}), sorted(documented(app, {"api_payments"}) ^ walked)
    assert all(door.page is not None for door in doors())
