"""Checkout, webhooks and refunds, through the fake gateway and signed webhooks."""

from __future__ import annotations

import json
import time
from datetime import timedelta

from sqlalchemy import select

from incubator.booking import services as booking_services
from incubator.booking.models import Booking, BookingStatus
from incubator.core import mail
from incubator.ledger.models import LedgerEntry, LedgerKind, Payment
from incubator.payments.models import PaymentAccount, WebhookEvent
from tests.payments.fixtures import book_room, deliver, event, signed


def _checkout(pay_api, world, fablab):
    booking = book_room(pay_api, world.founder, fablab.room)
    assert booking["status"] == "awaiting_payment"
    response = pay_api(world.founder, "POST", f"/bookings/{booking['id']}/checkout")
    assert response.status_code == 200, response.get_json()
    return booking["id"], response.get_json()


def _money_rows(session, kind=None):
    stmt = select(LedgerEntry).where(LedgerEntry.kind.in_([kind] if kind else [LedgerKind.PAYMENT, LedgerKind.REFUND]))
    return session.execute(stmt).scalars().all()


def test_paid_only_when_the_signed_webhook_confirms(client, session, pay_api, paying, fablab, fake):
    booking_id, body = _checkout(pay_api, paying, fablab)
    assert body["checkout_url"].endswith(f"/payments/test-checkout/{body['session_id']}")
    raw = fake.raw(body["session_id"])
    assert (raw["amount_total"], raw["currency"], raw["destination"]) == (150_000, "vnd", "acct_1TestBBI")
    # Coming back from checkout proves nothing: the return page reads our records, not its URL.
    fake.complete(body["session_id"])
    from tests.conftest import login

    login(client, paying.founder.email)
    page = client.get(f"/o/bbi/payments/{body['payment_id']}?session_id={body['session_id']}")
    assert 'data-status="pending"' in page.get_data(as_text=True)
    assert session.get(Booking, booking_id).status == BookingStatus.AWAITING_PAYMENT
    answers = deliver(client, fake)
    assert [a.status_code for a in answers] == [200]
    session.expire_all()
    assert session.get(Booking, booking_id).status == BookingStatus.CONFIRMED
    payment = session.get(Payment, body["payment_id"])
    assert payment.status == "paid" and payment.paid_at is not None
    assert [(e.amount, e.currency) for e in _money_rows(session)] == [(150_000, "VND")]
    receipt = [m for m in mail.outbox if paying.founder.email in m.to]
    assert receipt and receipt[-1].attachments[0].data.startswith(b"%PDF")
    page = client.get(f"/o/bbi/payments/{payment.id}")
    assert 'data-status="paid"' in page.get_data(as_text=True)
    pdf = client.get(f"/o/bbi/payments/{payment.id}/receipt.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")


def test_repeated_and_replayed_deliveries_pay_once(client, session, pay_api, paying, fablab, fake):
    booking_id, body = _checkout(pay_api, paying, fablab)
    fake.complete(body["session_id"])
    (completed_body, _header), = fake.sent
    answers = deliver(client, fake, twice=True)
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[1].get_json()["status"] == "duplicate"
    # The same news under a new event id: read back, nothing left to change.
    again = event("checkout.session.completed", json.loads(completed_body)["data"]["object"])
    response = client.post("/stripe/webhook", data=again, headers=signed(again))
    assert response.status_code == 200 and response.get_json()["changes"] == []
    assert len(_money_rows(session)) == 1
    assert session.scalar(select(Payment.status).where(Payment.id == body["payment_id"])) == "paid"


def test_bad_signatures_answer_400_and_change_nothing(client, session, pay_api, paying, fablab, fake):
    booking_id, body = _checkout(pay_api, paying, fablab)
    fake.complete(body["session_id"])
    (payload, header), = fake.sent
    text = payload.decode()
    cases = [
        {"Content-Type": "application/json"},  # no signature
        signed(text, secret="whsec_someone_else"),  # wrong secret
        signed(text, timestamp=int(time.time()) - 3600),  # stale: an hour old
    ]
    for headers in cases:
        assert client.post("/stripe/webhook", data=payload, headers=headers).status_code == 400
    tampered = text.replace('"paid"', '"unpaid"')
    assert client.post("/stripe/webhook", data=tampered, headers={"Stripe-Signature": header}).status_code == 400
    assert session.scalar(select(Booking.status).where(Booking.id == booking_id)) == BookingStatus.AWAITING_PAYMENT
    assert session.scalar(select(WebhookEvent.id)) is None and _money_rows(session) == []


