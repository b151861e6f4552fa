"""The iCal feeds (a person's, a resource's): what they hold, their stable UIDs, and event statuses."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from icalendar import Calendar

from incubator.booking.models import Booking, BookingStatus, ResourceShare
from incubator.core.feeds import FeedKind, FeedToken
from incubator.core.permissions import Role
from incubator.core.tokens import hash_token
from tests.booking.fixtures import next_weekday_at
from tests.factories import OrgFactory, member


def add_booking(session, resource, user, status, day: int, *, org_id=None, partner_org_id=None) -> Booking:
    start = next_weekday_at(day, 10)
    booking = Booking(org_id=org_id or resource.org_id, resource_id=resource.id, user_id=user.id,
                      starts_at=start, ends_at=start + timedelta(hours=1), blocked_until=start + timedelta(hours=1),
                      status=status, partner_org_id=partner_org_id)
    session.add(booking)
    session.flush()
    return booking


def add_feed(session, org_id: int, kind: FeedKind, owner_id: int, token: str) -> FeedToken:
    """A live address made before (as the migration moves the old ones over: the same hash)."""
    record = FeedToken(org_id=org_id, kind=kind, owner_id=owner_id, token_hash=hash_token(token))
    session.add(record)
    session.flush()
    return record


def events(client, path: str, host: str = "localhost") -> dict[str, tuple[str, str]]:
    """{summary's resource: (UID, STATUS)} of the feed at ``path``, fetched under ``host``."""
    response = client.get(path, base_url=f"http://{host}")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    found = {}
    for event in Calendar.from_ical(response.get_data()).walk("VEVENT"):
        found[str(event["uid"])] = (str(event["summary"]), str(event["status"]))
    return found


@pytest.fixture()
def person_feed(world, session):
    add_feed(session, world.org.id, FeedKind.BOOKINGS, world.founder.id, "person-token")
    return "/feeds/bookings/person-token.ics"


def test_every_state_maps_to_its_calendar_status(client, world, fablab, session, person_feed):
    made = {status: add_booking(session, resource, world.founder, status, day)
            for status, resource, day in [
                (BookingStatus.CONFIRMED, fablab.room, 0), (BookingStatus.COMPLETED, fablab.printer, 0),
                (BookingStatus.PENDING_APPROVAL, fablab.room, 1), (BookingStatus.AWAITING_PAYMENT, fablab.room, 2),
                (BookingStatus.HELD, fablab.room, 3), (BookingStatus.CANCELLED, fablab.room, 4)]}
    add_feed(session, fablab.laser.org_id, FeedKind.RESOURCE, fablab.laser.id, "resource-token")
    by_id = {b.id: status for status, b in made.items()}
    found = events(client, person_feed)
    statuses = {by_id[int(uid.split("@")[0].removeprefix("booking-"))]: status for uid, (_s, status) in
                found.items()}
    assert statuses == {BookingStatus.CONFIRMED: "CONFIRMED", BookingStatus.COMPLETED: "CONFIRMED",
                        BookingStatus.PENDING_APPROVAL: "TENTATIVE", BookingStatus.AWAITING_PAYMENT: "TENTATIVE",
                        BookingStatus.HELD: "TENTATIVE"}  # the cancelled one is left out
    add_feed(session, fablab.room.org_id, FeedKind.RESOURCE, fablab.room.id, "room-token")
    room = events(client, "/feeds/resources/room-token.ics")
    assert sorted(status for _s, status in room.values()) == ["CONFIRMED", "TENTATIVE", "TENTATIVE", "TENTATIVE"]


def test_uids_do_not_follow_the_request_host(client, app, world, fablab, session, person_feed):
    booking = add_booking(session, fablab.room, world.founder, BookingStatus.CONFIRMED, 1)
    add_feed(session, fablab.room.org_id, FeedKind.RESOURCE, fablab.room.id, "room-token")
    for path in (person_feed, "/feeds/resources/room-token.ics"):
        first = events(client, path, "labs.example.org")
        second = events(client, path, "new-name.example.net:8443")
        assert first.keys() == second.keys() == {f"booking-{booking.id}@{urlsplit(app.config['PUBLIC_URL']).hostname}"}
    before, app.config["CALENDAR_UID_DOMAIN"] = app.config.get("CALENDAR_UID_DOMAIN"), "incubator.example.vn"
    try:
        assert set(events(client, person_feed, "elsewhere.example")) == {f"booking-{booking.id}@incubator.example.vn"}
    finally:
        app.config["CALENDAR_UID_DOMAIN"] = before


def test_the_personal_feed_holds_bookings_of_shared_resources(client, world, fablab, session):
    tdmu = OrgFactory(slug="tdmu", name="TDMU")
    founder = member(tdmu, Role.FOUNDER)
    session.add(ResourceShare(org_id=world.org.id, resource_id=fablab.room.id, partner_org_id=tdmu.id))
    add_feed(session, tdmu.id, FeedKind.BOOKINGS, founder.id, "partner-token")
    shared = add_booking(session, fablab.room, founder, BookingStatus.CONFIRMED, 2, partner_org_id=tdmu.id)
    found = events(client, "/feeds/bookings/partner-token.ics")
    assert [uid.split("@")[0] for uid in found] == [f"booking-{shared.id}"]
    assert found[next(iter(found))][0].startswith("Meeting room")
    # The owner's resource feed shows it too; the person's feed in the owner org does not (not theirs).
    add_feed(session, fablab.room.org_id, FeedKind.RESOURCE, fablab.room.id, "room-token")
    assert len(events(client, "/feeds/resources/room-token.ics")) == 1
