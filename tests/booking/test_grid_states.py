"""The grids say what each cell is for the person looking (#16): free time they may not book is shown as
not bookable with the reason (``access.resource_refusals``: their training, their role, no startup), not as
free; their own bookings and held ones are told apart from others'; and the legend explains them."""

from __future__ import annotations

from datetime import timedelta

from incubator.booking.models import Booking, BookingStatus
from incubator.core.db import utcnow
from incubator.core.permissions import Role
from tests.booking.fixtures import SAIGON, next_weekday_at
from tests.conftest import csrf_token, login
from tests.factories import member

FREE_LINK = '<a class="slot slot-free"'
TRAINING = "You need a valid “Laser cutter safety” certification to book this machine."


def _week(client, resource, start) -> str:
    page = client.get(f"/o/bbi/resources/{resource.id}?week={start.astimezone(SAIGON).date()}")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_a_founder_without_the_training_sees_the_laser_as_not_bookable_with_the_reason(client, world, fablab):
    login(client, world.other_founder.email)  # a founder of FactoryEye, not certified
    html = _week(client, fablab.laser, next_weekday_at(1, 10))
    assert FREE_LINK not in html
    assert f'<span class="slot slot-unbookable" title="{TRAINING}">' in html
    assert 'data-testid="not-bookable"' in html and 'data-testid="grid-legend"' in html
    # the room needs no training: free, and linked to the booking form
    room = _week(client, fablab.room, next_weekday_at(1, 10))
    assert FREE_LINK in room and "slot-unbookable" not in room.split('data-testid="week-grid"')[1]


def test_a_trained_founder_sees_the_laser_free(client, world, fablab):
    login(client, world.founder.email)
    html = _week(client, fablab.laser, next_weekday_at(1, 10))
    assert FREE_LINK in html and 'class="slot slot-unbookable"' not in html
    assert 'data-testid="not-bookable"' not in html


def test_a_founder_of_no_startup_and_a_funder_see_why_they_cannot_book(client, session, world, fablab):
    lone = member(world.org, Role.FOUNDER, name="Lone Founder")
    session.flush()
    login(client, lone.email)
    html = _week(client, fablab.room, next_weekday_at(1, 10))
    assert FREE_LINK not in html and 'class="slot slot-unbookable" title="Only founders of a startup' in html
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/o/bbi/bookings")})
    login(client, world.funder.email)
    html = _week(client, fablab.room, next_weekday_at(1, 10))
    assert FREE_LINK not in html
    assert 'class="slot slot-unbookable" title="Your role in this organisation does not allow booking."' in html


def test_staff_book_the_room_and_see_the_training_rule_like_everyone(client, world, fablab):
    login(client, world.manager.email)
    assert FREE_LINK in _week(client, fablab.room, next_weekday_at(1, 10))
    assert f'title="{TRAINING}"' in _week(client, fablab.laser, next_weekday_at(1, 10))  # check_rules asks staff too


def test_a_switched_off_resource_shows_no_free_time(client, session, world, fablab):
    fablab.room.active = False
    session.flush()
    login(client, world.founder.email)
    html = _week(client, fablab.room, next_weekday_at(1, 10))
    assert FREE_LINK not in html and 'title="This resource cannot be booked at the moment."' in html


def test_the_lab_day_marks_each_resource_for_the_viewer_and_tells_mine_and_held_apart(client, session, world,
                                                                                       fablab):
    start = next_weekday_at(1, 10)
    session.add_all([
        Booking(org_id=world.org.id, resource_id=fablab.room.id, user_id=world.other_founder.id, starts_at=start,
                ends_at=start + timedelta(hours=1), blocked_until=start + timedelta(hours=1),
                status=BookingStatus.AWAITING_PAYMENT, hold_expires_at=utcnow() + timedelta(minutes=10)),
        Booking(org_id=world.org.id, resource_id=fablab.room.id, user_id=world.other_founder.id,
                starts_at=start + timedelta(hours=2), ends_at=start + timedelta(hours=3),
                blocked_until=start + timedelta(hours=3), status=BookingStatus.CONFIRMED)])
    session.flush()
    login(client, world.other_founder.email)
    page = client.get(f"/o/bbi/labs/{fablab.lab.id}?day={start.astimezone(SAIGON).date()}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-testid="grid-legend"' in html
    assert html.count(f'title="{TRAINING}"') >= 1 and html.count('data-testid="not-bookable"') == 1  # the laser only
    assert html.count('class="slot slot-busy" data-state="mine"') == 4  # both the viewer's: mine beats held
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/o/bbi/bookings")})
    login(client, world.founder.email)
    html = client.get(f"/o/bbi/labs/{fablab.lab.id}?day={start.astimezone(SAIGON).date()}").get_data(as_text=True)
    assert html.count('class="slot slot-busy" data-state="held"') == 2  # someone else's hold: 10:00, 10:30
    assert html.count('class="slot slot-busy" title=') == 2  # someone else's confirmed booking: 12:00, 12:30
    assert 'data-testid="not-bookable"' not in html