def test_a_payload_that_claims_payment_is_checked_with_the_gateway(client, session, pay_api, paying, fablab, fake):
    booking_id, body = _checkout(pay_api, paying, fablab)  # the session is still open, unpaid
    lie = event("checkout.session.completed", {"id": body["session_id"], "object": "checkout.session",
                                               "status": "complete", "payment_status": "paid"})
    response = client.post("/stripe/webhook", data=lie, headers=signed(lie))
    assert response.status_code == 200 and response.get_json()["changes"] == []
    assert session.scalar(select(Booking.status).where(Booking.id == booking_id)) == BookingStatus.AWAITING_PAYMENT
    assert _money_rows(session) == []


def test_events_in_any_order(client, session, app, pay_api, paying, fablab, fake):
    booking_id, body = _checkout(pay_api, paying, fablab)
    fake.complete(body["session_id"])
    intent = fake.raw(body["session_id"])["payment_intent"]
    fake.refund(intent, 150_000, "refund-by-dashboard")  # refunded from Stripe's dashboard, say
    completed, refunded = list(fake.sent)
    fake.sent[:] = [refunded, completed]  # the refund's news arrives first
    answers = deliver(client, fake)
    assert [a.get_json()["changes"] for a in answers] == [["paid", "refunded"], []]
    payment = session.get(Payment, body["payment_id"])
    session.refresh(payment)
    assert (payment.status, payment.amount_refunded) == ("refunded", 150_000)
    assert sorted(e.amount for e in _money_rows(session)) == [-150_000, 150_000]


def test_an_expired_session_frees_the_slot(client, session, app, pay_api, paying, fablab, fake):
    booking_id, body = _checkout(pay_api, paying, fablab)
    fake.expire(body["session_id"])
    deliver(client, fake)
    session.expire_all()
    assert session.get(Booking, booking_id).status == BookingStatus.EXPIRED
    assert session.get(Payment, body["payment_id"]).status == "expired"
    again = book_room(pay_api, paying.other_founder, fablab.room)  # the same slot
    assert again["status"] == "awaiting_payment"


def test_paid_after_the_hold_was_released_is_refunded(client, session, app, pay_api, paying, fablab, fake):
    booking_id, body = _checkout(pay_api, paying, fablab)
    booking = session.get(Booking, booking_id)
    with app.test_request_context():
        booking_services.expire_holds(session, fablab.room.id, now=booking.hold_expires_at + timedelta(minutes=1))
    session.flush()
    fake.complete(body["session_id"])  # the customer paid at the last second; the news came late
    deliver(client, fake)  # completed, then the refund it caused
    deliver(client, fake)
    payment = session.get(Payment, body["payment_id"])
    session.refresh(payment)
    assert (payment.status, payment.amount_refunded) == ("refunded", 150_000)
    assert session.get(Booking, booking_id).status == BookingStatus.EXPIRED
    assert sorted(e.amount for e in _money_rows(session)) == [-150_000, 150_000]


def test_a_declined_card_is_recorded_and_the_checkout_stays_open(client, session, pay_api, paying, fablab, fake):
    booking_id, body = _checkout(pay_api, paying, fablab)
    fake.fail(body["session_id"], "Your card was declined.")
    assert [a.get_json()["changes"] for a in deliver(client, fake)] == [["failed_attempt"]]
    payment = session.get(Payment, body["payment_id"])
    session.refresh(payment)
    assert (payment.status, payment.failure_message) == ("pending", "Your card was declined.")
    fake.complete(body["session_id"])  # a second card works
    deliver(client, fake)
    session.refresh(payment)
    assert payment.status == "paid"


def test_checkout_twice_reuses_the_session(pay_api, paying, fablab, fake):
    booking_id, first = _checkout(pay_api, paying, fablab)
    second = pay_api(paying.founder, "POST", f"/bookings/{booking_id}/checkout").get_json()
    assert second["session_id"] == first["session_id"] and fake.calls.count("create_checkout") == 1


