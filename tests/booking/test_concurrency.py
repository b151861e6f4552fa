"""No double booking under concurrency, guaranteed by the database (run on SQLite and PostgreSQL).

These tests commit for real, outside the per-test transaction, and clean up after themselves.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from incubator.accounts.models import User
from incubator.booking import credits, services
from incubator.booking.models import Booking, BookingStatus, Lab, OpeningHours, Resource
from incubator.cohorts.models import ResourceKind
from incubator.core.errors import Conflict
from incubator.core.permissions import Role
from incubator.core.tenancy import ALL_ORGS, all_orgs
from incubator.extensions import db
from incubator.orgs.models import Membership, Organisation
from tests.booking.fixtures import next_weekday_at, race_lab

THREADS = 20


@pytest.fixture()
def committed_lab(app):
    """An organisation with one resource and 20 members, committed so that threads can see them."""
    with app.app_context():
        s = db.session
        s.info[ALL_ORGS] = True  # arranging (and clearing) an organisation's rows outside its pages
        org = Organisation(slug="race-lab", name="Race lab")
        s.add(org)
        s.flush()
        lab = Lab(org_id=org.id, name="Lab")
        resource = Resource(org_id=org.id, lab=lab, name="Laser", kind=ResourceKind.MACHINE, open_24h=True,
                            slot_minutes=30, min_minutes=30, max_minutes=240, min_notice_minutes=0)
        resource.hours = [OpeningHours(org_id=org.id, weekday=d, opens=time(0), closes=time(23, 59)) for d in range(7)]
        users = [User(email=f"racer{i}@example.org", name=f"Racer {i}", password_hash="x") for i in range(THREADS)]
        s.add_all([lab, resource, *users])
        s.flush()
        s.add_all([Membership(org=org, user=u, role=Role.STAFF) for u in users])
        s.commit()
        ids = (org.id, resource.id, [u.id for u in users])
    yield ids
    with app.app_context():
        s = db.session
        s.info[ALL_ORGS] = True  # arranging (and clearing) an organisation's rows outside its pages
        org_id, resource_id, user_ids = ids
        s.execute(delete(Booking).where(Booking.resource_id == resource_id).execution_options(all_orgs=True))
        s.execute(delete(OpeningHours).where(OpeningHours.resource_id == resource_id)
                  .execution_options(all_orgs=True))
        s.execute(delete(Resource).where(Resource.id == resource_id).execution_options(all_orgs=True))
        s.execute(delete(Lab).where(Lab.org_id == org_id).execution_options(all_orgs=True))
        s.execute(delete(Membership).where(Membership.org_id == org_id))
        s.execute(delete(User).where(User.id.in_(user_ids)))
        s.execute(delete(Organisation).where(Organisation.id == org_id))
        s.commit()


def test_twenty_people_ask_for_the_same_slot_at_once(app, committed_lab):
    org_id, resource_id, user_ids = committed_lab
    start = next_weekday_at(2, 10)
    barrier = threading.Barrier(THREADS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(index: int) -> None:
        with app.app_context():
            session = db.session
            with all_orgs(session):
                org = session.get(Organisation, org_id)
                resource = session.get(Resource, resource_id)
                user = session.get(User, user_ids[index])
            session.info["org_id"] = org_id
            session.rollback()  # start the booking's own transaction at the same time as the others
            barrier.wait(timeout=30)
            # Overlapping, not all identical: 10:00-11:30 or 10:30-12:00, every pair overlaps.
            begin = start + timedelta(minutes=30 * (index % 2))
            try:
                services.create_booking(session, org, resource, user, begin, begin + timedelta(minutes=90),
                                        is_staff=True)
                session.commit()
                result = "booked"
            except Conflict as error:
                session.rollback()
                result = error.code
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["booked"] + ["slot_taken"] * (THREADS - 1)
    with app.app_context(), all_orgs(db.session):
        rows = db.session.execute(select(Booking).where(Booking.resource_id == resource_id)).scalars().all()
    assert len(rows) == 1


def test_the_database_refuses_overlaps_even_without_the_check(app, committed_lab):
    """The exclusion constraint itself (PostgreSQL), or its triggers (SQLite): overlapping active rows
    cannot both exist, whoever writes them."""
    org_id, resource_id, user_ids = committed_lab
    start = datetime(2031, 3, 3, 3, 0, tzinfo=UTC)

    def row(begin: datetime, minutes: int, status: str = BookingStatus.CONFIRMED) -> Booking:
        end = begin + timedelta(minutes=minutes)
        return Booking(org_id=org_id, resource_id=resource_id, user_id=user_ids[0], starts_at=begin, ends_at=end,
                       blocked_until=end, status=status)

    with app.app_context():
        s = db.session
        s.info[ALL_ORGS] = True  # arranging (and clearing) an organisation's rows outside its pages
        s.add(row(start, 60))
        s.commit()
        s.add(row(start + timedelta(minutes=60), 60))  # back to back: half-open ranges allow it
        s.commit()
        s.add(row(start + timedelta(minutes=30), 60, BookingStatus.CANCELLED))  # not active: allowed
        s.commit()
        s.add(row(start + timedelta(minutes=30), 60))
        with pytest.raises(IntegrityError):
            s.commit()
        s.rollback()


# -- rules that count across a startup's rows, raced through HTTP (tests/live.py) --------------------

def _next_monday(hour: int = 0) -> datetime:
    """Next week's Monday at ``hour`` in Saigon: every slot below falls in that one week."""
    return next_weekday_at(0, hour, weeks=2)


