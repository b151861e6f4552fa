"""Every booking form and API call, fed garbage field by field, answers a form error (or a 4xx), never a
500, and saves nothing."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from incubator.accounts.services import create_api_token
from incubator.booking.models import (
    Booking,
    BookingStatus,
    Certification,
    Closure,
    Lab,
    Resource,
    ResourceShare,
    Training,
    WaitlistEntry,
)
from incubator.cohorts.models import Enrolment, Startup, StartupFounder
from incubator.core.permissions import Role
from tests.booking.fixtures import SAIGON, next_weekday_at
from tests.conftest import csrf_token, login
from tests.factories import OrgFactory, member

NUMBERS = ["abc", "-30", "99999999999999999999", "2147483648", "²", "1e3", "4.5", "0x10", "\x00", " "]
TIMES = ["", "abc", "0001-01-01T00:00", "9999-12-31T23:59", "2026-02-30T10:00", "10:00", "\x00",
         "2026-13-01T10:00+99:00"]
NAMES = ["", "   ", "\x00"]
TABLES = (Booking, Certification, Closure, Lab, Resource, ResourceShare, Training, WaitlistEntry)


def snapshot(session) -> tuple:
    """What any of these forms could save: row counts, and every resource's rules and hours."""
    session.expire_all()
    counts = tuple(session.execute(select(func.count()).select_from(t)).scalar_one() for t in TABLES)
    rules = tuple((r.name, r.description, r.slot_minutes, r.min_minutes, r.max_minutes, r.buffer_minutes,
                   r.max_days_ahead, r.min_notice_minutes, r.free_cancellation_hours, r.no_show_minutes,
                   r.price_member, r.price_partner, r.price_external, r.training_id, r.max_hours_per_week,
                   tuple((h.weekday, h.opens, h.closes) for h in r.hours))
                  for r in session.execute(select(Resource).order_by(Resource.id)).scalars())
    return counts, rules


@pytest.fixture()
def tdmu(world, fablab, session):
    """A TDMU founder (of a TDMU startup) to whom bbi shares its meeting room."""
    org = OrgFactory(slug="tdmu", name="TDMU")
    founder = member(org, Role.FOUNDER)
    startup = Startup(org_id=org.id, name="MouldTech")
    session.add_all([startup, StartupFounder(org_id=org.id, startup=startup, user=founder),
                     ResourceShare(org_id=world.org.id, resource_id=fablab.room.id, partner_org_id=org.id)])
    session.flush()
    return founder


def html_cases(world, fablab, tdmu):
    """(who, url, page with the form, valid data, field, garbage values)."""
    start = next_weekday_at(1, 10).astimezone(SAIGON)
    local = start.replace(tzinfo=None).isoformat(timespec="minutes")
    room, laser = fablab.room, fablab.laser
    book = f"/o/bbi/resources/{room.id}/book?start={local}"
    settings = f"/o/bbi/resources/{room.id}/settings"
    rules = {"name": "Meeting room", "kind": "room", "slot_minutes": "30", "min_minutes": "30",
             "max_minutes": "120", "buffer_minutes": "0", "min_notice_minutes": "60", "max_days_ahead": "30",
             "free_cancellation_hours": "24", "no_show_minutes": "15", "price_member": "100000",
             "price_partner": "0", "price_external": "0", "active": "1", "opens_0": "08:00", "closes_0": "17:00",
             "training_id": "", "max_hours_per_week": ""}
    founder, manager = world.founder, world.manager
    cases = [
        (founder, book, book, {"minutes": "60", "weeks": "1"}, "minutes", NUMBERS + ["0", "100000"]),
        (founder, book, book, {"minutes": "60", "weeks": "1"}, "weeks", NUMBERS + ["0", "27"]),
        (founder, f"/o/bbi/resources/{room.id}/book?start=", book, {"minutes": "60"}, "start", TIMES),
        (founder, f"/o/bbi/resources/{laser.id}/waitlist", book, {"start": local, "minutes": "60"}, "minutes",
         NUMBERS + ["0"]),
        (founder, f"/o/bbi/resources/{laser.id}/waitlist", book, {"start": local, "minutes": "60"}, "start",
         TIMES),
        (tdmu, f"/o/tdmu/shared-resources/{room.id}", f"/o/tdmu/shared-resources/{room.id}",
         {"start": local, "minutes": "60"}, "minutes", NUMBERS + ["0", "100000"]),
        (tdmu, f"/o/tdmu/shared-resources/{room.id}", f"/o/tdmu/shared-resources/{room.id}",
         {"start": local, "minutes": "60"}, "start", TIMES),
        (manager, f"/o/bbi/resources/{room.id}/closures", settings,
         {"starts": local, "ends": (start + timedelta(hours=1)).replace(tzinfo=None).isoformat(), "reason": "x"},
         "starts", TIMES),
        (manager, f"/o/bbi/resources/{room.id}/closures", settings, {"starts": local, "ends": local}, "ends",
         TIMES),
        (manager, f"/o/bbi/resources/{room.id}/closures", settings, {}, "remove", NUMBERS),
        (manager, "/o/bbi/trainings", "/o/bbi/certifications", {"name": "CNC", "validity_months": "6"},
         "validity_months", NUMBERS + ["0", "121"]),
        (manager, "/o/bbi/trainings", "/o/bbi/certifications", {"name": "CNC", "validity_months": "6"}, "name",
         NAMES),
        (manager, "/o/bbi/certifications", "/o/bbi/certifications",
         {"training_id": str(fablab.training.id), "user_id": str(world.other_founder.id)}, "training_id", NUMBERS),
        (manager, "/o/bbi/certifications", "/o/bbi/certifications",
         {"training_id": str(fablab.training.id), "user_id": str(world.other_founder.id)}, "user_id", NUMBERS),
        (manager, "/o/bbi/labs/new", "/o/bbi/labs", {"name": "Lab 2"}, "name", NAMES),
        (manager, f"/o/bbi/labs/{fablab.lab.id}/resources", "/o/bbi/labs", {"name": "Bench", "kind": "bench"},
         "name", NAMES),
        (manager, f"/o/bbi/labs/{fablab.lab.id}/resources", "/o/bbi/labs", {"name": "Bench", "kind": "bench"},
         "kind", ["", "abc", "\x00"]),
        (manager, f"/o/bbi/resources/{room.id}/shares", settings, {"partner_org_id": "1"}, "partner_org_id",
         NUMBERS),
    ]
    for field in ("slot_minutes", "min_minutes", "max_minutes", "buffer_minutes", "max_days_ahead",
                  "min_notice_minutes", "free_cancellation_hours", "no_show_minutes", "price_member",
                  "price_partner", "price_external"):
        cases.append((manager, settings, settings, rules, field, [*NUMBERS, ""]))
    cases += [
        (manager, settings, settings, rules, "name", NAMES),
        (manager, settings, settings, rules, "kind", ["", "abc"]),
        (manager, settings, settings, rules, "training_id", ["abc", "²", "99999999999999999999", "-1"]),
        (manager, settings, settings, rules, "opens_0", ["abc", "25:00", "\x00", "08:00+07:00", "17:30"]),
    ]
    return cases


