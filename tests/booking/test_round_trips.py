"""What creating a booking costs in statements (issue #15): on PostgreSQL the insert is one
``INSERT ... ON CONFLICT DO NOTHING RETURNING`` (no savepoint), and the rules read says whether the
organisation has an active webhook subscription, so the subscription lookup runs only when there is one.
The counts are held here, so a regression fails."""

from __future__ import annotations

from datetime import timedelta

import pytest

from incubator.booking import services
from incubator.booking.models import BookingStatus
from incubator.core.errors import Conflict
from incubator.webhooks import services as webhooks
from tests.booking.fixtures import next_weekday_at
from tests.conftest import statements
from tests.webhooks.test_domain_events import emitted


@pytest.fixture()
def postgres(session):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("the statement counts of PostgreSQL's path")


def _book(app, session, world, resource, user, start, *, is_staff):
    with statements(app) as seen, app.test_request_context():
        booking = services.create_booking(session, world.org, resource, user, start, start + timedelta(hours=1),
                                          is_staff=is_staff)
    return booking, seen


def test_staff_books_in_two_statements(app, session, world, fablab, postgres):
    booking, seen = _book(app, session, world, fablab.printer, world.manager, next_weekday_at(2, 9), is_staff=True)
    assert booking.status == BookingStatus.CONFIRMED and booking.id is not None
    assert len(seen) == 2, seen  # the rules read, the insert
    assert seen[0].startswith("SELECT") and seen[1].startswith("INSERT INTO bookings")
    assert "ON CONFLICT DO NOTHING" in seen[1]
    assert not any("SAVEPOINT" in s for s in seen)


def test_a_founder_on_credits_books_in_four_statements(app, session, world, fablab, postgres):
    booking, seen = _book(app, session, world, fablab.laser, world.founder, next_weekday_at(2, 9), is_staff=False)
    assert (booking.status, booking.credit_minutes, booking.price) == (BookingStatus.CONFIRMED, 60, 0)
    # the startup's lock, the rules read, the booking, its credit debit
    assert len(seen) == 4, seen
    assert "FOR NO KEY UPDATE OF startups" in seen[0]
    assert seen[2].startswith("INSERT INTO bookings") and seen[3].startswith("INSERT INTO ledger_entries")
    assert booking.created_at is not None and booking.startup_id == world.startup.id  # loaded from RETURNING


def test_a_taken_time_is_refused_without_a_savepoint(app, session, world, fablab, postgres):
    start = next_weekday_at(2, 9)
    _book(app, session, world, fablab.printer, world.manager, start, is_staff=True)
    with statements(app) as seen, app.test_request_context(), pytest.raises(Conflict) as refused:
        services.create_booking(session, world.org, fablab.printer, world.manager, start + timedelta(minutes=30),
                                start + timedelta(minutes=90), is_staff=True)
    assert refused.value.code == "slot_taken"
    # the rules read, the insert that came back empty, the look for expired holds in the way
    assert len(seen) == 3, seen
    assert not any("SAVEPOINT" in s for s in seen)


def test_an_active_subscription_is_looked_up_and_gets_the_event(app, session, world, fablab):
    with app.test_request_context():
        webhooks.create_subscription(session, world.org.id, url="https://hooks.example.com/in",
                                     events=["booking.confirmed"])
    session.flush()
    booking, seen = _book(app, session, world, fablab.printer, world.manager, next_weekday_at(2, 9), is_staff=True)
    assert any("FROM webhook_subscriptions" in s and s.startswith("SELECT webhook_subscriptions") for s in seen)
    assert [e["booking_id"] for e in emitted(session, "booking.confirmed")] == [booking.id]


def test_a_paused_subscription_alone_costs_no_lookup(app, session, world, fablab):
    with app.test_request_context():
        subscription, _secret = webhooks.create_subscription(session, world.org.id, url="https://hooks.example.com/in",
                                                             events=["booking.confirmed"])
        webhooks.update_subscription(session, subscription, paused=True)
    session.flush()
    booking, seen = _book(app, session, world, fablab.printer, world.manager, next_weekday_at(2, 9), is_staff=True)
    assert booking.status == BookingStatus.CONFIRMED
    assert not any(s.startswith("SELECT webhook_subscriptions") for s in seen)
    assert emitted(session, "booking.confirmed") == []