def test_the_weekly_quota_holds_under_thirty_concurrent_bookings(app, committed, live):
    """30 founders' clients book distinct one-hour slots of a room with a 20-hour weekly quota at once:
    exactly 20 are booked, 10 told the quota is reached, none gets a 5xx."""
    with committed.data() as s:
        world = race_lab(s, slug="race-quota", quota_hours=20)
    tokens = [committed.token(world.founder) for _ in range(30)]  # one each: see tests/live.py
    monday = _next_monday()

    def book(i: int):
        start = monday + timedelta(hours=i)
        answer = live.api("POST", f"/api/v1/orgs/{world.org_slug}/bookings", tokens[i], json={
            "resource_id": world.resources["room"], "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=1)).isoformat()})
        return answer.status_code, answer.json().get("code")

    outcomes = live.race(30, book)
    assert sorted(outcomes, key=str) == sorted([(201, None)] * 20 + [(422, "quota_exceeded")] * 10, key=str), outcomes
    with committed.read() as s:
        booked = s.execute(select(Booking).where(Booking.resource_id == world.resources["room"],
                                                 Booking.status.in_(services.ACTIVE_STATUSES))).scalars().all()
        assert sum(b.minutes for b in booked) == 20 * 60


def test_cohort_credits_never_go_below_zero_under_concurrent_bookings(app, committed, live):
    """20 one-hour bench bookings at once against 10 included hours: exactly 10 hours are paid with
    credits, the balance ends at 0, never below."""
    from incubator.cohorts.models import Cohort, Startup

    with committed.data() as s:
        world = race_lab(s, slug="race-credits", bench_credit_hours=10)
    tokens = [committed.token(world.founder) for _ in range(20)]
    monday = _next_monday()

    def book(i: int):
        start = monday + timedelta(hours=i)
        answer = live.api("POST", f"/api/v1/orgs/{world.org_slug}/bookings", tokens[i], json={
            "resource_id": world.resources["bench"], "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=1)).isoformat()})
        return answer.status_code, answer.json().get("credit_minutes")

    outcomes = live.race(20, book)
    assert all(status == 201 for status, _minutes in outcomes), outcomes
    assert sorted(minutes for _status, minutes in outcomes) == [0] * 10 + [60] * 10
    with committed.read() as s:
        startup, cohort = s.get(Startup, world.startup_id), s.get(Cohort, world.cohort_id)
        assert credits.credit_balance(s, startup, cohort, ResourceKind.BENCH) == 0


def test_one_person_racing_for_many_holds_gets_only_the_cap(app, committed, live):
    """Ten clients of the same founder ask for ten different paid slots of a room at once, over HTTP:
    MAX_HOLDS_PER_USER are held awaiting payment, the others told 409 ``too_many_holds``, none a 5xx."""
    with committed.data() as s:
        world = race_lab(s, slug="race-holds", room_price=100_000)
    tries = 10
    tokens = [committed.token(world.founder) for _ in range(tries)]
    monday = _next_monday(8)

    def book(i: int):
        start = monday + timedelta(hours=i)
        answer = live.api("POST", f"/api/v1/orgs/{world.org_slug}/bookings", tokens[i], json={
            "resource_id": world.resources["room"], "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=1)).isoformat()})
        return answer.status_code, answer.json().get("code") or answer.json().get("status")

    cap = app.config["MAX_HOLDS_PER_USER"]
    outcomes = live.race(tries, book)
    assert sorted(outcomes, key=str) == sorted([(201, "awaiting_payment")] * cap
                                               + [(409, "too_many_holds")] * (tries - cap), key=str), outcomes
    with committed.read() as s:
        rows = s.execute(select(Booking).where(Booking.resource_id == world.resources["room"])).scalars().all()
        assert [r.status for r in rows] == [BookingStatus.AWAITING_PAYMENT] * cap
