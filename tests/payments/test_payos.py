"""payOS beside Stripe: checkout of a booking and of an application fee through the fake payOS page with
its VietQR code, the signed webhook (bad checksums, replays, reordered and forged events), late payments,
refunds owed by bank transfer, and the reconciliation job."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from sqlalchemy import select

from incubator.booking import services as booking_services
from incubator.booking.models import Booking, BookingStatus
from incubator.intake.models import Stage
from incubator.ledger.models import LedgerEntry, LedgerKind, Payment
from incubator.payments import vietqr
from incubator.payments.models import WebhookEvent
from tests.conftest import csrf_token
from tests.intake.fixtures import application
from tests.payments.fixtures import book_room, deliver_payos, payos_signed

KEY = "payos-development-checksum-key"  # the fake's, from the settings


def _money_rows(session, kind=None):
    stmt = select(LedgerEntry).where(LedgerEntry.kind.in_([kind] if kind else [LedgerKind.PAYMENT, LedgerKind.REFUND]))
    return session.execute(stmt).scalars().all()


def _checkout(pay_api, world, fablab, founder=None, hour=10):
    booking = book_room(pay_api, founder or world.founder, fablab.room, hour=hour)
    response = pay_api(founder or world.founder, "POST", f"/bookings/{booking['id']}/checkout")
    assert response.status_code == 200, response.get_json()
    return booking["id"], response.get_json()


def _webhook(store, order_code: str) -> tuple[dict, bytes]:
    """What the fake sent for this link, as payOS would: its ``data`` and the whole body."""
    store.pay(order_code)
    body = store.sent.pop()
    return json.loads(body)["data"], body


def test_a_founder_pays_a_booking_on_the_test_page_with_its_vietqr_code(client, sign_in, session, pay_api, on_payos,
                                                                         fablab, payos_fake):
    booking = book_room(pay_api, on_payos.founder, fablab.room)
    sign_in(on_payos.founder)
    to_checkout = client.post(f"/o/bbi/bookings/{booking['id']}/pay",
                              data={"csrf_token": csrf_token(client, "/o/bbi/bookings")})
    assert to_checkout.status_code == 302 and re.search(r"/payments/test-payos/\d+$", to_checkout.location)
    order_code = to_checkout.location.rsplit("/", 1)[1]
    page = client.get(to_checkout.location).get_data(as_text=True)
    assert "Test payment page." in page and 'data-testid="vietqr"' in page and "data:image/svg+xml" in page
    assert f"INC{order_code}" in page  # the transfer's message names the payment
    # The code is a VietQR transfer of the booking's price into the organisation's own account.
    qr = payos_fake.links[order_code]["qr_code"]
    assert "0010A000000727" in qr and "0006970436" + "01100123456789" in qr and "5406150000" in qr
    assert qr.endswith(vietqr.crc16(qr[:-4]))
    back = client.post(to_checkout.location, data={"csrf_token": csrf_token(client, to_checkout.location),
                                                   "action": "pay"})
    assert back.status_code == 302 and f"/o/bbi/payments/{order_code}" in back.location
    assert 'data-status="pending"' in client.get(back.location).get_data(as_text=True)  # only the webhook counts
    assert [a.status_code for a in deliver_payos(client, payos_fake)] == [200]
    assert 'data-status="paid"' in client.get(back.location).get_data(as_text=True)
    assert session.scalar(select(Booking.status).where(Booking.id == booking["id"])) == BookingStatus.CONFIRMED
    rows = _money_rows(session)
    assert [(r.amount, r.currency, r.reference) for r in rows] == [(150_000, "VND", f"payment:payos_{order_code}")]


def test_the_api_answers_the_same_shape_whichever_gateway(pay_api, on_payos, fablab, payos_fake, session):
    booking_id, body = _checkout(pay_api, on_payos, fablab)
    assert set(body) == {"checkout_url", "session_id", "payment_id"}
    assert body["session_id"] == str(body["payment_id"])  # payOS's order code is our payment's id
    assert body["checkout_url"].endswith(f"/payments/test-payos/{body['payment_id']}")
    again = pay_api(on_payos.founder, "POST", f"/bookings/{booking_id}/checkout").get_json()
    assert again == body and payos_fake.calls.count("create_checkout") == 1
    payment = session.get(Payment, body["payment_id"])
    assert (payment.gateway, payment.destination_account) == ("payos", "payos:test")
    link = payos_fake.links[body["session_id"]]
    assert link["expires_at"] == int(payment.expires_at.timestamp())  # the link lasts as long as the hold


def test_platform_default_payos_for_organisations_that_have_not_chosen(app, pay_api, world, fablab, payos_fake,
                                                                       session, monkeypatch):
    from incubator.payments.models import PaymentAccount

    session.add(PaymentAccount(org_id=world.org.id, stripe_account_id="acct_1TestBBI"))  # no choice made
    session.flush()
    monkeypatch.setitem(app.config, "PAYMENT_GATEWAY", "payos")
    _booking_id, body = _checkout(pay_api, world, fablab)
    assert "/payments/test-payos/" in body["checkout_url"]
    monkeypatch.setitem(app.config, "PAYMENT_GATEWAY", "fake")  # unset default: Stripe (its fake), as before
    _booking_id, body = _checkout(pay_api, world, fablab, founder=world.other_founder, hour=14)
    assert "/payments/test-checkout/cs_test_" in body["checkout_url"]


def test_an_application_fee_paid_through_payos(client, session, intake, pay_api, payos_fake):
    from incubator.payments.models import PaymentAccount

    intake.call.fee_minor = 200_000
    session.add(PaymentAccount(org_id=intake.org.id, gateway="payos"))
    session.flush()
    draft = application(intake.call, intake.founder, Stage.DRAFT)
    checkout = pay_api(intake.founder, "POST", f"/applications/{draft.id}/checkout")
    assert checkout.status_code == 200 and "/payments/test-payos/" in checkout.get_json()["checkout_url"]
    payos_fake.pay(checkout.get_json()["session_id"])
    deliver_payos(client, payos_fake)
    session.refresh(draft)
    assert draft.stage == Stage.SUBMITTED
    assert session.scalar(select(LedgerEntry.amount).where(LedgerEntry.kind == LedgerKind.PAYMENT)) == 200_000


def test_bad_checksums_and_bodies_answer_400_and_change_nothing(client, session, pay_api, on_payos, fablab,
                                                                 payos_fake):
    booking_id, body = _checkout(pay_api, on_payos, fablab)
    data, sent = _webhook(payos_fake, body["session_id"])
    genuine = payos_signed(data, KEY)
    assert json.loads(genuine)["signature"] == json.loads(sent)["signature"]  # payOS's scheme, computed apart
    tampered = json.loads(genuine)
    tampered["data"]["amount"] = 1
    unsigned = json.loads(genuine)
    del unsigned["signature"]
    cases = [payos_signed(data, "someone-else's-key"), json.dumps(tampered).encode(), json.dumps(unsigned).encode(),
             b"not json", b'{"data": {}}', b"[]"]
    for case in cases:
        answer = client.post("/payos/webhook", data=case, headers={"Content-Type": "application/json"})
        assert answer.status_code == 400, (case, answer.get_json())
        assert answer.get_json()["code"] in {"bad_signature", "bad_payload"}
    assert session.scalar(select(Booking.status).where(Booking.id == booking_id)) == BookingStatus.AWAITING_PAYMENT
    assert session.scalar(select(WebhookEvent.id)) is None and _money_rows(session) == []
    # The genuine one, at last, pays.
    assert client.post("/payos/webhook", data=genuine).get_json()["changes"] == ["paid"]


def test_replays_pay_once(client, session, pay_api, on_payos, fablab, payos_fake):
    _booking_id, body = _checkout(pay_api, on_payos, fablab)
    payos_fake.pay(body["session_id"])
    answers = deliver_payos(client, payos_fake, twice=True)
    assert [a.get_json()["status"] for a in answers] == ["processed", "duplicate"]
    # The same payment's news under another transaction reference: read back, nothing left to change.
    data = {**_webhook_again(payos_fake, body["session_id"]), "reference": "FT-ANOTHER"}
    answer = client.post("/payos/webhook", data=payos_signed(data, KEY))
    assert answer.get_json() == {"status": "processed", "changes": []}
    assert len(_money_rows(session)) == 1 and session.scalar(select(WebhookEvent.id).where(
        WebhookEvent.id.like("%FT-ANOTHER%"))) is not None


def _webhook_again(store, order_code: str) -> dict:
    """The ``data`` payOS would sign for this paid link."""
    link = store.links[order_code]
    return {"orderCode": int(order_code), "amount": link["amount"], "description": link["description"],
            "accountNumber": link["account"], "reference": "FT1", "transactionDateTime": "2026-12-01 20:00:00",
            "currency": "VND", "paymentLinkId": link["link_id"], "code": "00", "desc": "success",
            "counterAccountBankId": None, "counterAccountBankName": None, "counterAccountName": None,
            "counterAccountNumber": None, "virtualAccountName": None, "virtualAccountNumber": None}


def test_a_forged_event_is_checked_with_payos(client, session, pay_api, on_payos, fablab, payos_fake):
    """Signed, but the link is not paid (say the checksum key leaked): payOS's answer counts, not the body."""
    booking_id, body = _checkout(pay_api, on_payos, fablab)
    data = {**_webhook_again(payos_fake, body["session_id"]), "reference": "FT-FORGED"}
    answer = client.post("/payos/webhook", data=payos_signed(data, KEY))
    assert answer.status_code == 200 and answer.get_json()["changes"] == []
    assert session.scalar(select(Booking.status).where(Booking.id == booking_id)) == BookingStatus.AWAITING_PAYMENT
    assert _money_rows(session) == []
    # An order code that is not a payOS payment (a Stripe one, or payOS's own test) is ignored.
    stripe_like = {**data, "orderCode": 987654}
    assert client.post("/payos/webhook", data=payos_signed(stripe_like, KEY)).get_json()["status"] == "ignored"


