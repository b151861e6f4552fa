"""Deliveries racing each other (run on SQLite and PostgreSQL): the same event many times at once, and
the same news under many event ids at once, pay the booking exactly once.

These tests commit for real, outside the per-test transaction, and clean up after themselves.
"""

from __future__ import annotations

import json
import threading
from datetime import time, timedelta

import pytest
import requests
from sqlalchemy import delete, func, select

from incubator.accounts.models import User
from incubator.booking.models import Booking, BookingStatus, Lab, OpeningHours, Resource
from incubator.cohorts.models import ResourceKind
from incubator.core.db import utcnow
from incubator.core.permissions import Role
from incubator.core.tenancy import ALL_ORGS
from incubator.extensions import db
from incubator.ledger.models import LedgerEntry, Payment
from incubator.orgs.models import Membership, Organisation
from incubator.payments.models import PaymentAccount, WebhookEvent
from tests.booking.fixtures import next_weekday_at, race_lab
from tests.payments.fixtures import event, payos_signed, signed

THREADS = 12


def _pending(app, *, payos: bool, fake=None, store=None) -> dict:
    """A committed booking awaiting payment, its open checkout (Stripe's fake or payOS's), and the
    customer having paid it."""
    with app.app_context():
        s = db.session
        s.info[ALL_ORGS] = True  # arranging (and clearing) an organisation's rows outside its pages
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
        account = PaymentAccount(org_id=org.id, stripe_account_id="acct_1Race", gateway="payos" if payos else "",
                                 bank_bin="970436", bank_account="0123456789", bank_account_name="RACE")
        s.add_all([Membership(org=org, user=user, role=Role.FOUNDER), lab, resource, booking, account])
        s.flush()
        expires = utcnow() + timedelta(minutes=31)
        payment = Payment(org_id=org.id, booking_id=booking.id, user_id=user.id, description="Room", amount=100_000,
                          currency="VND", destination_account="acct_1Race", idempotency_key="race",
                          gateway="payos" if payos else "stripe", expires_at=expires)
        s.add(payment)
        s.flush()
        ask = {"amount": 100_000, "currency": "VND", "description": "Room", "success_url": "http://x/ok",
               "cancel_url": "http://x/no", "expires_at": int(expires.timestamp()), "destination": "acct_1Race",
               "application_fee": 0, "idempotency_key": "race", "customer_email": user.email,
               "metadata": {"booking_id": str(booking.id), "payment_id": str(payment.id)}}
        if payos:
            from incubator.payments.payos import FakePayOS

            checkout = FakePayOS(store, bank_bin="970436", account="0123456789", account_name="RACE") \
                .create_checkout(**ask)
        else:
            checkout = fake.create_checkout(**ask)
        payment.checkout_session_id = checkout.id
        s.commit()
        if payos:
            store.pay(checkout.id)
        else:
            fake.complete(checkout.id)
        return {"org": org.id, "user": user.id, "booking": booking.id, "payment": payment.id, "session": checkout.id,
                "resource": resource.id}


def _clean(app, ids: dict) -> None:
    with app.app_context():
        s = db.session
        s.info[ALL_ORGS] = True  # arranging (and clearing) an organisation's rows outside its pages
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


@pytest.fixture()
def pending_payment(app, fake):
    ids = _pending(app, payos=False, fake=fake)
    yield ids
    _clean(app, ids)


@pytest.fixture()
def pending_payos_payment(app, payos_fake):
    ids = _pending(app, payos=True, store=payos_fake)
    yield ids
    _clean(app, ids)


