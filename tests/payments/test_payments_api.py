"""Payments over the API (#13): one payment, refunds with the page's rule, the list's filters and pages;
the same answers as the pages for every role."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from incubator.core.db import utcnow
from incubator.core.permissions import Role
from incubator.ledger.models import Payment
from tests.conftest import csrf_token, login
from tests.doors import assert_same_door
from tests.factories import member
from tests.payments.fixtures import book_room, deliver


def _paid(client, pay_api, world, fablab, fake) -> int:
    booking = book_room(pay_api, world.founder, fablab.room)
    body = pay_api(world.founder, "POST", f"/bookings/{booking['id']}/checkout").get_json()
    fake.complete(body["session_id"])
    deliver(client, fake)
    return body["payment_id"]


def test_one_payment_is_seen_by_its_payer_and_managers_only(client, session, pay_api, paying, fablab, fake):
    payment_id = _paid(client, pay_api, paying, fablab, fake)
    mine = pay_api(paying.founder, "GET", f"/payments/{payment_id}")
    assert mine.status_code == 200 and mine.get_json()["status"] == "paid"
    assert pay_api(paying.manager, "GET", f"/payments/{payment_id}").status_code == 200
    assert pay_api(paying.other_founder, "GET", f"/payments/{payment_id}").status_code == 404
    assert pay_api(paying.founder, "GET", "/payments/999999").status_code == 404


def test_a_manager_refunds_once(client, session, pay_api, paying, fablab, fake):
    payment_id = _paid(client, pay_api, paying, fablab, fake)
    refused = pay_api(paying.founder, "POST", f"/payments/{payment_id}/refund")
    assert refused.status_code == 403
    done = pay_api(paying.manager, "POST", f"/payments/{payment_id}/refund")
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["amount_refunded"] == done.get_json()["amount"]
    again = pay_api(paying.manager, "POST", f"/payments/{payment_id}/refund")
    assert again.status_code == 200 and fake.calls.count("refund") == 1


def test_an_unpaid_payment_is_not_refundable(client, session, pay_api, paying, fablab, fake):
    booking = book_room(pay_api, paying.founder, fablab.room)
    payment_id = pay_api(paying.founder, "POST", f"/bookings/{booking['id']}/checkout").get_json()["payment_id"]
    answer = pay_api(paying.manager, "POST", f"/payments/{payment_id}/refund")
    assert answer.status_code == 409 and answer.get_json()["code"] == "not_refundable"


def test_refund_same_door_for_every_role(client, session, pay_api, paying, fablab, fake):
    payment_id = _paid(client, pay_api, paying, fablab, fake)
    for role in Role:
        user = member(paying.org, role)
        login(client, user.email)
        page = client.post(f"/o/bbi/manage/payments/{payment_id}/refund",
                           data={"csrf_token": csrf_token(client, "/account")})
        api = pay_api(user, "POST", f"/payments/{payment_id}/refund")
        expected = "allowed" if role in (Role.OWNER, Role.MANAGER) else "forbidden"
        assert assert_same_door(page, api, role) == expected
        client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/account")})


def test_the_list_filters_by_status_and_days_and_pages(client, session, pay_api, paying, fablab, fake):
    paid_id = _paid(client, pay_api, paying, fablab, fake)
    booking = book_room(pay_api, paying.founder, fablab.room, hour=14)
    pending_id = pay_api(paying.founder, "POST", f"/bookings/{booking['id']}/checkout").get_json()["payment_id"]
    old = session.get(Payment, paid_id)
    old.created_at = utcnow() - timedelta(days=40)
    session.flush()
    ids = lambda answer: [p["id"] for p in answer.get_json()]  # noqa: E731
    assert ids(pay_api(paying.manager, "GET", "/payments")) == [pending_id, paid_id]
    assert ids(pay_api(paying.manager, "GET", "/payments?status=paid")) == [paid_id]
    today = utcnow().date()
    recent = pay_api(paying.manager, "GET", f"/payments?from={today - timedelta(days=7)}")
    assert ids(recent) == [pending_id]
    older = pay_api(paying.manager, "GET", f"/payments?to={today - timedelta(days=30)}")
    assert ids(older) == [paid_id]
    paged = pay_api(paying.manager, "GET", "/payments?page_size=1&page=2")
    assert ids(paged) == [paid_id] and json.loads(paged.headers["X-Pagination"])["total"] == 2
    assert ids(pay_api(paying.other_founder, "GET", "/payments")) == []  # only one's own
    for bad in ("status=lost", "from=yesterday", f"from={today}&to={today - timedelta(days=1)}"):
        answer = pay_api(paying.manager, "GET", f"/payments?{bad}")
        assert answer.status_code == 422, bad
    assert session.execute(select(Payment.id).where(Payment.id == paid_id)).scalar_one() == paid_id


def test_the_report_page_is_paginated(client, sign_in, session, paying):
    from incubator.ledger.models import PaymentStatus

    for i in range(55):
        session.add(Payment(org_id=paying.org.id, user_id=paying.founder.id, description=f"Room {i}",
                            amount=1000, currency="VND", destination_account="acct_1TestBBI",
                            idempotency_key=f"page-{i}", status=PaymentStatus.EXPIRED))
    session.flush()
    sign_in(paying.manager)
    first = client.get("/o/bbi/manage/payments").get_data(as_text=True)
    assert first.count("Room ") == 50 and "55 in all" in first
    second = client.get("/o/bbi/manage/payments?page=2").get_data(as_text=True)
    assert second.count("Room ") == 5


def test_the_payment_line_is_in_the_payers_language_whatever_the_request_speaks(client, session, pay_api, paying,
                                                                                 fablab, fake):
    """The line the gateway's page and the receipt show is written once, in one language: the payer's
    own, else the organisation's (bbi's is Vietnamese), not the language the API request happened to ask for."""
    paying.founder.locale = None
    session.flush()
    assert paying.org.default_locale == "vi"
    booking = book_room(pay_api, paying.founder, fablab.room)
    payment_id = pay_api(paying.founder, "POST", f"/bookings/{booking['id']}/checkout").get_json()["payment_id"]
    line = session.get(Payment, payment_id).description
    assert line.startswith(fablab.room.name + ", ") and "thg" in line, line  # a Vietnamese date: "9 thg 12, 2026"

    paying.founder.locale = "en"
    session.flush()
    again = book_room(pay_api, paying.founder, fablab.room, hour=14)
    other_id = pay_api(paying.founder, "POST", f"/bookings/{again['id']}/checkout",
                       headers={"Accept-Language": "vi"}).get_json()["payment_id"]
    assert "thg" not in session.get(Payment, other_id).description
