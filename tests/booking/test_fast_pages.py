"""The lab week grid and My bookings stay fast as bookings grow (#15): a fixed number of queries whatever
the number of bookings, a page of rows, the grid's cells from one sweep and the balances from a GROUP BY
that agree with the computations they replace; and the doors that must agree (#13): leaving a waitlist,
an unknown training in a certification."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale, format_datetime, format_time
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from incubator.accounts.services import create_api_token
from incubator.booking import credits
from incubator.booking.grid import Busy, _Labels, sweep
from incubator.booking.labels import Moments
from incubator.booking.mine import balances
from incubator.booking.models import (
    Booking,
    BookingStatus,
    Certification,
    OpeningHours,
    Resource,
    Training,
    WaitlistEntry,
)
from incubator.cohorts.models import CohortLabCredit, ResourceKind
from incubator.core.db import utcnow
from incubator.core.permissions import Role
from incubator.ledger.models import LedgerEntry, LedgerKind
from tests.booking.fixtures import SAIGON, next_weekday_at
from tests.conftest import csrf_token, login, page_queries
from tests.doors import assert_same_door
from tests.factories import OrgFactory, member


@pytest.fixture()
def api(client, session):
    tokens: dict[int, dict[str, str]] = {}

    def _call(user, method, url, **kwargs):
        if user.id not in tokens:
            token, _record = create_api_token(session, user, "t")
            session.flush()
            tokens[user.id] = {"Authorization": f"Bearer {token}"}
        return client.open(f"/api/v1/orgs/bbi{url}", method=method, headers=tokens[user.id], **kwargs)

    return _call


def _book(session, world, resource, start, count, *, user=None, step=timedelta(hours=1),
          minutes=30, status=BookingStatus.CONFIRMED):
    for n in range(count):
        begin = start + step * n
        session.add(Booking(org_id=world.org.id, resource_id=resource.id, user_id=(user or world.founder).id,
                            starts_at=begin, ends_at=begin + timedelta(minutes=minutes),
                            blocked_until=begin + timedelta(minutes=minutes), status=status))
    session.flush()


# -- the week grid ----------------------------------------------------------------------------------

def test_the_week_grid_runs_the_same_queries_for_one_booking_or_a_full_week(app, client, world, fablab, session):
    monday = next_weekday_at(0, 0).astimezone(SAIGON).date()
    url = f"/o/bbi/resources/{fablab.printer.id}?week={monday.isoformat()}"
    start = datetime.combine(monday, time(0), SAIGON).astimezone(UTC)
    _book(session, world, fablab.printer, start, 1)
    login(client, world.founder.email)
    few = page_queries(app, client, url)
    _book(session, world, fablab.printer, start + timedelta(hours=1), 160, user=world.other_founder)
    many = page_queries(app, client, url)
    assert few == many
    html = client.get(url).get_data(as_text=True)
    assert html.count('class="slot slot-busy"') == 161  # every hour of the round-the-clock printer up to then
    assert html.count(">mine</span>") == 1
    # The rows' times in the page's language (English here: Babel's short time, a narrow space before AM).
    assert '<th class="small text-nowrap">12:00\u202fAM</th>' in html
    assert '<th class="small text-nowrap">11:00\u202fPM</th>' in html


def test_the_lab_day_runs_the_same_queries_whatever_its_resources_and_bookings(app, client, world, fablab, session):
    day = next_weekday_at(1, 0).astimezone(SAIGON).date()
    url = f"/o/bbi/labs/{fablab.lab.id}?day={day.isoformat()}"
    start = datetime.combine(day, time(8), SAIGON).astimezone(UTC)
    _book(session, world, fablab.room, start, 1)
    login(client, world.founder.email)
    few = page_queries(app, client, url)
    for n in range(4):
        session.add(Resource(org_id=world.org.id, lab_id=fablab.lab.id, name=f"Bench {n}", kind=ResourceKind.BENCH,
                             hours=[OpeningHours(org_id=world.org.id, weekday=d, opens=time(8), closes=time(20))
                                    for d in range(7)]))
    _book(session, world, fablab.room, start + timedelta(hours=1), 11, user=world.other_founder)
    _book(session, world, fablab.laser, start, 6, step=timedelta(hours=2), minutes=60)
    many = page_queries(app, client, url)
    assert few == many
    html = client.get(url).get_data(as_text=True)
    assert html.count("Bench ") == 4
    assert html.count('class="slot slot-busy"') == 12 + 12  # the room's half hours, the laser's hours


def test_the_grid_links_each_free_cell_to_the_booking_form_of_its_time(client, world, fablab, session):
    day = next_weekday_at(2, 0).astimezone(SAIGON).date()
    login(client, world.founder.email)
    html = client.get(f"/o/bbi/resources/{fablab.room.id}?week={day.isoformat()}").get_data(as_text=True)
    moment = datetime.combine(day, time(10), SAIGON)
    link = re.search(r'href="([^"]+)" aria-label="([^"]+)" data-slot="' + re.escape(moment.isoformat()) + '"', html)
    assert link is not None
    assert link.group(1) == f"/o/bbi/resources/{fablab.room.id}/book?start={quote(moment.isoformat(), safe=':')}"
    assert link.group(2) == "free, Book 10:00\u202fAM"  # the word it shows, then Babel's short time in English
    form = client.get(link.group(1))
    assert form.status_code == 200 and "10:00" in form.get_data(as_text=True)


def _naive(moments, step, bookings, free, now):
    """The grid's rule cell by cell, as the page computed it before the sweep."""
    out = []
    for moment in moments:
        slot_end = moment + step
        taken = next((b for b in sorted(bookings, key=lambda b: b.starts_at)
                      if b.starts_at < slot_end and b.ends_at > moment), None)
        is_free = any(s <= moment and slot_end <= e for s, e in free)
        out.append(("busy" if taken else "past" if moment < now else "free" if is_free else "closed", taken))
    return out