def _race(app, bodies: list, url: str = "/stripe/webhook") -> list[int]:
    statuses: list[int] = []
    barrier = threading.Barrier(len(bodies))

    def deliver(body) -> None:
        client = app.test_client()
        barrier.wait()
        headers = signed(body) if url == "/stripe/webhook" else {"Content-Type": "application/json"}
        statuses.append(client.post(url, data=body, headers=headers).status_code)

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
        s.info[ALL_ORGS] = True  # arranging (and clearing) an organisation's rows outside its pages
        money = s.execute(select(func.count(), func.sum(LedgerEntry.amount)).where(
            LedgerEntry.payment_id == pending_payment["payment"]).execution_options(all_orgs=True)).one()
        assert tuple(money) == (1, 100_000)
        assert s.scalar(select(Booking.status).where(Booking.id == pending_payment["booking"])
                        .execution_options(all_orgs=True)) == BookingStatus.CONFIRMED
        events = s.scalar(select(func.count()).select_from(WebhookEvent)
                          .where(WebhookEvent.payment_id == pending_payment["payment"]))
        assert events == (1 if same_id else THREADS)


@pytest.mark.parametrize("same_id", [True, False], ids=["one transfer", "many references"])
def test_racing_payos_deliveries_pay_once(app, pending_payos_payment, payos_fake, same_id):
    (sent,) = payos_fake.sent
    data = json.loads(sent)["data"]
    bodies = [sent if same_id else payos_signed({**data, "reference": f"FT-RACE-{i}"}, app.config[
        "PAYOS_FAKE_CHECKSUM_KEY"]) for i in range(THREADS)]
    statuses = _race(app, bodies, url="/payos/webhook")
    assert statuses.count(200) == THREADS, statuses
    with app.app_context():
        s = db.session
        s.info[ALL_ORGS] = True  # arranging (and clearing) an organisation's rows outside its pages
        money = s.execute(select(func.count(), func.sum(LedgerEntry.amount)).where(
            LedgerEntry.payment_id == pending_payos_payment["payment"]).execution_options(all_orgs=True)).one()
        assert tuple(money) == (1, 100_000)
        assert s.scalar(select(Booking.status).where(Booking.id == pending_payos_payment["booking"])
                        .execution_options(all_orgs=True)) == BookingStatus.CONFIRMED
        events = s.scalar(select(func.count()).select_from(WebhookEvent)
                          .where(WebhookEvent.payment_id == pending_payos_payment["payment"]))
        assert events == (1 if same_id else THREADS)


# -- checkouts raced through HTTP (tests/live.py) ------------------------------------------------------

FEE = 200_000


def _fee_application(s, slug: str):
    """A committed call with a 200,000 ₫ fee and a founder's draft ready to submit; answers ids."""
    from incubator.core.permissions import Role
    from incubator.intake.models import Stage
    from tests.factories import OrgFactory, ProgrammeFactory, member
    from tests.intake.fixtures import application, make_call

    org = OrgFactory(slug=slug)
    call = make_call(org, ProgrammeFactory(org_id=org.id), fee_minor=FEE)
    founder = member(org, Role.FOUNDER)
    s.add(PaymentAccount(org_id=org.id, stripe_account_id="acct_1RaceFee"))
    draft = application(call, founder, Stage.DRAFT)
    return founder, draft.id


def test_racing_fee_checkouts_open_one_session(app, fake, committed, live):
    """10 clients of one applicant ask for the fee's checkout at once: one session, which all answer."""
    with committed.data() as s:
        founder, application_id = _fee_application(s, "race-fee")
    tokens = [committed.token(founder) for _ in range(10)]
    answers = live.race(10, lambda i: live.api(
        "POST", f"/api/v1/orgs/race-fee/applications/{application_id}/checkout", tokens[i]))
    assert [a.status_code for a in answers] == [200] * 10, [a.text for a in answers]
    assert len({a.json()["session_id"] for a in answers}) == 1
    assert fake.calls.count("create_checkout") == 1
    with committed.read() as s:
        assert s.scalar(select(func.count()).select_from(Payment).where(Payment.application_id == application_id)) == 1