def test_events_in_any_order_and_after_the_reconciliation(client, session, app, pay_api, on_payos, fablab,
                                                          payos_fake):
    from incubator.payments.tasks import reconcile_payments

    first = _checkout(pay_api, on_payos, fablab)[1]
    second = _checkout(pay_api, on_payos, fablab, founder=on_payos.other_founder, hour=14)[1]
    payos_fake.pay(first["session_id"])
    payos_fake.pay(second["session_id"])
    payos_fake.sent.reverse()  # the second payment's news arrives first
    assert [a.get_json()["changes"] for a in deliver_payos(client, payos_fake)] == [["paid"], ["paid"]]
    third = _checkout(pay_api, on_payos, fablab, hour=16)[1]
    payos_fake.pay(third["session_id"])
    late = list(payos_fake.sent)
    payos_fake.sent.clear()
    session.get(Payment, third["payment_id"]).created_at -= timedelta(minutes=3)
    session.flush()
    with app.app_context():
        assert reconcile_payments.call_local() == 1  # the webhook was slow: the job got there first
    payos_fake.sent[:] = late
    assert [a.get_json()["changes"] for a in deliver_payos(client, payos_fake)] == [[]]
    assert sorted(r.amount for r in _money_rows(session)) == [150_000, 150_000, 150_000]


