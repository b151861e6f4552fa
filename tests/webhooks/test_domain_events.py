"""Each of the ten events is emitted where it happens, in the transaction of the change."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from incubator.cohorts import checkins
from incubator.core.db import utcnow
from incubator.intake import decisions
from incubator.intake import services as intake_services
from incubator.intake.models import Stage
from incubator.mentoring import mentor_sessions
from incubator.mentoring.models import MentorSession
from incubator.orgs.models import Membership
from incubator.webhooks import services
from incubator.webhooks.models import OutboxEvent
from tests.cohorts.fixtures import THIS_MONTH, kpis
from tests.conftest import csrf_token, login
from tests.factories import checkin
from tests.intake.fixtures import application
from tests.payments.fixtures import deliver
from tests.payments.test_checkout import _checkout


def subscribe(app, session, org, url="https://hooks.example.com/in"):
    with app.test_request_context():
        subscription, secret = services.create_subscription(session, org.id, url=url,
                                                            events=list(services.EVENT_TYPES))
    session.flush()
    return subscription, secret


def emitted(session, event_type):
    rows = session.execute(select(OutboxEvent).where(OutboxEvent.type == event_type)
                           .order_by(OutboxEvent.id)).scalars().all()
    return [json.loads(r.body)["data"] for r in rows]


def test_booking_payment_and_refund_events(app, client, session, pay_api, paying, fablab, fake):
    subscribe(app, session, paying.org)
    booking_id, body = _checkout(pay_api, paying, fablab)
    assert emitted(session, "booking.confirmed") == []  # awaiting payment: not confirmed yet
    fake.complete(body["session_id"])
    deliver(client, fake)
    [paid] = emitted(session, "payment.succeeded")
    assert paid["payment_id"] == body["payment_id"] and paid["booking_id"] == booking_id
    assert (paid["amount"], paid["currency"], paid["status"], paid["purpose"]) == (150_000, "VND", "paid", "booking")
    [confirmed] = emitted(session, "booking.confirmed")
    assert confirmed["booking_id"] == booking_id and confirmed["status"] == "confirmed"
    assert confirmed["starts_at"].endswith("+00:00") and confirmed["price"] == 150_000

    assert pay_api(paying.founder, "POST", f"/bookings/{booking_id}/cancel").status_code == 200
    [cancelled] = emitted(session, "booking.cancelled")
    assert cancelled["booking_id"] == booking_id and cancelled["status"] == "cancelled"
    [refunded] = emitted(session, "payment.refunded")
    assert (refunded["refund_amount"], refunded["amount_refunded"], refunded["status"]) == (150_000, 150_000,
                                                                                             "refunded")


def test_a_free_booking_is_confirmed_at_once(app, session, pay_api, paying, fablab):
    from tests.payments.fixtures import book_room

    subscribe(app, session, paying.org)
    fablab.room.price_member = 0
    session.flush()
    booking = book_room(pay_api, paying.founder, fablab.room)
    assert booking["status"] == "confirmed"
    assert [e["booking_id"] for e in emitted(session, "booking.confirmed")] == [booking["id"]]


def test_checkin_submitted_through_the_page_reaches_the_endpoint(app, client, session, world, receiver):
    _subscription, secret = subscribe(app, session, world.org, receiver.url + "/hook")
    login(client, world.founder.email)
    url = f"/o/bbi/startups/{world.startup.id}/checkins/new"
    period = checkins.add_months(THIS_MONTH, -1)
    response = client.post(url, data={"period": period.strftime("%Y-%m"), **kpis(),
                                      "csrf_token": csrf_token(client, url)})
    assert response.status_code == 302
    [got] = receiver.requests
    assert got.json["type"] == "checkin.submitted"
    assert got.json["data"]["startup_id"] == world.startup.id and got.json["data"]["period"] == period.isoformat()
    from incubator.webhooks.delivery import verify

    assert verify(secret, got.headers["Webhook-Signature"], got.body)


def test_checkin_verified(app, client, session, world):
    subscribe(app, session, world.org)
    record = checkin(world.startup, checkins.add_months(THIS_MONTH, -1), **kpis())
    login(client, world.manager.email)
    client.post(f"/o/bbi/checkins/{record.id}/lock",
                data={"csrf_token": csrf_token(client, f"/o/bbi/checkins/{record.id}")})
    [verified] = emitted(session, "checkin.verified")
    assert verified["checkin_id"] == record.id and verified["verified_by_id"] == world.manager.id


def test_application_submitted_and_decided(app, session, intake):
    subscribe(app, session, intake.org)
    draft = application(intake.call, intake.founder, Stage.DRAFT)
    with app.test_request_context():
        intake_services.submit_application(session, draft, intake.founder)
    [submitted] = emitted(session, "application.submitted")
    assert submitted["application_id"] == draft.id and submitted["stage"] == "submitted"
    assert submitted["submitted_at"]

    in_review = application(intake.call, intake.other_founder, Stage.IN_REVIEW)
    membership = session.execute(select(Membership).where(Membership.user_id == intake.manager.id)).scalar_one()
    with app.test_request_context():
        decisions.decide(session, in_review, intake.manager, membership, "rejected")
    [decided] = emitted(session, "application.decided")
    assert decided["application_id"] == in_review.id and decided["stage"] == "rejected"


@pytest.fixture()
def subscribed_world(app, session, world):
    return subscribe(app, session, world.org)


def test_match_published_and_session_logged(app, session, world, subscribed_world, published):
    published_events = emitted(session, "match.published")
    assert {e["match_id"] for e in published_events} == {m.id for m in published.values()}
    match = published[world.startup.id]
    record = MentorSession(org_id=world.org.id, match=match, mentor_id=match.mentor_id,
                           starts_at=utcnow() - timedelta(hours=2), duration_minutes=60)
    session.add(record)
    session.flush()
    with app.test_request_context():
        mentor_sessions.log_session(record, match.mentor.user, notes="Pitch deck", topics="Fundraising",
                                       duration_minutes=90, actions=[])
    [logged] = emitted(session, "session.logged")
    assert logged["session_id"] == record.id and logged["duration_minutes"] == 90 and logged["status"] == "held"


def test_no_subscription_no_outbox_row(app, session, world):
    record = checkin(world.startup, checkins.add_months(THIS_MONTH, -2), **kpis())
    with app.test_request_context():
        checkins.verify_checkin(record, world.manager)
    assert emitted(session, "checkin.verified") == []