def test_two_fee_payments_confirmed_at_once_submit_once_and_refund_the_second(app, fake, committed, live):
    """An old session paid as well (should it ever happen): its confirmation racing the other's submits
    the application once, and the second payment is refunded."""
    from incubator.intake.models import Application, Stage, Transition

    with committed.data() as s:
        founder, application_id = _fee_application(s, "race-fee2")
    token = committed.token(founder)
    url = f"/api/v1/orgs/race-fee2/applications/{application_id}/checkout"
    first = live.api("POST", url, token).json()
    with committed.data() as s:  # as if the first session had run out here; the customer pays it anyway
        s.get(Payment, first["payment_id"]).expires_at = utcnow() - timedelta(minutes=1)
    second = live.api("POST", url, token).json()
    assert second["session_id"] != first["session_id"]
    fake.sent.clear()
    fake.complete(first["session_id"])
    fake.complete(second["session_id"])
    deliveries = list(fake.sent)
    fake.sent.clear()
    answers = live.race(len(deliveries), lambda i: requests.post(
        live.url + "/stripe/webhook", data=deliveries[i][0], timeout=60,
        headers={"Stripe-Signature": deliveries[i][1], "Content-Type": "application/json"}))
    assert [a.status_code for a in answers] == [200, 200]
    with committed.read() as s:
        statuses = sorted(s.scalars(select(Payment.status).where(Payment.application_id == application_id)))
        assert statuses == ["paid", "refunded"]
        net = s.scalar(select(func.sum(LedgerEntry.amount)).join(Payment, Payment.id == LedgerEntry.payment_id)
                       .where(Payment.application_id == application_id))
        assert net == FEE
        assert s.get(Application, application_id).stage == Stage.SUBMITTED
        submitted = s.scalar(select(func.count()).select_from(Transition).where(
            Transition.application_id == application_id, Transition.to_stage == Stage.SUBMITTED))
        assert submitted == 1


def _awaiting_payment(committed, live, slug: str):
    """A committed room booking beyond credits, awaiting payment, booked over the API."""
    with committed.data() as s:
        world = race_lab(s, slug=slug, room_price=100_000, account="acct_1RaceRoom")
    start = next_weekday_at(1, 10)
    booked = live.api("POST", f"/api/v1/orgs/{slug}/bookings", committed.token(world.founder), json={
        "resource_id": world.resources["room"], "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=1)).isoformat()})
    assert booked.status_code == 201 and booked.json()["status"] == "awaiting_payment", booked.text
    return world, booked.json()["id"]


def test_racing_booking_checkouts_over_the_api_answer_one_session(app, fake, committed, live):
    world, booking_id = _awaiting_payment(committed, live, "race-checkout")
    tokens = [committed.token(world.founder) for _ in range(15)]
    answers = live.race(15, lambda i: live.api(
        "POST", f"/api/v1/orgs/race-checkout/bookings/{booking_id}/checkout", tokens[i]))
    assert [a.status_code for a in answers] == [200] * 15, [a.text for a in answers]
    assert len({a.json()["session_id"] for a in answers}) == 1
    with committed.read() as s:
        assert s.scalar(select(func.count()).select_from(Payment).where(Payment.booking_id == booking_id)) == 1


def test_racing_pay_now_buttons_lead_to_one_session(app, fake, committed, live):
    """The same founder presses "Pay now" in 8 browsers at once: every one goes to the same checkout."""
    world, booking_id = _awaiting_payment(committed, live, "race-paynow")
    browsers = [live.sign_in(world.founder.email) for _ in range(8)]
    tokens = [live.csrf(b, "/o/race-paynow/bookings") for b in browsers]
    answers = live.race(8, lambda i: browsers[i].post(
        f"{live.url}/o/race-paynow/bookings/{booking_id}/pay", data={"csrf_token": tokens[i]}, timeout=60,
        allow_redirects=False))
    assert [a.status_code for a in answers] == [302] * 8
    locations = {a.headers["Location"] for a in answers}
    assert len(locations) == 1 and "/payments/test-checkout/cs_test_" in locations.pop()
    with committed.read() as s:
        assert s.scalar(select(func.count()).select_from(Payment).where(Payment.booking_id == booking_id)) == 1