def test_the_reconciliation_ends_a_cancelled_link_and_frees_the_slot(client, session, app, pay_api, on_payos, fablab,
                                                                     payos_fake):
    from incubator.payments.tasks import reconcile_payments

    booking_id, body = _checkout(pay_api, on_payos, fablab)
    payos_fake.cancel(body["session_id"])  # the customer pressed cancel: payOS sends no webhook for that
    session.get(Payment, body["payment_id"]).created_at -= timedelta(minutes=3)
    session.flush()
    with app.app_context():
        assert reconcile_payments.call_local() == 1
    session.expire_all()
    assert session.get(Payment, body["payment_id"]).status == "expired"
    assert session.get(Booking, booking_id).status == BookingStatus.EXPIRED


def test_cancelling_a_pending_booking_cancels_its_link(pay_api, on_payos, fablab, payos_fake):
    booking_id, body = _checkout(pay_api, on_payos, fablab)
    assert pay_api(on_payos.founder, "POST", f"/bookings/{booking_id}/cancel").status_code == 200
    assert payos_fake.links[body["session_id"]]["status"] == "CANCELLED"  # no transfer can arrive late


def test_paid_after_the_hold_was_released_is_owed_back_and_confirmed_by_a_manager(
        client, session, app, sign_in, pay_api, on_payos, fablab, payos_fake):
    booking_id, body = _checkout(pay_api, on_payos, fablab)
    booking = session.get(Booking, booking_id)
    with app.test_request_context():
        booking_services.expire_holds(session, fablab.room.id, now=booking.hold_expires_at + timedelta(minutes=1))
    session.flush()
    payos_fake.pay(body["session_id"])  # the transfer came in after the slot was let go
    deliver_payos(client, payos_fake)
    payment = session.get(Payment, body["payment_id"])
    session.refresh(payment)
    assert (payment.status, payment.refund_owed, payment.amount_refunded) == ("paid", 150_000, 0)  # flagged
    assert session.get(Booking, booking_id).status == BookingStatus.EXPIRED
    assert "refund" in payos_fake.calls  # payOS was asked, and cannot
    # A founder cannot confirm it; a manager does, once, from the payments page.
    assert pay_api(on_payos.founder, "POST", f"/payments/{payment.id}/refund-sent").status_code in (403, 404)
    sign_in(on_payos.manager)
    report = client.get("/o/bbi/manage/payments").get_data(as_text=True)
    assert f'data-owed="{payment.id}"' in report
    token = csrf_token(client, "/o/bbi/manage/payments")
    url = f"/o/bbi/manage/payments/{payment.id}/refund-sent"
    assert client.post(url, data={"csrf_token": token}).status_code == 302
    client.post(url, data={"csrf_token": token})  # twice: recorded once
    session.refresh(payment)
    assert (payment.status, payment.refund_owed, payment.amount_refunded) == ("refunded", 0, 150_000)
    refunds = _money_rows(session, LedgerKind.REFUND)
    assert [(r.amount, r.recorded_by_id) for r in refunds] == [(-150_000, on_payos.manager.id)]


