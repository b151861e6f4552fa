"""Every calendar of the app (three feeds, the mailed invitations) comes from one builder and one
token table: each parses, keeps its UIDs across fetches, writes times the same way, and its address
is revocable (404 afterwards); the pages make new addresses through the one service."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import unquote

import pytest
from icalendar import Calendar
from sqlalchemy import delete, select

from incubator.booking.models import Booking, BookingStatus
from incubator.core import mail
from incubator.core.db import utcnow
from incubator.core.feeds import FeedKind, FeedToken, issue_feed_token, live_feed_token, revoke_feed
from incubator.core.permissions import Role
from incubator.core.tokens import hash_token
from incubator.mentoring.models import MentorSession
from incubator.orgs.models import Membership
from tests.booking.fixtures import next_weekday_at
from tests.conftest import csrf_token, login
from tests.factories import OrgFactory, member
from tests.mentoring.fixtures import next_weekday

SAIGON = "Asia/Ho_Chi_Minh"


def feed_path(response) -> str:
    """The feed address a page put in its redirect (``?feed=...``), as a path."""
    assert response.status_code == 302, response.get_data(as_text=True)
    found = re.search(r"feed=([^&]+)", response.headers["Location"])
    assert found, response.headers["Location"]
    return re.sub(r"^https?://[^/]+", "", unquote(found.group(1)))


def fetch(client, path: str) -> Calendar:
    response = client.get(path)
    assert response.status_code == 200 and response.mimetype == "text/calendar", (path, response.status_code)
    return Calendar.from_ical(response.get_data())


@pytest.fixture()
def calendars(client, session, world, fablab, mentors, published):
    """A booking and a mentor session, and the three feeds made through their pages."""
    start = next_weekday_at(1, 9)
    booking = Booking(org_id=world.org.id, resource_id=fablab.room.id, user_id=world.founder.id, starts_at=start,
                      ends_at=start + timedelta(hours=2), blocked_until=start + timedelta(hours=2),
                      status=BookingStatus.CONFIRMED)
    session.add(booking)
    session.flush()
    match = published[world.startup.id]
    paths = {}
    login(client, world.founder.email)  # the founder books a session on its page: the invitation is mailed
    client.post(f"/o/bbi/matches/{match.id}/sessions", data={
        "starts_at": next_weekday(2, 14).strftime("%Y-%m-%dT%H:%M"), "duration": "60", "format": "online",
        "location": "https://meet.example.org/x", "csrf_token": csrf_token(client, "/o/bbi/mentoring")})
    record = session.execute(select(MentorSession).where(MentorSession.match_id == match.id)).scalar_one()
    paths["bookings"] = feed_path(client.post("/o/bbi/bookings/feed",
                                              data={"csrf_token": csrf_token(client, "/o/bbi/bookings/mine")}))
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/o/bbi/")})
    login(client, world.manager.email)
    settings = f"/o/bbi/resources/{fablab.room.id}/settings"
    paths["resource"] = feed_path(client.post(f"/o/bbi/resources/{fablab.room.id}/feed",
                                              data={"csrf_token": csrf_token(client, settings)}))
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/o/bbi/")})
    login(client, mentors.mentor_user.email)
    paths["mentor"] = feed_path(client.post("/o/bbi/mentor-profile/feed",
                                            data={"csrf_token": csrf_token(client, "/o/bbi/mentoring")}))
    return paths, booking, record


def test_every_feed_parses_and_keeps_its_uids_across_fetches(client, app, calendars):
    paths, booking, record = calendars
    domain = re.sub(r"^https?://([^/:]+).*$", r"\1", app.config["PUBLIC_URL"])
    expected = {"bookings": {f"booking-{booking.id}@{domain}"}, "resource": {f"booking-{booking.id}@{domain}"},
                "mentor": {f"mentor-session-{record.id}@{domain}"}}
    for kind, path in paths.items():
        first, second = client.get(path), client.get(path)
        assert first.status_code == second.status_code == 200
        assert first.get_data() == second.get_data()  # the same rows give the same file
        cal = Calendar.from_ical(first.get_data())
        assert {str(e["uid"]) for e in cal.walk("VEVENT")} == expected[kind]
        assert str(cal["x-wr-calname"]) and str(cal["x-wr-timezone"]) == SAIGON
        assert "method" not in cal  # a feed, not an invitation
        assert [str(tz["tzid"]) for tz in cal.walk("VTIMEZONE")] == [SAIGON]


def test_bookings_and_mentor_sessions_write_times_the_same_way(client, calendars):
    """Feeds and invitations alike: the organisation's local time with its TZID and VTIMEZONE."""
    paths, booking, record = calendars
    mailed = next(m for m in mail.outbox if m.attachments)
    invitation = Calendar.from_ical(mailed.attachments[0].data)
    sources = [(fetch(client, paths["bookings"]), booking.starts_at, booking.ends_at),
               (fetch(client, paths["resource"]), booking.starts_at, booking.ends_at),
               (fetch(client, paths["mentor"]), record.starts_at, record.ends_at),
               (invitation, record.starts_at, record.ends_at)]
    for cal, starts_at, ends_at in sources:
        [event] = cal.walk("VEVENT")
        for name, moment in (("dtstart", starts_at), ("dtend", ends_at)):
            assert event[name].params["TZID"] == SAIGON
            assert event.decoded(name) == moment  # the same instant
            assert event.decoded(name).utcoffset() == timedelta(hours=7)  # written as Saigon's wall time
        assert [str(tz["tzid"]) for tz in cal.walk("VTIMEZONE")] == [SAIGON]
    assert str(invitation["method"]) == "REQUEST"
    [event] = invitation.walk("VEVENT")
    assert int(event["sequence"]) == 0 and str(event["organizer"]).startswith("mailto:")
    assert len(event.get("attendee")) == 2  # the mentor and the founder


