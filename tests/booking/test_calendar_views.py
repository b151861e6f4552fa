"""The month and agenda views beside the week grid (#16), for a resource and for a lab: what they show
to whom, the view switch keeping the day, and a fixed number of queries whatever the bookings."""

from __future__ import annotations

from datetime import timedelta

from incubator.booking.models import Booking, BookingStatus
from tests.booking.fixtures import SAIGON, next_weekday_at
from tests.conftest import csrf_token, login, page_queries


def _book(session, world, resource, start, hours=1, user=None, status=BookingStatus.CONFIRMED):
    end = start + timedelta(hours=hours)
    session.add(Booking(org_id=world.org.id, resource_id=resource.id, user_id=(user or world.other_founder).id,
                        starts_at=start, ends_at=end, blocked_until=end, status=status))
    session.flush()


def test_the_agenda_lists_each_days_bookings_and_free_time_and_links_the_free_time(client, session, world, fablab):
    start = next_weekday_at(1, 10)  # a Tuesday, 10:00 Saigon; the room opens 08:00 to 20:00
    _book(session, world, fablab.room, start)
    _book(session, world, fablab.room, start + timedelta(hours=3), user=world.founder)
    login(client, world.founder.email)
    day = start.astimezone(SAIGON).date()
    page = client.get(f"/o/bbi/resources/{fablab.room.id}/agenda?day={day}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    section = html.split('data-testid="agenda"')[1]
    first_day = section.split("<h2")[1]
    assert first_day.count('data-kind="booked"') == 1 and first_day.count('data-kind="mine"') == 1
    assert first_day.count('data-kind="free"') == 3  # 08-10, 11-13, 14-20
    assert f'href="/o/bbi/resources/{fablab.room.id}/book?start=' in first_day
    assert section.count("<h2") == 7
    # the view switch keeps the day
    assert f'/o/bbi/resources/{fablab.room.id}?week={day}' in html
    assert f'/o/bbi/resources/{fablab.room.id}/month?day={day}' in html


def test_the_agenda_offers_no_booking_of_a_machine_the_viewer_is_not_trained_for(client, world, fablab):
    login(client, world.other_founder.email)
    day = next_weekday_at(1, 10).astimezone(SAIGON).date()
    html = client.get(f"/o/bbi/labs/{fablab.lab.id}/agenda?day={day}").get_data(as_text=True)
    assert 'data-testid="not-bookable"' in html and "Laser cutter" in html
    assert f"/o/bbi/resources/{fablab.laser.id}/book" not in html  # the laser's free time is not a link
    assert f"/o/bbi/resources/{fablab.room.id}/book" in html  # the room's is


def test_the_month_counts_each_days_bookings_and_free_hours(client, session, world, fablab):
    start = next_weekday_at(1, 10)
    _book(session, world, fablab.room, start, hours=2)
    _book(session, world, fablab.room, start + timedelta(hours=4), user=world.founder)
    login(client, world.founder.email)
    day = start.astimezone(SAIGON).date()
    page = client.get(f"/o/bbi/resources/{fablab.room.id}/month?day={day}")
    assert page.status_code == 200
    cell = page.get_data(as_text=True).split(f'data-day="{day}"')[1].split("</td>")[0]
    assert "2 bookings" in cell and "1 yours" in cell
    assert "9.0 h free" in cell  # 12 opening hours less 3 booked
    assert f'/o/bbi/resources/{fablab.room.id}?week={day}' in cell
    world.founder.locale = "vi"
    session.flush()
    vietnamese = client.get(f"/o/bbi/resources/{fablab.room.id}/month?day={day}")
    cell = vietnamese.get_data(as_text=True).split(f'data-day="{day}"')[1].split("</td>")[0]
    assert "còn trống 9,0 giờ" in cell  # the decimal comma of the one formatting layer
    lab = client.get(f"/o/bbi/labs/{fablab.lab.id}/month?day={day}")
    assert lab.status_code == 200 and 'data-testid="month-grid"' in lab.get_data(as_text=True)


def test_staff_and_a_funder_see_the_views_and_bad_days_fall_back_to_today(client, world, fablab):
    urls = (f"/o/bbi/resources/{fablab.room.id}/month?day=not-a-day",
            f"/o/bbi/labs/{fablab.lab.id}/agenda?day=9999-99-99",
            f"/o/bbi/labs/{fablab.lab.id}/month", f"/o/bbi/resources/{fablab.laser.id}/agenda")
    login(client, world.manager.email)
    for url in urls:
        assert client.get(url).status_code == 200, url
    assert client.get("/o/bbi/resources/999999/month").status_code == 404
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/o/bbi/bookings")})
    login(client, world.funder.email)
    html = client.get(urls[3]).get_data(as_text=True)
    assert "does not allow booking" in html and "/book?start=" not in html  # sees the time, books none


def test_the_month_and_the_agenda_run_the_same_queries_for_one_booking_or_many(app, client, session, world, fablab):
    login(client, world.founder.email)
    start = next_weekday_at(1, 8)
    day = start.astimezone(SAIGON).date()
    urls = [f"/o/bbi/labs/{fablab.lab.id}/month?day={day}", f"/o/bbi/labs/{fablab.lab.id}/agenda?day={day}"]
    _book(session, world, fablab.room, start)
    few = [page_queries(app, client, url) for url in urls]
    for n in range(1, 12):
        _book(session, world, fablab.room, start + timedelta(days=n % 5, hours=2 + n // 5))
        _book(session, world, fablab.printer, start + timedelta(days=n, hours=1))
    assert [page_queries(app, client, url) for url in urls] == few