def test_a_manager_refund_of_a_payos_payment_is_owed_not_lost(client, session, sign_in, pay_api, on_payos, fablab,
                                                              payos_fake):
    _booking_id, body = _checkout(pay_api, on_payos, fablab)
    payos_fake.pay(body["session_id"])
    deliver_payos(client, payos_fake)
    first = pay_api(on_payos.manager, "POST", f"/payments/{body['payment_id']}/refund")
    again = pay_api(on_payos.manager, "POST", f"/payments/{body['payment_id']}/refund")
    assert first.status_code == again.status_code == 200
    assert (again.get_json()["refund_owed"], again.get_json()["amount_refunded"]) == (150_000, 0)  # not owed twice
    confirmed = pay_api(on_payos.manager, "POST", f"/payments/{body['payment_id']}/refund-sent")
    assert (confirmed.get_json()["refund_owed"], confirmed.get_json()["status"]) == (0, "refunded")


def test_the_demo_runs_on_payos(app, client, session, pay_api, payos_fake, monkeypatch):
    """The demo's second organisation takes payOS; with PAYMENT_GATEWAY=payos (``make run``), the demo
    founder of bbi, which has not chosen, pays a room on the fake payOS page too."""
    from incubator.accounts.models import User
    from incubator.booking.models import Resource
    from incubator.orgs.models import Organisation
    from incubator.payments import services
    from incubator.payments.models import PaymentAccount

    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    accounts = {slug: session.scalar(select(PaymentAccount).join(Organisation, Organisation.id == PaymentAccount.org_id)
                                     .where(Organisation.slug == slug).execution_options(all_orgs=True))
                for slug in ("bbi", "tdmu")}
    with app.test_request_context():
        assert {slug: services.chosen_gateway(a) for slug, a in accounts.items()} == {"bbi": "stripe", "tdmu": "payos"}
        monkeypatch.setitem(app.config, "PAYMENT_GATEWAY", "payos")
        assert services.chosen_gateway(accounts["bbi"]) == "payos"
    assert accounts["tdmu"].bank_bin == "970436" and accounts["tdmu"].bank_account
    founder = session.scalar(select(User).where(User.email == "founder@bbi.example.com"))
    room = session.scalar(select(Resource).where(Resource.name == "Meeting room Sài Gòn")
                          .execution_options(all_orgs=True))
    booking = book_room(pay_api, founder, room, hour=15, minutes=60)
    checkout = pay_api(founder, "POST", f"/bookings/{booking['id']}/checkout").get_json()
    assert "/payments/test-payos/" in checkout["checkout_url"]
    payos_fake.pay(checkout["session_id"])
    assert deliver_payos(client, payos_fake)[0].get_json()["changes"] == ["paid"]
    assert session.scalar(select(Booking.status).where(Booking.id == booking["id"])) == BookingStatus.CONFIRMED


