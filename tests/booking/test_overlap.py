"""Overlaps are refused by the database itself (PostgreSQL's exclusion constraint, SQLite's triggers of
migration 0015b), and ``create_booking`` turns the refusal into one answer through both doors while saving
nothing else; a hold that ran out no longer blocks its time; the weekly quota is summed by the database.
Run on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from incubator.booking import credits, rules, services
from incubator.booking.availability import free_intervals
from incubator.booking.models import ACTIVE_STATUSES, Booking, BookingStatus
from incubator.core.db import utcnow
from incubator.core.errors import Conflict
from incubator.ledger.models import LedgerEntry, LedgerKind
from incubator.webhooks.models import OutboxEvent
from tests.booking.fixtures import SAIGON, next_weekday_at
from tests.conftest import csrf_token, login, statements
from tests.doors import assert_same_door

INCLUDED = 3 * 60  # the cohort's machine credits (tests/booking/fixtures.py)


def _row(world, resource, start, minutes=60, status=BookingStatus.CONFIRMED, **fields) -> Booking:
    end = start + timedelta(minutes=minutes)
    return Booking(org_id=world.org.id, resource_id=resource.id, user_id=world.other_founder.id, starts_at=start,
                   ends_at=end, blocked_until=end, status=status, **fields)


def _balance(session, world) -> int:
    return credits.credit_balance(session, world.startup, world.cohort, "machine")


def test_the_database_refuses_overlapping_active_bookings(session, world, fablab):
    start = next_weekday_at(2, 10)
    session.add(_row(world, fablab.room, start))
    session.flush()
    with session.begin_nested():
        session.add(_row(world, fablab.room, start + timedelta(minutes=60)))  # back to back: half-open ranges
    with session.begin_nested():
        cancelled = _row(world, fablab.room, start + timedelta(minutes=30), status=BookingStatus.CANCELLED)
        session.add(cancelled)  # not active: allowed over the others
    with session.begin_nested():
        session.add(_row(world, fablab.printer, start))  # another resource
    with pytest.raises(IntegrityError, match=services.OVERLAP_CONSTRAINT), session.begin_nested():
        session.add(_row(world, fablab.room, start + timedelta(minutes=30)))
    with pytest.raises(IntegrityError, match=services.OVERLAP_CONSTRAINT), session.begin_nested():
        cancelled.status = BookingStatus.CONFIRMED  # an update that makes a row active is checked too
    session.refresh(cancelled)
    with pytest.raises(IntegrityError, match=services.OVERLAP_CONSTRAINT), session.begin_nested():
        cancelled.status = BookingStatus.CONFIRMED
        cancelled.starts_at = start + timedelta(minutes=90)  # and so is a move
        cancelled.ends_at = cancelled.blocked_until = start + timedelta(minutes=150)
    rows = session.execute(select(Booking.starts_at, Booking.status).where(Booking.status.in_(ACTIVE_STATUSES))
                           .order_by(Booking.starts_at)).all()
    assert [(s, str(status)) for s, status in rows] == [(start, "confirmed"), (start, "confirmed"),
                                                (start + timedelta(minutes=60), "confirmed")]


def _hold(app, session, world, fablab, start):
    """The founder's four hours of the printer, three of them on credits: a hold awaiting payment, made
    20 minutes ago, so that it ran out 5 minutes ago and nothing has released it yet."""
    with app.test_request_context():
        hold = services.create_booking(session, world.org, fablab.printer, world.founder, start,
                                       start + timedelta(hours=4), now=utcnow() - timedelta(minutes=20))
    assert hold.status == BookingStatus.AWAITING_PAYMENT and hold.hold_expires_at < utcnow()
    assert (hold.credit_minutes, _balance(session, world)) == (INCLUDED, 0)
    return hold


def test_an_expired_hold_no_longer_blocks_its_time(app, session, world, fablab):
    start = next_weekday_at(2, 9)
    hold = _hold(app, session, world, fablab, start)
    with app.test_request_context():
        free = free_intervals(session, world.org, [fablab.printer], start, start + timedelta(hours=4))
        assert free[fablab.printer.id] == [(start.astimezone(SAIGON), (start + timedelta(hours=4)).astimezone(SAIGON))]
        taken = services.create_booking(session, world.org, fablab.printer, world.manager, start + timedelta(hours=1),
                                        start + timedelta(hours=2), is_staff=True)
    assert taken.status == BookingStatus.CONFIRMED
    assert hold.status == BookingStatus.EXPIRED  # released by the booking that needed its time
    assert _balance(session, world) == INCLUDED  # and its credits came back
    returns = session.execute(select(LedgerEntry.minutes).where(LedgerEntry.booking_id == hold.id,
                                                                LedgerEntry.kind == LedgerKind.CREDIT_RETURN))
    assert returns.scalars().all() == [INCLUDED]


def test_a_hold_that_ran_out_is_still_not_renewed_by_its_holder(app, session, world, fablab):
    start = next_weekday_at(2, 9)
    hold = _hold(app, session, world, fablab, start)
    with app.test_request_context(), pytest.raises(Conflict) as refused:
        services.create_booking(session, world.org, fablab.printer, world.founder, start, start + timedelta(hours=4))
    assert refused.value.code == "hold_renewal"
    assert hold.status == BookingStatus.AWAITING_PAYMENT  # the refusal rolled back its release too


def test_a_taken_time_is_answered_as_taken_before_the_hold_rules(app, session, world, fablab):
    start = next_weekday_at(2, 9)
    _hold(app, session, world, fablab, start)
    with app.test_request_context():
        assert services.expire_holds(session) == 1  # the periodic job released it
    session.add(_row(world, fablab.printer, start + timedelta(hours=1)))  # and someone else took an hour of it
    session.flush()
    with app.test_request_context(), pytest.raises(Conflict) as refused:
        services.create_booking(session, world.org, fablab.printer, world.founder, start, start + timedelta(hours=4))
    assert refused.value.code == "slot_taken"  # first, though the hold may not be renewed yet either


def test_a_refused_overlap_answers_alike_through_both_doors_and_saves_nothing(client, session, world, fablab,
                                                                                app, api_as):
    start = next_weekday_at(1, 10)
    session.add(_row(world, fablab.laser, start + timedelta(minutes=30)))  # the other founder's
    session.flush()
    outbox = session.execute(select(func.count()).select_from(OutboxEvent)).scalar_one()
    with statements(app) as seen:
        api = api_as(world.founder, "POST", "/bookings", json={
            "resource_id": fablab.laser.id, "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=1)).isoformat()})
    assert api.status_code == 409 and api.get_json()["code"] == "slot_taken"
    assert any(s.startswith("INSERT INTO bookings") for s in seen)  # the database said no, not a pre-check
    login(client, world.founder.email)
    url = f"/o/bbi/resources/{fablab.laser.id}/book?start={start.astimezone(SAIGON).isoformat()}"
    token = csrf_token(client, url)
    with statements(app) as seen:
        page = client.post(url, data={"minutes": "60", "csrf_token": token})
    assert 'data-code="slot_taken"' in page.get_data(as_text=True)
    assert any(s.startswith("INSERT INTO bookings") for s in seen)
    assert assert_same_door(page, api, "a taken time") == "allowed"
    assert session.execute(select(func.count()).select_from(Booking)).scalar_one() == 1
    assert session.execute(select(func.count()).select_from(LedgerEntry)).scalar_one() == 0
    assert session.execute(select(func.count()).select_from(OutboxEvent)).scalar_one() == outbox
    assert _balance(session, world) == INCLUDED
    # and the same founder's next, free, hour is booked on credits: the refusal left nothing behind
    booked = api_as(world.founder, "POST", "/bookings", json={
        "resource_id": fablab.laser.id, "starts_at": (start + timedelta(hours=2)).isoformat(),
        "ends_at": (start + timedelta(hours=3)).isoformat()})
    assert booked.status_code == 201 and _balance(session, world) == INCLUDED - 60


@pytest.fixture()
def api_as(client, session):
    from incubator.accounts.services import create_api_token

    def _call(user, method, url, **kwargs):
        token, _record = create_api_token(session, user, "t")
        session.flush()
        return client.open(f"/api/v1/orgs/bbi{url}", method=method, headers={"Authorization": f"Bearer {token}"},
                           **kwargs)

    return _call


# -- the weekly quota, summed by the database ---------------------------------------------------------

STATUSES = [str(s) for s in BookingStatus]
bookings = st.lists(st.tuples(
    st.integers(0, 1),  # which startup
    st.booleans(),  # which resource
    st.integers(-9 * 48, 9 * 48),  # start, in half hours from the week's start
    st.integers(1, 7 * 48),  # length in half hours, at most a week (rules.MAX_BOOKING)
    st.sampled_from(STATUSES)), max_size=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=bookings)
def test_the_quota_sum_equals_the_minutes_of_the_rows(app, session, world, fablab, rows):
    week_start = next_weekday_at(0, 0, weeks=2)
    week_end = week_start + timedelta(days=7)
    startups = [world.startup, world.other]
    savepoint = session.begin_nested()  # each example starts from the same world
    try:
        for which, printer, offset, length, status in rows:
            row = _row(world, fablab.printer if printer else fablab.room, week_start + timedelta(minutes=30 * offset),
                       30 * length, BookingStatus(status), startup_id=startups[which].id)
            try:
                with session.begin_nested():
                    session.add(row)
            except IntegrityError:
                continue  # an overlap the database refuses: not a row
        for resource in (fablab.printer, fablab.room):
            for startup in startups:
                kept = session.execute(select(Booking.starts_at, Booking.ends_at, Booking.status).where(
                    Booking.resource_id == resource.id, Booking.startup_id == startup.id)).all()
                expected = sum(int((end - begin).total_seconds()) // 60 for begin, end, status in kept
                               if status in ACTIVE_STATUSES and begin < week_end and end > week_start)
                assert rules.quota_minutes(session, resource.id, startup.id, week_start, week_end) == expected
    finally:
        savepoint.rollback()
        session.expunge_all()  # the rows of this example (SQLite gives their ids again to the next one)


def test_releasing_holds_returns_their_credits_with_one_read_of_the_ledger(app, session, world, fablab):
    start = next_weekday_at(2, 9)
    ran_out = utcnow() - timedelta(minutes=5)
    for hour in range(3):
        hold = _row(world, fablab.printer, start + timedelta(hours=hour), status=BookingStatus.AWAITING_PAYMENT,
                    startup_id=world.startup.id, credit_minutes=60, hold_expires_at=ran_out)
        session.add(hold)
        session.flush()
        session.add(LedgerEntry(org_id=world.org.id, startup_id=world.startup.id, cohort_id=world.cohort.id,
                                resource_kind="machine", minutes=-60, booking_id=hold.id, kind=LedgerKind.CREDIT_USE))
    session.flush()
    assert _balance(session, world) == 0
    with statements(app) as seen, app.test_request_context():
        assert services.expire_holds(session) == 3
    assert sum(1 for s in seen if s.startswith("SELECT") and "FROM ledger_entries" in s) == 1
    assert _balance(session, world) == INCLUDED
