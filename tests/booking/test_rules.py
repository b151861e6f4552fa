"""Every booking rule, through the service and the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from incubator.accounts.services import create_api_token
from incubator.booking import credits, services, usage, waitlist
from incubator.booking.models import Booking, BookingStatus, Closure
from incubator.core.errors import DomainError
from incubator.ledger.models import LedgerEntry
from tests.booking.fixtures import next_weekday_at


@pytest.fixture()
def api(client, session, world):
    def _call(user, method, url, **kwargs):
        token, _record = create_api_token(session, user, "t")
        session.flush()
        return client.open(f"/api/v1/orgs/bbi{url}", method=method,
                           headers={"Authorization": f"Bearer {token}"}, **kwargs)

    return _call


def _book(api, user, resource, starts, minutes=60):
    return api(user, "POST", "/bookings", json={"resource_id": resource.id, "starts_at": starts.isoformat(),
                                                "ends_at": (starts + timedelta(minutes=minutes)).isoformat()})


@pytest.mark.parametrize("hour,minute,minutes,code", [
    (21, 0, 60, "outside_opening_hours"),
    (19, 30, 60, "outside_opening_hours"),
    (10, 15, 60, "not_on_slot"),
    (10, 0, 300, "too_long"),
])
def test_rules_answer_with_their_code(api, world, fablab, hour, minute, minutes, code):
    response = _book(api, world.founder, fablab.room, next_weekday_at(1, hour, minute), minutes)
    assert response.status_code == 422 and response.get_json()["code"] == code


def test_weekend_is_outside_the_opening_hours(api, world, fablab):
    response = _book(api, world.founder, fablab.room, next_weekday_at(6, 10))
    assert response.get_json()["code"] == "outside_opening_hours"


def test_too_short_too_far_and_too_late(api, world, fablab, session):
    fablab.room.min_minutes = 60
    session.flush()
    assert _book(api, world.founder, fablab.room, next_weekday_at(1, 10), 30).get_json()["code"] == "too_short"
    far = next_weekday_at(1, 10, weeks=6)
    assert _book(api, world.founder, fablab.room, far).get_json()["code"] == "too_far_ahead"
    fablab.room.min_notice_minutes = 60 * 24 * 40
    session.flush()
    assert _book(api, world.founder, fablab.room, next_weekday_at(1, 10)).get_json()["code"] == "too_late_notice"


def test_closures_and_maintenance(api, world, fablab, session):
    start = next_weekday_at(2, 8)
    session.add(Closure(org_id=world.org.id, resource_id=fablab.room.id, starts_at=start,
                        ends_at=start + timedelta(hours=6), reason="Tết cleaning", maintenance=True))
    session.flush()
    response = _book(api, world.founder, fablab.room, next_weekday_at(2, 10))
    assert response.get_json()["code"] == "closed" and "Tết cleaning" in response.get_json()["message"]


def test_training_is_required_by_the_server(api, world, fablab):
    refused = _book(api, world.other_founder, fablab.laser, next_weekday_at(1, 10))
    assert refused.status_code == 422 and refused.get_json()["code"] == "training_required"
    assert _book(api, world.founder, fablab.laser, next_weekday_at(1, 10)).status_code == 201


def test_an_expired_certification_does_not_count(api, world, fablab, session):
    from incubator.booking.models import Certification

    cert = session.execute(select(Certification)).scalar_one()
    cert.expires_on = next_weekday_at(1, 10).date() - timedelta(days=1)
    session.flush()
    assert _book(api, world.founder, fablab.laser, next_weekday_at(1, 10)).get_json()["code"] == "training_required"


def test_weekly_quota_per_startup(api, world, fablab):
    assert _book(api, world.founder, fablab.laser, next_weekday_at(1, 9), 180).status_code == 201
    over = _book(api, world.founder, fablab.laser, next_weekday_at(2, 9), 120)
    assert over.get_json()["code"] == "quota_exceeded"
    assert _book(api, world.founder, fablab.laser, next_weekday_at(2, 9), 60).status_code == 201


def test_overlaps_are_409_and_back_to_back_is_fine(api, world, fablab):
    start = next_weekday_at(3, 10)
    assert _book(api, world.founder, fablab.room, start, 60).status_code == 201
    clash = _book(api, world.other_founder, fablab.room, start + timedelta(minutes=30), 60)
    assert clash.status_code == 409 and clash.get_json()["code"] == "slot_taken"
    assert _book(api, world.other_founder, fablab.room, start + timedelta(minutes=60), 60).status_code == 201


def test_the_buffer_after_a_booking_is_kept_free(api, world, fablab):
    start = next_weekday_at(3, 10)
    assert _book(api, world.founder, fablab.laser, start, 60).status_code == 201
    assert _book(api, world.founder, fablab.laser, start + timedelta(minutes=60)).get_json()["code"] == "slot_taken"
    assert _book(api, world.founder, fablab.laser, start + timedelta(minutes=90)).status_code == 201


def test_overnight_bookings_on_round_the_clock_machines(api, world, fablab):
    assert _book(api, world.founder, fablab.printer, next_weekday_at(2, 22), 10 * 60).status_code == 201
    assert _book(api, world.founder, fablab.room, next_weekday_at(2, 19), 120).get_json()["code"] == \
        "outside_opening_hours"


def test_credits_are_used_first_then_the_member_rate(api, world, fablab, session):
    body = _book(api, world.founder, fablab.laser, next_weekday_at(1, 9), 120).get_json()
    assert (body["status"], body["credit_minutes"], body["price"]) == ("confirmed", 120, 0)
    body = _book(api, world.founder, fablab.laser, next_weekday_at(2, 9), 120).get_json()
    # 3 included hours: one left, the second hour is paid at 200,000 VND.
    assert (body["status"], body["credit_minutes"], body["price"]) == ("awaiting_payment", 60, 200_000)
    assert body["hold_expires_at"] is not None
    ledger = session.execute(select(LedgerEntry.minutes)).scalars().all()
    assert sorted(ledger) == [-120, -60]


def test_rooms_without_credits_are_paid(api, world, fablab):
    body = _book(api, world.founder, fablab.room, next_weekday_at(1, 10), 90).get_json()
    assert (body["status"], body["price"], body["currency"]) == ("awaiting_payment", 150_000, "VND")


def test_an_expired_hold_frees_the_slot_and_returns_credits(app, world, fablab, session):
    start = next_weekday_at(1, 9)
    with app.test_request_context():
        first = services.create_booking(session, world.org, fablab.laser, world.founder, start,
                                        start + timedelta(hours=4))
    assert first.status == BookingStatus.AWAITING_PAYMENT and first.credit_minutes == 180
    later = first.hold_expires_at + timedelta(minutes=1)
    with app.test_request_context():
        services.expire_holds(session, fablab.laser.id, now=later)
    assert first.status == BookingStatus.EXPIRED
    balance = credits.credit_balance(session, world.startup, world.cohort, "machine")
    assert balance == 180


def test_cancelling_early_returns_credits_late_forfeits(app, api, world, fablab, session):
    body = _book(api, world.founder, fablab.laser, next_weekday_at(1, 9), 60).get_json()
    cancelled = api(world.founder, "POST", f"/bookings/{body['id']}/cancel")
    assert cancelled.get_json()["status"] == "cancelled"
    assert credits.credit_balance(session, world.startup, world.cohort, "machine") == 180
    body = _book(api, world.founder, fablab.laser, next_weekday_at(2, 9), 60).get_json()
    booking = session.get(Booking, body["id"])
    with app.test_request_context():
        returned = services.cancel_booking(session, booking, world.founder, False,
                                           now=booking.starts_at - timedelta(hours=2))
    assert returned is False
    assert credits.credit_balance(session, world.startup, world.cohort, "machine") == 120


def test_someone_elses_booking_cannot_be_cancelled(api, world, fablab):
    body = _book(api, world.founder, fablab.room, next_weekday_at(1, 10)).get_json()
    assert api(world.other_founder, "POST", f"/bookings/{body['id']}/cancel").status_code == 404


def test_approval_flow(app, world, fablab, session):
    fablab.room.needs_approval = True
    session.flush()
    start = next_weekday_at(1, 10)
    with app.test_request_context():
        booking = services.create_booking(session, world.org, fablab.room, world.founder, start,
                                          start + timedelta(hours=1))
        assert booking.status == BookingStatus.PENDING_APPROVAL
        services.decide_approval(booking, True)
        assert booking.status == BookingStatus.AWAITING_PAYMENT  # approved, now paid
        with pytest.raises(DomainError):
            services.decide_approval(booking, True)


def test_availability_is_opening_hours_minus_bookings(api, world, fablab):
    day_start = next_weekday_at(1, 0)
    _book(api, world.founder, fablab.laser, next_weekday_at(1, 10), 60)
    body = api(world.founder, "GET", f"/resources/{fablab.laser.id}/availability",
               query_string={"from": day_start.isoformat(), "to": (day_start + timedelta(days=1)).isoformat()})
    free = [(f["starts_at"][11:16], f["ends_at"][11:16]) for f in body.get_json()["free"]]
    assert free == [("08:00", "10:00"), ("11:15", "20:00")]  # the 15-minute buffer stays free
    assert body.get_json()["free"][0]["starts_at"].endswith("+07:00")


def test_my_bookings(api, world, fablab):
    _book(api, world.founder, fablab.room, next_weekday_at(1, 10))
    _book(api, world.other_founder, fablab.room, next_weekday_at(1, 12))
    mine = api(world.founder, "GET", "/bookings?mine=1").get_json()
    assert len(mine) == 1 and {"id", "resource_id", "starts_at", "ends_at", "status"} <= set(mine[0])


def test_weekly_bookings_all_or_nothing_or_skipping(app, world, fablab, session):
    start = next_weekday_at(1, 10)
    taken = start + timedelta(weeks=2)
    session.add(Booking(org_id=world.org.id, resource_id=fablab.room.id, user_id=world.other_founder.id,
                        starts_at=taken, ends_at=taken + timedelta(hours=1), blocked_until=taken + timedelta(hours=1),
                        status=BookingStatus.CONFIRMED))
    session.flush()
    with app.test_request_context(headers={"Accept-Language": "en"}):
        with pytest.raises(DomainError) as error:
            services.create_weekly(session, world.org, fablab.room, world.founder, start, start + timedelta(hours=1),
                                   4, skip_conflicts=False)
        assert error.value.code == "slot_taken" and "nothing was booked" in error.value.message
        assert session.execute(select(Booking).where(Booking.user_id == world.founder.id)).first() is None
        made, skipped = services.create_weekly(session, world.org, fablab.room, world.founder, start,
                                               start + timedelta(hours=1), 4, skip_conflicts=True)
    assert [b.starts_at for b in made] == [start, start + timedelta(weeks=1), start + timedelta(weeks=3)]
    assert [(s, e.code) for s, e in skipped] == [(taken, "slot_taken")]


def test_check_in_and_no_show_release(app, world, fablab, session):
    start = next_weekday_at(1, 10)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        kept = services.create_booking(session, world.org, fablab.laser, world.founder, start,
                                       start + timedelta(hours=1))
        missed = services.create_booking(session, world.org, fablab.printer, world.founder, start,
                                         start + timedelta(hours=2))
        with pytest.raises(DomainError) as error:
            services.check_in(kept, world.founder, False, now=start - timedelta(minutes=30))
        assert error.value.code == "not_now"
        with pytest.raises(DomainError):
            services.check_in(kept, world.other_founder, False, now=start)
        services.check_in(kept, world.founder, False, now=start + timedelta(minutes=5))
        assert services.release_no_shows(session, now=start + timedelta(minutes=10)) == 0  # grace not over
        assert services.release_no_shows(session, now=start + timedelta(minutes=20)) == 1
    assert (kept.status, missed.status) == ("confirmed", "no_show")
    # The rest of the no-show's time is free again.
    with app.test_request_context(headers={"Accept-Language": "en"}):
        again = services.create_booking(session, world.org, fablab.printer, world.other_founder,
                                        start + timedelta(hours=1), start + timedelta(hours=2), is_staff=True,
                                        now=start + timedelta(minutes=20) - timedelta(hours=1))
    assert again.status == "confirmed"


def test_a_freed_slot_is_held_for_the_first_in_line(app, api, world, fablab, session):
    from incubator.booking.models import WaitlistEntry
    from incubator.core import mail
    from incubator.core.permissions import Role
    from tests.factories import enrolled, member

    start = next_weekday_at(2, 10)
    first = _book(api, world.founder, fablab.room, start).get_json()
    third = member(world.org, Role.FOUNDER)
    enrolled(world.cohort, third, name="Third startup")  # a founder with no startup books nothing at all
    with app.test_request_context():
        waitlist.join_waitlist(session, world.org, fablab.room, world.other_founder, start,
                               start + timedelta(hours=1))
        waitlist.join_waitlist(session, world.org, fablab.room, third, start, start + timedelta(hours=1))
    assert api(world.founder, "POST", f"/bookings/{first['id']}/cancel").status_code == 200
    held = session.execute(select(Booking).where(Booking.user_id == world.other_founder.id)).scalar_one()
    assert held.status == "held" and held.hold_expires_at is not None
    assert mail.outbox[-1].to == [world.other_founder.email]
    # Nobody else can take it meanwhile.
    assert _book(api, third, fablab.room, start).get_json()["code"] == "slot_taken"
    with app.test_request_context():
        waitlist.take_held(held, world.other_founder)
    assert held.status == "awaiting_payment"  # a room is paid: now it waits for the payment
    entries = dict(session.execute(select(WaitlistEntry.user_id, WaitlistEntry.status)).all())
    assert entries == {world.other_founder.id: "offered", third.id: "waiting"}


def test_an_unclaimed_hold_passes_to_the_next_in_line(app, world, fablab, session):
    from incubator.booking.tasks import release_slots
    from incubator.core.permissions import Role
    from tests.factories import member

    start = next_weekday_at(2, 10)
    third = member(world.org, Role.FOUNDER)
    with app.test_request_context():
        waitlist.join_waitlist(session, world.org, fablab.room, world.other_founder, start,
                               start + timedelta(hours=1))
        waitlist.join_waitlist(session, world.org, fablab.room, third, start, start + timedelta(hours=1))
        offered = waitlist.offer_freed_time(session, world.org, fablab.room)
        assert [b.user_id for b in offered] == [world.other_founder.id]
        offered[0].hold_expires_at = services.utcnow() - timedelta(minutes=1)
        session.flush()
    with app.app_context():
        release_slots.call_local()  # what the worker runs every five minutes
    session.expire_all()
    statuses = dict(session.execute(select(Booking.user_id, Booking.status)).all())
    assert statuses == {world.other_founder.id: "expired", third.id: "held"}


def test_utilisation_per_month_resource_startup_and_cohort(app, world, fablab, session):
    from datetime import UTC, date, datetime

    def add(resource, day, hours, status, checked_in=False, startup=world.startup):
        start = datetime(day.year, day.month, day.day, 3, tzinfo=UTC)
        end = start + timedelta(hours=hours)
        session.add(Booking(org_id=world.org.id, resource_id=resource.id, user_id=world.founder.id,
                            startup_id=startup.id if startup else None, starts_at=start, ends_at=end,
                            blocked_until=end, status=status, checked_in_at=start if checked_in else None))

    month = world.cohort.starts_on.replace(day=1)
    add(fablab.laser, month.replace(day=3), 2, BookingStatus.COMPLETED)
    add(fablab.laser, month.replace(day=4), 1, BookingStatus.NO_SHOW)
    add(fablab.laser, month.replace(day=5), 3, BookingStatus.CONFIRMED, checked_in=True)
    add(fablab.laser, month.replace(day=6), 4, BookingStatus.CANCELLED)
    add(fablab.room, month.replace(day=7), 1, BookingStatus.COMPLETED, startup=None)
    session.flush()
    next_month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    lines = usage.utilisation(session, world.org, month, next_month)
    laser = next(line for line in lines if line.resource_id == fablab.laser.id)
    assert (laser.booked_minutes, laser.used_minutes) == (6 * 60, 5 * 60)
    assert (laser.startup_id, laser.cohort_id, laser.month) == (world.startup.id, world.cohort.id,
                                                                month.strftime("%Y-%m"))
    room = next(line for line in lines if line.resource_id == fablab.room.id)
    assert (room.startup_id, room.booked_minutes, room.used_minutes) == (None, 60, 60)