def test_checkout_rules(session, pay_api, world, fablab, fake):
    booking = book_room(pay_api, world.founder, fablab.room)
    response = pay_api(world.founder, "POST", f"/bookings/{booking['id']}/checkout")
    assert response.status_code == 409 and response.get_json()["code"] == "no_account"  # no Stripe account yet
    session.add(PaymentAccount(org_id=world.org.id, stripe_account_id="acct_1TestBBI"))
    session.flush()
    assert pay_api(world.other_founder, "POST", f"/bookings/{booking['id']}/checkout").status_code == 404
    assert pay_api(world.founder, "POST", f"/bookings/{booking['id']}/checkout").status_code == 200
    free = book_room(pay_api, world.founder, fablab.printer, hour=14, minutes=60)  # paid with credits
    response = pay_api(world.founder, "POST", f"/bookings/{free['id']}/checkout")
    assert response.status_code == 409 and response.get_json()["code"] == "not_payable"


def _paid(client, pay_api, world, fablab, fake):
    booking_id, body = _checkout(pay_api, world, fablab)
    fake.complete(body["session_id"])
    deliver(client, fake)
    return booking_id, body["payment_id"]


def test_cancelling_in_time_refunds_once(client, session, pay_api, paying, fablab, fake):
    booking_id, payment_id = _paid(client, pay_api, paying, fablab, fake)
    mail.outbox.clear()
    response = pay_api(paying.founder, "POST", f"/bookings/{booking_id}/cancel")
    assert response.status_code == 200 and response.get_json()["status"] == "cancelled"
    assert deliver(client, fake)[0].get_json()["changes"] == []  # charge.refunded: already recorded
    payment = session.get(Payment, payment_id)
    session.refresh(payment)
    assert (payment.status, payment.amount_refunded) == ("refunded", 150_000)
    assert fake.calls.count("refund") == 1 and len(_money_rows(session, LedgerKind.REFUND)) == 1
    assert any("refund" in m.subject.lower() for m in mail.outbox)
    assert pay_api(paying.founder, "POST", f"/bookings/{booking_id}/cancel").status_code == 422


def test_cancelling_late_keeps_the_payment(client, session, pay_api, paying, fablab, fake):
    fablab.room.free_cancellation_hours = 24 * 60  # two months' notice: too late for any booking here
    session.flush()
    booking_id, payment_id = _paid(client, pay_api, paying, fablab, fake)
    assert pay_api(paying.founder, "POST", f"/bookings/{booking_id}/cancel").status_code == 200
    assert session.scalar(select(Payment.status).where(Payment.id == payment_id)) == "paid"
    assert fake.calls.count("refund") == 0


def test_payments_list(pay_api, client, paying, fablab, fake):
    booking_id, payment_id = _paid(client, pay_api, paying, fablab, fake)
    mine = pay_api(paying.founder, "GET", "/payments").get_json()
    assert [(p["id"], p["booking_id"], p["amount"], p["currency"], p["status"]) for p in mine] == [
        (payment_id, booking_id, 150_000, "VND", "paid")]
    assert pay_api(paying.other_founder, "GET", "/payments").get_json() == []
    assert [p["id"] for p in pay_api(paying.manager, "GET", "/payments").get_json()] == [payment_id]


def test_a_lost_webhook_is_made_up_by_the_reconcile_job(client, session, app, pay_api, paying, fablab, fake):
    from incubator.payments.tasks import reconcile_payments

    booking_id, paid = _checkout(pay_api, paying, fablab)
    fake.complete(paid["session_id"])
    fake.sent.clear()  # Stripe's delivery never arrived
    payment = session.get(Payment, paid["payment_id"])
    with app.app_context():
        assert reconcile_payments.call_local() == 0  # too young to chase
    payment.created_at -= timedelta(minutes=3)
    session.flush()
    with app.app_context():
        assert reconcile_payments.call_local() == 1  # what the worker runs every two minutes
    session.expire_all()
    assert session.get(Payment, paid["payment_id"]).status == "paid"
    assert session.get(Booking, booking_id).status == BookingStatus.CONFIRMED