def test_every_booking_form_answers_garbage_with_a_form_error(client, world, fablab, tdmu, session):
    signed_in = None
    for who, url, page, data, field, values in html_cases(world, fablab, tdmu):
        if who is not signed_in:
            client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/account")}) if signed_in else None
            login(client, who.email)
            signed_in = who
        token = csrf_token(client, page)
        for value in values:
            before = snapshot(session)
            target = url + quote(value) if url.endswith("start=") else url
            response = client.post(target, data={**data, field: value, "csrf_token": token})
            assert response.status_code < 500, (url, field, repr(value))
            assert snapshot(session) == before, (url, field, repr(value))


def test_a_booking_without_a_number_shows_the_form_again_with_an_error(client, world, fablab, session):
    start = next_weekday_at(1, 10).astimezone(SAIGON).replace(tzinfo=None).isoformat(timespec="minutes")
    login(client, world.founder.email)
    url = f"/o/bbi/resources/{fablab.room.id}/book?start={start}"
    response = client.post(url, data={"minutes": "an hour", "csrf_token": csrf_token(client, url)})
    assert response.status_code == 422
    assert 'data-testid="booking-error"' in response.get_data(as_text=True)
    assert "whole number" in response.get_data(as_text=True)
    assert session.execute(select(Booking)).first() is None


def test_the_api_answers_garbage_with_json_errors(client, world, fablab, session):
    token, _record = create_api_token(session, world.founder, "t")
    session.flush()
    headers = {"Authorization": f"Bearer {token}"}
    start = next_weekday_at(1, 10)
    valid = {"resource_id": fablab.room.id, "starts_at": start.isoformat(),
             "ends_at": (start + timedelta(hours=1)).isoformat(), "note": ""}
    garbage = {
        "resource_id": ["abc", -1, 0, 2**40, "", None, 1.5],
        "starts_at": ["abc", "", "0001-01-01T00:00:00+00:00", "9999-12-31T23:59:00+00:00",
                      "9999-12-31T23:59:00-14:00", "2026-02-30T10:00:00+07:00", start.replace(tzinfo=None).isoformat(),
                      None, 12],
        "ends_at": ["abc", "0001-01-01T00:00:00+00:00", "9999-12-31T23:59:00+00:00", valid["starts_at"]],
        "note": ["x" * 501, 12, ["a"]],
    }
    for field, values in garbage.items():
        for value in values:
            before = snapshot(session)
            response = client.post("/api/v1/orgs/bbi/bookings", headers=headers, json={**valid, field: value})
            assert 400 <= response.status_code < 500, (field, repr(value), response.status_code)
            body = response.get_json()
            assert {"code", "message", "fields"} <= set(body), (field, repr(value))
            assert snapshot(session) == before, (field, repr(value))
    for path in ("/api/v1/orgs/bbi/bookings/99999999999/cancel", "/api/v1/orgs/bbi/bookings/0/cancel"):
        assert client.post(path, headers=headers).status_code == 404
    # A NUL in a note is dropped (PostgreSQL refuses it), the booking is made.
    made = client.post("/api/v1/orgs/bbi/bookings", headers=headers, json={**valid, "note": "a\x00b"})
    assert made.status_code == 201
    assert session.execute(select(Booking.note)).scalar_one() == "ab"


