"""The figures shown before confirming a booking (``services.quote_booking``, the book page's summary,
``POST /bookings/quote``) are what the booking then charges: checked against an independent
computation over lengths, prices, credits and earlier bookings, and through both doors."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from incubator.booking import rules, services
from incubator.booking.models import Booking, BookingStatus
from incubator.cohorts.models import CohortLabCredit, ResourceKind
from incubator.core.db import utcnow
from tests.booking.fixtures import SAIGON, next_weekday_at
from tests.conftest import csrf_token, login


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(price=st.integers(0, 5_000_000), credit_hours=st.integers(0, 30), earlier=st.integers(0, 10),
       halves=st.integers(1, 48), quota_hours=st.one_of(st.none(), st.integers(30, 60)))
def test_the_quote_is_what_the_booking_then_charges(app, session, world, fablab, price, credit_hours, earlier,
                                                     halves, quota_hours):
    printer = fablab.printer  # a machine, open around the clock: the cohort's machine credits apply
    monday = next_weekday_at(0, 0, weeks=2)
    savepoint = session.begin_nested()  # each example starts from the same world
    try:
        printer.price_member, printer.max_hours_per_week = price, quota_hours
        credit = session.execute(select(CohortLabCredit).where(
            CohortLabCredit.cohort_id == world.cohort.id, CohortLabCredit.resource_kind == ResourceKind.MACHINE)
        ).scalar_one()
        credit.hours = credit_hours
        session.flush()
        with app.test_request_context():
            if earlier:  # an earlier booking of the week uses credits and quota first
                services.create_booking(session, world.org, printer, world.founder, monday + timedelta(hours=1),
                                        monday + timedelta(hours=1, minutes=30 * earlier), now=utcnow())
            start = monday + timedelta(days=2, hours=1)
            end = start + timedelta(minutes=30 * halves)
            offer = services.quote_booking(session, world.org, printer, world.founder, start, end)
            booking = services.create_booking(session, world.org, printer, world.founder, start, end)
        minutes = 30 * halves
        balance = max(0, credit_hours * 60 - min(30 * earlier, credit_hours * 60))
        used = min(minutes, balance)
        assert (offer.credit_minutes, offer.price) == (booking.credit_minutes, booking.price) == \
            (used, _ceil_div((minutes - used) * price, 60))
        assert offer.credits_before == balance and offer.credits_after == balance - used
        assert offer.status == booking.status
        if quota_hours is None:
            assert offer.quota_minutes is None and offer.quota_left is None
        else:
            week_used = rules.quota_minutes(session, printer.id, world.startup.id, monday, monday + timedelta(days=7))
            assert offer.quota_left == quota_hours * 60 - week_used == quota_hours * 60 - 30 * earlier - minutes
    finally:
        savepoint.rollback()  # the rows this example made leave the session with it


def test_the_api_quote_answers_what_the_booking_then_charges_and_books_nothing(client, session, world, fablab):
    from incubator.accounts.services import create_api_token

    token, _record = create_api_token(session, world.founder, "t")
    session.flush()
    headers = {"Authorization": f"Bearer {token}"}
    start = next_weekday_at(1, 9)
    body = {"resource_id": fablab.laser.id, "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=4)).isoformat()}
    quoted = client.post("/api/v1/orgs/bbi/bookings/quote", json=body, headers=headers)
    assert quoted.status_code == 200, quoted.get_json()
    figures = quoted.get_json()
    # 3 hours of machine credits, then one hour at 200,000 VND; the laser's quota is 4 hours a week
    assert figures == {"minutes": 240, "credit_minutes": 180, "price": 200_000, "currency": "VND",
                       "credits_before": 180, "credits_after": 0, "quota_minutes": 240, "quota_left": 0,
                       "status": "awaiting_payment"}
    assert session.execute(select(Booking.id).where(Booking.resource_id == fablab.laser.id)).first() is None
    booked = client.post("/api/v1/orgs/bbi/bookings", json=body, headers=headers).get_json()
    assert (booked["credit_minutes"], booked["price"], booked["status"]) == (180, 200_000, "awaiting_payment")
    # a rule refused answers as the booking would: a 4xx with its code and field, never a figure
    again = client.post("/api/v1/orgs/bbi/bookings/quote", json={**body, "starts_at": (start + timedelta(days=1))
                                                                  .isoformat(), "ends_at": (start + timedelta(
                                                                      days=1, hours=1)).isoformat()}, headers=headers)
    assert again.status_code == 422 and again.get_json()["code"] == "quota_exceeded"
    bad = client.post("/api/v1/orgs/bbi/bookings/quote", json={**body, "ends_at": "tomorrow"}, headers=headers)
    assert bad.status_code == 422 and "ends_at" in str(bad.get_json())


def test_the_book_page_shows_the_price_and_what_remains_before_confirming(client, session, world, fablab):
    login(client, world.founder.email)
    start = next_weekday_at(1, 9)
    url = f"/o/bbi/resources/{fablab.laser.id}/book?start=" + quote(start.astimezone(SAIGON).strftime("%Y-%m-%dT%H:%M"))
    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-testid="booking-quote" data-price="0" data-credit-minutes="30"' in html  # the shortest, on credits
    preview = client.post(url, data={"csrf_token": csrf_token(client, url), "minutes": "240", "preview": "1"})
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    assert 'data-price="200000" data-credit-minutes="180"' in html
    assert 'data-testid="quote-quota-left">0.0' in html and 'data-testid="quote-credits-left">0.0' in html
    assert session.execute(select(Booking.id).where(Booking.resource_id == fablab.laser.id)).first() is None
    booked = client.post(url, data={"csrf_token": csrf_token(client, url), "minutes": "240"})
    assert booked.status_code == 302
    made = session.execute(select(Booking).where(Booking.resource_id == fablab.laser.id)).scalar_one()
    assert (made.price, made.credit_minutes, made.status) == (200_000, 180, BookingStatus.AWAITING_PAYMENT)


def test_the_book_page_says_why_before_anything_is_typed(client, session, world, fablab):
    """A founder without the laser's training sees the refusal on the form, not a price."""
    login(client, world.other_founder.email)
    start = next_weekday_at(1, 9)
    url = f"/o/bbi/resources/{fablab.laser.id}/book?start=" + quote(start.astimezone(SAIGON).strftime("%Y-%m-%dT%H:%M"))
    html = client.get(url).get_data(as_text=True)
    assert 'data-code="training_required"' in html and "booking-quote" not in html