BASE = datetime(2027, 3, 1, tzinfo=UTC)
quarters = st.integers(0, 4 * 24 * 2)  # quarter hours over two days
spans = st.tuples(quarters, st.integers(1, 16)).map(
    lambda pair: (BASE + timedelta(minutes=15 * pair[0]), BASE + timedelta(minutes=15 * (pair[0] + pair[1]))))


@settings(max_examples=300, deadline=None)
@given(booked=st.lists(spans, max_size=12), free=st.lists(spans, max_size=8), step=st.sampled_from([30, 60]),
       now=quarters, mine=st.integers(0, 11))
def test_the_sweep_gives_every_cell_the_state_the_cell_by_cell_rule_gives(booked, free, step, now, mine):
    bookings = sorted((Busy(1, 7 if n == mine else 8, s, e, e) for n, (s, e) in enumerate(booked)),
                      key=lambda b: b.starts_at)
    moments = [BASE + timedelta(minutes=step * n) for n in range(2 * 24 * 60 // step)]
    delta, at = timedelta(minutes=step), BASE + timedelta(minutes=15 * now)
    assert sweep(moments, delta, bookings, sorted(free), at) == _naive(moments, delta, bookings, free, at)


# -- My bookings ------------------------------------------------------------------------------------

def _history(session, world, fablab, count):
    """``count`` bookings of the founder, half past and half to come, some paid or owing, with credits."""
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    for n in range(count):
        begin = now + timedelta(hours=3 * (n - count // 2))
        resource = (fablab.printer, fablab.room, fablab.laser)[n % 3]
        session.add(Booking(org_id=world.org.id, resource_id=resource.id, user_id=world.founder.id,
                            startup_id=world.startup.id, starts_at=begin, ends_at=begin + timedelta(hours=1),
                            blocked_until=begin + timedelta(hours=1), credit_minutes=60 * (n % 2),
                            price=100_000 * (n % 3 == 1),
                            status=BookingStatus.AWAITING_PAYMENT if n % 5 == 0 and begin > now
                            else BookingStatus.CONFIRMED if begin > now else BookingStatus.COMPLETED,
                            hold_expires_at=now + timedelta(minutes=10) if n % 5 == 0 else None))
    session.flush()


def test_my_bookings_runs_the_same_queries_for_a_few_bookings_or_many(app, client, world, fablab, session):
    session.add(WaitlistEntry(org_id=world.org.id, resource_id=fablab.room.id, user_id=world.founder.id,
                              starts_at=next_weekday_at(3, 10), ends_at=next_weekday_at(3, 11)))
    _history(session, world, fablab, 3)
    login(client, world.founder.email)
    few = page_queries(app, client, "/o/bbi/bookings")
    _history(session, world, fablab, 120)
    many = page_queries(app, client, "/o/bbi/bookings")
    assert few == many
    html = client.get("/o/bbi/bookings").get_data(as_text=True)
    assert html.count("data-status=") == 50 and "123 in all" in html
    assert 'data-testid="credits"' in html and 'data-testid="my-waitlist"' in html


def test_my_bookings_shows_what_is_to_come_first_then_the_past_latest_first(client, world, fablab, session):
    now = utcnow()
    starts = [now + timedelta(hours=h) for h in (-30, 50, -2, 5, 70, -9)]
    for begin in starts:
        session.add(Booking(org_id=world.org.id, resource_id=fablab.printer.id, user_id=world.founder.id,
                            starts_at=begin, ends_at=begin + timedelta(hours=1),
                            blocked_until=begin + timedelta(hours=1), status=BookingStatus.CONFIRMED, note="x"))
    session.flush()
    login(client, world.founder.email)
    html = client.get("/o/bbi/bookings").get_data(as_text=True)
    rows = [row.split(">", 1)[1] for row in html.split('data-testid="my-bookings"')[1].split("<tr><td")[1:]]
    upcoming = sorted(b for b in starts if b > now)
    past = sorted((b for b in starts if b < now), reverse=True)
    moments = Moments("Asia/Ho_Chi_Minh", "en")
    assert [row.split(" – ")[0] for row in rows] == [moments.datetime(b) for b in upcoming + past]
    assert [row.count("/cancel") for row in rows] == [1, 1, 1, 0, 0, 0]


def test_my_bookings_filters_are_kept_across_pages(client, world, fablab, session):
    _book(session, world, fablab.printer, next_weekday_at(1, 0), 60)
    _book(session, world, fablab.room, next_weekday_at(1, 0) - timedelta(days=30), 5, status=BookingStatus.COMPLETED)
    login(client, world.founder.email)
    first = client.get("/o/bbi/bookings?when=upcoming&status=confirmed").get_data(as_text=True)
    assert first.count('data-status="confirmed"') == 50 and "60 in all" in first
    assert 'href="/o/bbi/bookings?page=2&amp;status=confirmed&amp;when=upcoming"' in first
    second = client.get("/o/bbi/bookings?page=2&status=confirmed&when=upcoming").get_data(as_text=True)
    assert second.count('data-status="confirmed"') == 10
    past = client.get("/o/bbi/bookings?when=past").get_data(as_text=True)
    assert past.count('data-status="completed"') == 5 and 'data-status="confirmed"' not in past
    unknown = client.get("/o/bbi/bookings?when=someday&status=lost")
    assert unknown.status_code == 200 and "65 in all" in unknown.get_data(as_text=True)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(hours=st.dictionaries(st.sampled_from(list(ResourceKind)), st.integers(0, 50), max_size=4),
       moves=st.lists(st.tuples(st.sampled_from(list(ResourceKind)), st.integers(-600, 600)), max_size=12))
def test_the_balances_agree_with_the_ledger_read_kind_by_kind(app, session, world, hours, moves):
    with app.test_request_context():
        savepoint = session.begin_nested()
        try:
            for kind, n in hours.items():
                session.add(CohortLabCredit(org_id=world.org.id, cohort_id=world.cohort.id, resource_kind=kind,
                                            hours=n))
            for kind, minutes in moves:
                session.add(LedgerEntry(org_id=world.org.id, startup_id=world.startup.id, cohort_id=world.cohort.id,
                                        resource_kind=kind, minutes=minutes, kind=LedgerKind.CREDIT_USE))
            session.flush()
            startup, cohort = credits.active_startup(session, world.org, world.founder)
            assert (startup, cohort) == (world.startup, world.cohort)
            expected = {kind: (n * 60, credits.credit_balance(session, startup, cohort, kind))
                        for kind, n in hours.items()}
            assert balances(session, world.org, world.founder) == expected
            assert balances(session, world.org, world.manager) == {}  # books for no startup
        finally:
            savepoint.rollback()


# Up to 2037: flask-babel converts with pytz, whose tables stop there (zoneinfo goes on with the zone's rule).
moments_in = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2037, 12, 31), timezones=st.just(UTC))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=moments_in, locale=st.sampled_from(["en", "vi"]),
       zone=st.sampled_from(["Asia/Ho_Chi_Minh", "Europe/Paris", "America/New_York"]))
def test_the_cached_formats_write_what_the_babel_filters_write(app, value, locale, zone):
    with app.test_request_context(), force_locale(locale):
        from flask import g

        g.org = type("Org", (), {"timezone": zone})()
        moments = Moments(zone, locale)
        assert moments.datetime(value) == format_datetime(value, "short")
        assert moments.time(value) == format_time(value, "short")
        book = {"en": "Book %(time)s", "vi": "Đặt lúc %(time)s"}[locale]
        assert _Labels(ZoneInfo(zone)).label(value) == book % {"time": format_time(value, "short")}  # a free cell's


# -- leaving the waitlist through both doors --------------------------------------------------------

def _entry(session, world, fablab, user, status="waiting"):
    entry = WaitlistEntry(org_id=world.org.id, resource_id=fablab.room.id, user_id=user.id, status=status,
                          starts_at=next_weekday_at(3, 10), ends_at=next_weekday_at(3, 11))
    session.add(entry)
    session.flush()
    return entry


def _leave_page(client, entry_id):
    return client.post(f"/o/bbi/waitlist/{entry_id}/leave",
                       data={"csrf_token": csrf_token(client, "/o/bbi/bookings")})


def test_my_bookings_lists_the_waiting_places_with_a_button_to_leave(client, world, fablab, session):
    entry = _entry(session, world, fablab, world.founder)
    login(client, world.founder.email)
    html = client.get("/o/bbi/bookings").get_data(as_text=True)
    assert f'data-entry="{entry.id}"' in html and f'action="/o/bbi/waitlist/{entry.id}/leave"' in html
    response = _leave_page(client, entry.id)
    assert response.status_code == 302
    assert session.execute(select(WaitlistEntry)).first() is None
    assert "You left the waitlist." in client.get("/o/bbi/bookings").get_data(as_text=True)
    assert _leave_page(client, entry.id).status_code == 404  # gone


@pytest.mark.parametrize("who", ["owner", "other member", "manager"])
def test_leaving_the_waitlist_answers_alike_through_the_page_and_the_api(client, api, world, fablab, session, who):
    user = {"owner": world.founder, "other member": world.other_founder, "manager": world.manager}[who]
    login(client, user.email)
    for status in ("waiting", "offered"):
        by_page, by_api = (_entry(session, world, fablab, world.founder, status) for _n in range(2))
        page = _leave_page(client, by_page.id)
        answer = api(user, "DELETE", f"/waitlist/{by_api.id}")
        found = assert_same_door(page, answer, f"{who} {status}")
        assert found == ("allowed" if who == "owner" else "hidden"), (who, status)
        if who == "owner":
            assert answer.status_code == (204 if status == "waiting" else 409)
        left = {e.id for e in session.execute(select(WaitlistEntry)).scalars()}
        gone = who == "owner" and status == "waiting"
        assert (by_page.id not in left, by_api.id not in left) == (gone, gone), (who, status)
        session.expire_all()


def test_a_page_post_without_its_token_leaves_nothing(client, world, fablab, session):
    entry = _entry(session, world, fablab, world.founder)
    login(client, world.founder.email)
    client.post(f"/o/bbi/waitlist/{entry.id}/leave", data={})
    assert session.execute(select(WaitlistEntry.id)).scalar_one() == entry.id


# -- an unknown training or person in a certification -----------------------------------------------

@pytest.mark.parametrize("field", ["training_id", "user_id"])
def test_an_unknown_id_in_a_certification_is_a_form_error_through_both_doors(client, api, world, fablab, session,
                                                                             field):
    good = {"training_id": fablab.training.id, "user_id": world.other_founder.id}
    before = session.execute(select(Certification.id)).all()
    login(client, world.manager.email)
    token = csrf_token(client, "/o/bbi/certifications")
    elsewhere = Training(org_id=OrgFactory().id, name="Another organisation's training")
    session.add(elsewhere)
    session.flush()
    unknown = {"training_id": [999_999, elsewhere.id],
               "user_id": [999_999, member(OrgFactory(), Role.FOUNDER).id]}[field]
    for value in unknown:
        page = client.post("/o/bbi/certifications", data={**good, field: value, "csrf_token": token})
        answer = api(world.manager, "POST", "/certifications", json={**good, field: value})
        assert page.status_code == 422 and answer.status_code == 422, (field, value)
        assert "Not a valid choice." in page.get_data(as_text=True)
        assert answer.get_json()["fields"].keys() == {field}
    garbage = client.post("/o/bbi/certifications", data={**good, field: "abc", "csrf_token": token})
    assert garbage.status_code == 422
    assert session.execute(select(Certification.id)).all() == before
    made = client.post("/o/bbi/certifications", data={**good, "csrf_token": token})
    assert made.status_code == 302
    assert session.execute(select(Certification.user_id)).scalars().all() == [world.founder.id, world.other_founder.id]