def test_an_approval_with_a_garbage_decision_changes_nothing(client, world, fablab, session):
    start = next_weekday_at(1, 10)
    pending = Booking(org_id=world.org.id, resource_id=fablab.room.id, user_id=world.founder.id, starts_at=start,
                      ends_at=start + timedelta(hours=1), blocked_until=start + timedelta(hours=1),
                      status=BookingStatus.PENDING_APPROVAL)
    session.add(pending)
    session.flush()
    login(client, world.manager.email)
    token = csrf_token(client, "/o/bbi/lab-bookings")
    for value in ["", "abc", "APPROVE", "\x00", "approve "]:
        response = client.post(f"/o/bbi/bookings/{pending.id}/approval", data={"csrf_token": token, "decision": value})
        assert response.status_code == 302
        session.refresh(pending)
        assert pending.status == BookingStatus.PENDING_APPROVAL, repr(value)
    assert "Choose approve or decline." in client.get("/o/bbi/lab-bookings").get_data(as_text=True)
    client.post(f"/o/bbi/bookings/{pending.id}/approval", data={"csrf_token": token, "decision": "decline"})
    session.refresh(pending)
    assert pending.status == BookingStatus.CANCELLED


def test_manager_pages_with_garbage_ids_answer_404_not_500(client, world, fablab, session):
    login(client, world.manager.email)
    token = csrf_token(client, "/o/bbi/lab-bookings")
    for path in ("/o/bbi/bookings/99999999999/approval", "/o/bbi/bookings/99999999999/cancel",
                 "/o/bbi/bookings/99999999999/take", f"/o/bbi/resources/{fablab.room.id}/shares"):
        response = client.post(path, data={"csrf_token": token, "partner_org_id": "99999999999999999999"})
        assert response.status_code in (302, 404), path
    assert session.execute(select(func.count()).select_from(Enrolment)).scalar_one() == 2


def test_calendars_and_availability_with_garbage_dates_answer_below_500(client, world, fablab, session):
    token, _record = create_api_token(session, world.manager, "t")
    session.flush()
    headers = {"Authorization": f"Bearer {token}"}
    for start, end in [("0001-01-01T00:00:00+14:00", "0001-01-02T00:00:00+14:00"),
                       ("9999-12-30T00:00:00-14:00", "9999-12-31T00:00:00-14:00"),
                       ("0001-01-01T00:00:00+00:00", "0001-01-02T00:00:00+00:00"), ("abc", "def")]:
        response = client.get(f"/api/v1/orgs/bbi/resources/{fablab.room.id}/availability?from={quote(start)}"
                              f"&to={quote(end)}", headers=headers)
        assert response.status_code == 422 and "fields" in response.get_json(), start
    login(client, world.manager.email)
    for day in ["0001-01-01", "0001-01-03", "9999-12-31", "abc", "2026-02-30", "\x00"]:
        for url in (f"/o/bbi/resources/{fablab.room.id}?week=", f"/o/bbi/labs/{fablab.lab.id}?day=",
                    "/o/bbi/lab-bookings?day="):
            assert client.get(url + quote(day)).status_code == 200, (url, day)
    for month in ["0001-01", "9999-12", "abc", "2026-13", "\x00"]:
        for url in ("/o/bbi/utilisation?month=", "/o/bbi/partner-usage?month="):
            assert client.get(url + quote(month)).status_code == 200, (url, month)


def test_a_booking_answers_its_times_in_utc_as_soon_as_it_is_made(client, world, fablab, session):
    """The create answer and every later read give the same instants in the same form (UTC), whatever
    offset the client wrote."""
    token, _record = create_api_token(session, world.founder, "t")
    session.flush()
    headers = {"Authorization": f"Bearer {token}"}
    starts = next_weekday_at(1, 10).astimezone(SAIGON)
    made = client.post("/api/v1/orgs/bbi/bookings", headers=headers, json={
        "resource_id": fablab.printer.id, "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=1)).isoformat()})
    assert made.status_code == 201, made.get_json()
    read = client.get(f"/api/v1/orgs/bbi/bookings/{made.get_json()['id']}", headers=headers).get_json()
    assert made.get_json()["starts_at"] == read["starts_at"] and read["starts_at"].endswith("+00:00")
