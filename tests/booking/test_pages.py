from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from incubator.booking.models import Booking, BookingStatus
from tests.booking.fixtures import SAIGON, next_weekday_at
from tests.conftest import csrf_token, login


def test_week_grid_links_free_slots_and_shows_busy_ones(client, world, fablab, session):
    start = next_weekday_at(2, 10)
    session.add(Booking(org_id=world.org.id, resource_id=fablab.room.id, user_id=world.other_founder.id,
                        starts_at=start, ends_at=start + timedelta(hours=1), blocked_until=start + timedelta(hours=1),
                        status=BookingStatus.CONFIRMED))
    session.flush()
    login(client, world.founder.email)
    page = client.get(f"/o/bbi/resources/{fablab.room.id}?week={start.astimezone(SAIGON).date()}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.count('class="slot slot-busy"') == 2  # 10:00 and 10:30
    free_slot = (start + timedelta(hours=2)).astimezone(SAIGON).isoformat()
    assert f'data-slot="{free_slot}"' in html


def test_booking_from_the_calendar_uses_credits(client, world, fablab, session):
    login(client, world.founder.email)
    start = next_weekday_at(1, 9).astimezone(SAIGON).isoformat()
    url = f"/o/bbi/resources/{fablab.laser.id}/book?start={start}"
    form = client.get(url).get_data(as_text=True)
    assert "3.0 hours left" in form
    response = client.post(url, data={"minutes": "60", "csrf_token": csrf_token(client, url)})
    assert response.headers["Location"] == "/o/bbi/bookings"
    booking = session.execute(select(Booking)).scalar_one()
    assert (booking.status, booking.credit_minutes, booking.price) == ("confirmed", 60, 0)
    mine = client.get("/o/bbi/bookings").get_data(as_text=True)
    assert "2.0 of 3 hours left" in mine and fablab.laser.name in mine


def test_the_page_refuses_a_machine_without_training(client, world, fablab, session):
    login(client, world.other_founder.email)
    start = next_weekday_at(1, 9).astimezone(SAIGON).isoformat()
    url = f"/o/bbi/resources/{fablab.laser.id}/book?start={start}"
    response = client.post(url, data={"minutes": "60", "csrf_token": csrf_token(client, url)})
    assert response.status_code == 422
    assert re.search(r'data-code="training_required">[^<]*Laser cutter safety', response.get_data(as_text=True))
    assert session.execute(select(Booking)).first() is None


def test_manager_approves_and_records_certifications(client, world, fablab, session):
    fablab.room.needs_approval = True
    session.flush()
    login(client, world.founder.email)
    start = next_weekday_at(1, 10).astimezone(SAIGON).isoformat()
    url = f"/o/bbi/resources/{fablab.room.id}/book?start={start}"
    client.post(url, data={"minutes": "60", "csrf_token": csrf_token(client, url)})
    booking = session.execute(select(Booking)).scalar_one()
    assert booking.status == "pending_approval"
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/account")})
    login(client, world.manager.email)
    assert 'data-testid="pending"' in client.get("/o/bbi/lab-bookings").get_data(as_text=True)
    client.post(f"/o/bbi/bookings/{booking.id}/approval",
                data={"decision": "approve", "csrf_token": csrf_token(client, "/o/bbi/lab-bookings")})
    session.refresh(booking)
    assert booking.status == "awaiting_payment"
    url = "/o/bbi/certifications"
    client.post(url, data={"user_id": world.other_founder.id, "training_id": fablab.training.id,
                           "csrf_token": csrf_token(client, url)})
    from incubator.booking.models import Certification

    holders = set(session.execute(select(Certification.user_id)).scalars())
    assert world.other_founder.id in holders


def test_resource_rules_are_edited_with_field_errors(client, world, fablab, session):
    login(client, world.manager.email)
    url = f"/o/bbi/resources/{fablab.room.id}/settings"
    base = {"name": "Meeting room", "kind": "room", "slot_minutes": "30", "min_minutes": "30", "max_minutes": "120",
            "buffer_minutes": "0",
            "min_notice_minutes": "60", "max_days_ahead": "30", "free_cancellation_hours": "24",
            "no_show_minutes": "15",
            "price_member": "100000", "price_partner": "150000", "price_external": "200000", "active": "1",
            "opens_0": "08:00", "closes_0": "17:00"}
    bad = client.post(url, data={**base, "max_minutes": "15", "csrf_token": csrf_token(client, url)})
    assert bad.status_code == 422 and 'data-field="max_minutes"' in bad.get_data(as_text=True)
    good = client.post(url, data={**base, "needs_approval": "1", "csrf_token": csrf_token(client, url)})
    assert good.status_code == 302
    session.refresh(fablab.room)
    assert fablab.room.max_minutes == 120 and fablab.room.needs_approval
    assert [(h.weekday, h.closes.hour) for h in fablab.room.hours] == [(0, 17)]


def test_lab_day_view_shows_resources_side_by_side(client, world, fablab):
    login(client, world.founder.email)
    page = client.get(f"/o/bbi/labs/{fablab.lab.id}?day={next_weekday_at(1, 9).astimezone(SAIGON).date()}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and all(name in html for name in ("Laser cutter", "3D printer", "Meeting room"))


def test_a_manager_creates_a_lab_and_a_resource_that_starts_inactive(client, world, session):
    from incubator.booking.models import Lab, Resource

    login(client, world.manager.email)
    client.post("/o/bbi/labs/new", data={"name": "TDM Techlab", "site": "Thủ Dầu Một",
                                         "csrf_token": csrf_token(client, "/o/bbi/labs")})
    lab = session.execute(select(Lab).where(Lab.name == "TDM Techlab")).scalar_one()
    response = client.post(f"/o/bbi/labs/{lab.id}/resources", data={
        "name": "Soldering station", "kind": "bench", "csrf_token": csrf_token(client, "/o/bbi/labs")})
    resource = session.execute(select(Resource).where(Resource.name == "Soldering station")).scalar_one()
    assert response.headers["Location"] == f"/o/bbi/resources/{resource.id}/settings"
    assert resource.active is False and len(resource.hours) == 5


def test_personal_and_resource_feeds_are_secret_revocable_and_zoned(client, world, fablab, session):
    from urllib.parse import unquote

    start = next_weekday_at(2, 10)
    session.add(Booking(org_id=world.org.id, resource_id=fablab.room.id, user_id=world.founder.id,
                        starts_at=start, ends_at=start + timedelta(hours=1), blocked_until=start + timedelta(hours=1),
                        status=BookingStatus.CONFIRMED))
    session.flush()
    login(client, world.founder.email)
    response = client.post("/o/bbi/bookings/feed", data={"csrf_token": csrf_token(client, "/o/bbi/bookings")})
    path = unquote(re.search(r"feed=([^&]+)", response.headers["Location"]).group(1)).replace("http://localhost", "")
    feed = client.get(path)
    text = feed.get_data(as_text=True)
    assert feed.mimetype == "text/calendar" and "Meeting room" in text
    assert "DTSTART;TZID=Asia/Ho_Chi_Minh:" in text and "BEGIN:VTIMEZONE" in text
    client.post("/o/bbi/bookings/feed", data={"csrf_token": csrf_token(client, "/o/bbi/bookings")})
    assert client.get(path).status_code == 404
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/account")})
    login(client, world.manager.email)
    url = f"/o/bbi/resources/{fablab.room.id}/settings"
    response = client.post(f"/o/bbi/resources/{fablab.room.id}/feed", data={"csrf_token": csrf_token(client, url)})
    path = unquote(re.search(r"feed=([^&]+)", response.headers["Location"]).group(1)).replace("http://localhost", "")
    assert "Meeting room" in client.get(path).get_data(as_text=True)


def test_qr_code_leads_to_the_check_in_page(client, world, fablab):
    login(client, world.manager.email)
    page = client.get(f"/o/bbi/resources/{fablab.laser.id}/qr").get_data(as_text=True)
    assert 'src="data:image/svg+xml' in page and f"/o/bbi/resources/{fablab.laser.id}/check-in" in page
    assert "no booking of this resource right now" in client.get(
        f"/o/bbi/resources/{fablab.laser.id}/check-in").get_data(as_text=True)


def test_utilisation_page(client, world, fablab, session):
    start = next_weekday_at(1, 10)
    session.add(Booking(org_id=world.org.id, resource_id=fablab.room.id, user_id=world.founder.id,
                        startup_id=world.startup.id, starts_at=start, ends_at=start + timedelta(hours=2),
                        blocked_until=start + timedelta(hours=2), status=BookingStatus.CONFIRMED))
    session.flush()
    login(client, world.manager.email)
    page = client.get(f"/o/bbi/utilisation?month={start.astimezone(SAIGON).strftime('%Y-%m')}").get_data(as_text=True)
    assert "Meeting room" in page and "AgriSense" in page and "2.0" in page


@pytest.mark.usefixtures("any_storage")  # a local folder, then an S3 bucket
def test_resource_photo_is_an_image_checked_by_content(client, world, fablab, session):
    import io

    login(client, world.manager.email)
    url = f"/o/bbi/resources/{fablab.room.id}/settings"
    base = {"name": "Meeting room", "kind": "room", "slot_minutes": "30", "min_minutes": "30", "max_minutes": "120",
            "buffer_minutes": "0",
            "min_notice_minutes": "60", "max_days_ahead": "30", "free_cancellation_hours": "24",
            "no_show_minutes": "15", "price_member": "100000", "price_partner": "150000",
            "price_external": "200000", "active": "1", "opens_0": "08:00", "closes_0": "17:00"}
    bad = client.post(url, data={**base, "photo": (io.BytesIO(b"GIF89a not allowed"), "room.png"),
                                 "csrf_token": csrf_token(client, url)}, content_type="multipart/form-data")
    assert bad.status_code == 422 and 'data-field="photo"' in bad.get_data(as_text=True)
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 32
    good = client.post(url, data={**base, "photo": (io.BytesIO(jpeg), "room.jpg"),
                                  "csrf_token": csrf_token(client, url)}, content_type="multipart/form-data")
    assert good.status_code == 302
    served = client.get(f"/o/bbi/resources/{fablab.room.id}/photo")
    assert served.mimetype == "image/jpeg" and served.data == jpeg


def test_closures_and_trainings_are_managed_from_the_pages(client, world, fablab, session):
    from incubator.booking.models import Closure, Training

    login(client, world.manager.email)
    url = f"/o/bbi/resources/{fablab.room.id}/settings"
    day = next_weekday_at(2, 8).astimezone(SAIGON).date()
    client.post(f"/o/bbi/resources/{fablab.room.id}/closures", data={
        "starts": f"{day}T08:00", "ends": f"{day}T20:00", "reason": "Electrical works", "maintenance": "1",
        "csrf_token": csrf_token(client, url)})
    closure = session.execute(select(Closure)).scalar_one()
    assert closure.maintenance and closure.starts_at.astimezone(SAIGON).hour == 8
    assert "Electrical works" in client.get(url).get_data(as_text=True)
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/account")})
    login(client, world.founder.email)
    book = f"/o/bbi/resources/{fablab.room.id}/book?start={day}T10:00"
    refused = client.post(book, data={"minutes": "60", "csrf_token": csrf_token(client, book)})
    assert 'data-code="closed"' in refused.get_data(as_text=True)
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/account")})
    login(client, world.manager.email)
    client.post(f"/o/bbi/resources/{fablab.room.id}/closures", data={"remove": closure.id,
                                                                     "csrf_token": csrf_token(client, url)})
    assert session.execute(select(Closure)).first() is None
    client.post("/o/bbi/trainings", data={"name": "CNC router safety", "validity_months": "6",
                                          "csrf_token": csrf_token(client, "/o/bbi/certifications")})
    assert session.execute(select(Training.validity_months).where(Training.name == "CNC router safety")
                           ).scalar_one() == 6