def test_one_unreadable_payment_does_not_stop_the_reconcile_job(client, session, app, pay_api, paying, fablab, fake,
                                                                 monkeypatch, caplog):
    """The gateway cannot read one payment: the others are reconciled, that one is logged, left pending
    and read back on the next run."""
    from incubator.payments.gateway import GatewayError
    from incubator.payments.tasks import reconcile_payments

    founders = (paying.founder, paying.other_founder)
    checkouts = []
    for hour, founder in zip((10, 14), founders, strict=True):
        booking = book_room(pay_api, founder, fablab.room, hour=hour)
        checkouts.append(pay_api(founder, "POST", f"/bookings/{booking['id']}/checkout").get_json())
    for checkout in checkouts:
        fake.complete(checkout["session_id"])
        session.get(Payment, checkout["payment_id"]).created_at -= timedelta(minutes=3)
    fake.sent.clear()  # no webhook arrived
    session.flush()
    broken, fine = checkouts
    real_get = fake.get_checkout

    def get_checkout(session_id):
        if session_id == broken["session_id"]:
            raise GatewayError("Stripe is unreachable for this one")
        return real_get(session_id)

    monkeypatch.setattr(fake, "get_checkout", get_checkout)
    with app.app_context():
        assert reconcile_payments.call_local() == 1
    session.expire_all()
    assert session.get(Payment, fine["payment_id"]).status == "paid"
    assert session.get(Payment, broken["payment_id"]).status == "pending"
    assert f"payment {broken['payment_id']} could not be read back" in caplog.text
    monkeypatch.setattr(fake, "get_checkout", real_get)
    with app.app_context():
        assert reconcile_payments.call_local() == 1  # the next run
    session.expire_all()
    assert session.get(Payment, broken["payment_id"]).status == "paid"
    assert len(_money_rows(session, LedgerKind.PAYMENT)) == 2


def test_lab_use_reports_the_amount_paid_less_refunds(client, session, app, pay_api, paying, fablab, fake):
    from datetime import UTC, datetime

    from incubator.payments import services
    from incubator.reporting.queries import lab_money

    booking_id, body = _checkout(pay_api, paying, fablab)
    fake.complete(body["session_id"])
    deliver(client, fake)

    def paid() -> int:
        rows = lab_money(session, startup_ids=[paying.startup.id], start=datetime(2000, 1, 1, tzinfo=UTC),
                         end=datetime(2100, 1, 1, tzinfo=UTC))
        return sum(int(row[2] or 0) for row in rows)

    assert paid() == 150_000
    with app.test_request_context():  # a manager refunds; the booking itself stays confirmed
        services.refund(session, session.get(Payment, body["payment_id"]))
    assert session.get(Booking, booking_id).status == BookingStatus.CONFIRMED
    assert paid() == 0


def test_a_gateway_failure_keeps_nothing(client, session, pay_api, paying, fablab, fake, monkeypatch):
    from incubator.payments.gateway import GatewayError

    booking = book_room(pay_api, paying.founder, fablab.room, hour=14)

    def refuse(**_kwargs):
        raise GatewayError("Stripe is unreachable")

    monkeypatch.setattr(fake, "create_checkout", refuse)
    answer = pay_api(paying.founder, "POST", f"/bookings/{booking['id']}/checkout")
    assert answer.status_code == 502 and answer.get_json()["code"] == "gateway_error"
    assert session.scalar(select(Payment.id)) is None  # no payment row left behind
    monkeypatch.undo()

    booking_id, payment_id = _paid(client, pay_api, paying, fablab, fake)
    monkeypatch.setattr(fake, "refund", lambda *args, **kwargs: refuse())
    answer = pay_api(paying.founder, "POST", f"/bookings/{booking_id}/cancel")
    assert answer.status_code == 502 and answer.get_json()["code"] == "refund_failed"
    session.expire_all()  # the cancellation was rolled back with the failed refund
    assert session.get(Booking, booking_id).status == BookingStatus.CONFIRMED
    assert session.get(Payment, payment_id).status == "paid" and _money_rows(session, LedgerKind.REFUND) == []