def test_plain_bank_transfer_marked_received_by_a_manager(client, session, sign_in, pay_api, world, fablab):
    """No gateway at all: the founder is shown the organisation's VietQR code; a manager marks the money
    received, once, and the ledger says who did it."""
    from incubator.payments.models import PaymentAccount

    session.add(PaymentAccount(org_id=world.org.id, gateway="transfer", bank_bin="970418",
                               bank_account="31410001234567", bank_account_name="CONG TY BBI"))
    session.flush()
    booking_id, body = _checkout(pay_api, world, fablab)
    assert body["checkout_url"].endswith(f"/o/bbi/payments/{body['payment_id']}/transfer")
    sign_in(world.founder)
    page = client.get(body["checkout_url"]).get_data(as_text=True)
    assert 'data-testid="vietqr"' in page and f"INC{body['payment_id']}" in page and "31410001234567" in page
    assert pay_api(world.founder, "POST", f"/payments/{body['payment_id']}/received").status_code in (403, 404)
    first = pay_api(world.manager, "POST", f"/payments/{body['payment_id']}/received")
    again = pay_api(world.manager, "POST", f"/payments/{body['payment_id']}/received")
    assert first.status_code == again.status_code == 200 and again.get_json()["status"] == "paid"
    assert session.scalar(select(Booking.status).where(Booking.id == booking_id)) == BookingStatus.CONFIRMED
    rows = _money_rows(session)
    assert [(r.amount, r.recorded_by_id, r.reference) for r in rows] == [
        (150_000, world.manager.id, f"payment:transfer_{body['payment_id']}")]
    # A refund goes back by bank transfer too: owed, then confirmed.
    assert pay_api(world.manager, "POST", f"/payments/{body['payment_id']}/refund").get_json()["refund_owed"] == 150_000


def test_a_gateway_payment_cannot_be_marked_received_by_hand(pay_api, on_payos, fablab, payos_fake):
    _booking_id, body = _checkout(pay_api, on_payos, fablab)
    answer = pay_api(on_payos.manager, "POST", f"/payments/{body['payment_id']}/received")
    assert answer.status_code == 409 and answer.get_json()["code"] == "not_a_transfer"