def test_a_new_address_revokes_the_old_one_for_that_feed_only(client, session, world, fablab, calendars):
    paths, _booking, _record = calendars
    # Signed in as the mentor (last): a new mentor address; the other feeds keep theirs.
    again = feed_path(client.post("/o/bbi/mentor-profile/feed",
                                  data={"csrf_token": csrf_token(client, "/o/bbi/mentoring")}))
    assert again != paths["mentor"]
    assert client.get(paths["mentor"]).status_code == 404
    assert client.get(again).status_code == 200
    assert client.get(paths["bookings"]).status_code == client.get(paths["resource"]).status_code == 200
    rows = session.execute(select(FeedToken).where(FeedToken.kind == FeedKind.MENTOR)).scalars().all()
    assert sorted(r.revoked_at is None for r in rows) == [False, True]  # the old one is kept, revoked


def test_revoked_unknown_and_other_kinds_answer_404(client, session, world, fablab, calendars):
    paths, _booking, _record = calendars
    token = paths["bookings"].rsplit("/", 1)[1].removesuffix(".ics")
    assert client.get(f"/feeds/resources/{token}.ics").status_code == 404  # a person's token, not a resource's
    assert client.get(f"/feeds/mentors/{token}.ics").status_code == 404
    for path in ("/feeds/bookings/nope.ics", "/feeds/resources/nope.ics", "/feeds/mentors/nope.ics"):
        assert client.get(path).status_code == 404
    for kind, owner in ((FeedKind.BOOKINGS, world.founder.id), (FeedKind.RESOURCE, fablab.room.id)):
        assert revoke_feed(session, org_id=world.org.id, kind=kind, owner_id=owner) == 1
    session.flush()
    assert client.get(paths["bookings"]).status_code == client.get(paths["resource"]).status_code == 404
    assert client.get(paths["mentor"]).status_code == 200


def test_a_person_who_leaves_the_organisation_loses_the_booking_feed(client, session, world, calendars):
    paths, _booking, _record = calendars
    session.execute(delete(Membership).where(Membership.org_id == world.org.id,
                                             Membership.user_id == world.founder.id))
    session.flush()
    assert client.get(paths["bookings"]).status_code == 404


def test_the_last_use_is_recorded(client, session, world, calendars):
    paths, _booking, _record = calendars
    before = utcnow()
    client.get(paths["resource"])
    record = session.execute(select(FeedToken).where(FeedToken.kind == FeedKind.RESOURCE)).scalar_one()
    session.refresh(record)
    assert record.last_used_at is not None and record.last_used_at >= before - timedelta(seconds=1)


def test_the_service_keeps_one_live_token_per_feed(app, session, world):
    other = OrgFactory(slug="other-feeds")
    person = member(other, Role.FOUNDER)
    with app.app_context():
        check_one_live_token(session, world, other, person)


def check_one_live_token(session, world, other, person):
    first = issue_feed_token(session, org_id=world.org.id, kind=FeedKind.BOOKINGS, owner_id=person.id)
    elsewhere = issue_feed_token(session, org_id=other.id, kind=FeedKind.BOOKINGS, owner_id=person.id)
    second = issue_feed_token(session, org_id=world.org.id, kind=FeedKind.BOOKINGS, owner_id=person.id)
    assert len({first, second, elsewhere}) == 3
    assert live_feed_token(session, first, FeedKind.BOOKINGS) is None
    assert live_feed_token(session, second, FeedKind.BOOKINGS).org_id == world.org.id
    assert live_feed_token(session, elsewhere, FeedKind.BOOKINGS).org_id == other.id  # another org's feed
    assert live_feed_token(session, second, FeedKind.MENTOR) is None
    stored = session.execute(select(FeedToken.token_hash).where(FeedToken.owner_id == person.id)).scalars().all()
    assert hash_token(second) in stored and second not in stored  # only the hash is kept


def test_a_refused_feed_post_changes_nothing(client, session, world, fablab):
    """No CSRF token: 400 and no address; a founder may not make a resource's address (403)."""
    login(client, world.founder.email)
    assert client.post("/o/bbi/bookings/feed").status_code == 400
    refused = client.post(f"/o/bbi/resources/{fablab.room.id}/feed",
                          data={"csrf_token": csrf_token(client, "/o/bbi/bookings/mine")})
    assert refused.status_code == 403
    assert session.execute(select(FeedToken)).scalars().all() == []
