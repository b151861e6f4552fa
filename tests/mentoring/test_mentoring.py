from __future__ import annotations

import re
from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import select

from incubator.core import mail
from incubator.core.errors import Conflict, DomainError, NotAllowed
from incubator.core.permissions import Role
from incubator.mentoring import mentor_sessions, pairing, services
from incubator.mentoring.models import Match, MatchStatus, MentorConflict, MentorSession, SessionStatus
from tests.cohorts.fixtures import TODAY
from tests.conftest import csrf_token, login, statements
from tests.factories import member
from tests.mentoring.fixtures import next_weekday

SAIGON = ZoneInfo("Asia/Ho_Chi_Minh")


def _run(app, session, world, **options):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        return pairing.run_matching(session, world.org, world.cohort, world.manager, today=TODAY, **options)


def _pairs(session, world, *statuses):
    stmt = select(Match.startup_id, Match.mentor_id).where(Match.cohort_id == world.cohort.id)
    if statuses:
        stmt = stmt.where(Match.status.in_(statuses))
    return set(session.execute(stmt).all())


_next_weekday = next_weekday


def test_matching_proposes_the_best_pairs_with_reasons(app, session, world, mentors):
    run = _run(app, session, world, per_startup=1)
    assert _pairs(session, world) == {(world.startup.id, mentors.ha.id), (world.other.id, mentors.park.id)}
    match = session.execute(select(Match).where(Match.startup_id == world.startup.id)).scalar_one()
    assert {r["criterion"] for r in match.reasons} >= {"needs", "industry", "language"}
    assert sum(r["points"] for r in match.reasons) == pytest.approx(match.score, abs=0.1)
    assert run.total_score == pytest.approx(sum(m.score for m in session.execute(select(Match)).scalars()), abs=0.1)


def test_conflicts_of_interest_are_never_matched(app, session, world, mentors):
    with app.test_request_context():
        services.record_conflict(session, mentors.ha, world.startup, "equity", "Owns 5% of AgriSense", world.manager)
    _run(app, session, world, per_startup=2)
    assert (world.startup.id, mentors.ha.id) not in _pairs(session, world)
    recorded = session.execute(select(MentorConflict)).scalar_one()
    assert (recorded.kind, recorded.recorded_by_id) == ("equity", world.manager.id)


def test_a_conflict_needs_a_reason(app, session, world, mentors):
    with app.test_request_context(), pytest.raises(DomainError):
        services.record_conflict(session, mentors.ha, world.startup, "family", " ", world.manager)


def test_locks_survive_a_rerun_and_proposals_are_replaced(app, session, world, mentors):
    _run(app, session, world, per_startup=1)
    match = session.execute(select(Match).where(Match.startup_id == world.other.id)).scalar_one()
    with app.test_request_context():
        pairing.replace_mentor(session, match, mentors.ha)  # the manager's own choice, locked
    _run(app, session, world, per_startup=1)
    assert (world.other.id, mentors.ha.id) in _pairs(session, world, MatchStatus.LOCKED)
    # Hà's single place is taken by the lock, so AgriSense no longer gets Hà.
    assert (world.startup.id, mentors.ha.id) not in _pairs(session, world)


def test_capacity_counts_matches_in_other_cohorts(app, session, world, mentors):
    from tests.factories import CohortFactory, enrolled

    other_cohort = CohortFactory(programme=world.cohort.programme, org_id=world.org.id)
    elsewhere = enrolled(other_cohort)
    session.add(Match(org_id=world.org.id, cohort_id=other_cohort.id, startup_id=elsewhere.id,
                      mentor_id=mentors.ha.id, status=MatchStatus.ACCEPTED))
    session.flush()
    _run(app, session, world, per_startup=1)
    assert all(mentor != mentors.ha.id for _s, mentor in _pairs(session, world))


def test_publish_asks_both_sides_and_answers_decide(app, session, world, mentors):
    _run(app, session, world, per_startup=1)
    with app.test_request_context():
        count = pairing.publish(session, world.cohort, notify=None)
    assert count == 2
    match = session.execute(select(Match).where(Match.startup_id == world.startup.id)).scalar_one()
    pairing.respond(match, mentors.mentor_user, True)
    assert match.status == MatchStatus.PUBLISHED
    pairing.respond(match, world.founder, True)
    assert match.status == MatchStatus.ACCEPTED
    stranger = member(world.org, Role.FOUNDER)
    with app.test_request_context(), pytest.raises(NotAllowed):
        pairing.respond(match, stranger, True)


def test_a_decline_frees_the_place_for_the_next_run(app, session, world, mentors):
    _run(app, session, world, per_startup=1)
    with app.test_request_context():
        pairing.publish(session, world.cohort)
    match = session.execute(select(Match).where(Match.startup_id == world.startup.id)).scalar_one()
    pairing.respond(match, world.founder, False)
    assert match.status == MatchStatus.DECLINED
    _run(app, session, world, per_startup=1)
    active = _pairs(session, world, MatchStatus.PROPOSED, MatchStatus.PUBLISHED)
    assert (world.startup.id, mentors.ha.id) not in active


def test_publishing_emails_mentors_and_founders(client, session, world, mentors):
    login(client, world.manager.email)
    url = f"/o/bbi/cohorts/{world.cohort.id}/matching"
    client.post(url, data={"per_startup": "1", "csrf_token": csrf_token(client, url)})
    client.post(url + "/publish", data={"csrf_token": csrf_token(client, url)})
    recipients = {m.to[0] for m in mail.outbox}
    assert {mentors.mentor_user.email, mentors.park_user.email, world.founder.email,
            world.other_founder.email} <= recipients


def test_matching_page_explains_every_pair(client, session, world, mentors):
    login(client, world.manager.email)
    url = f"/o/bbi/cohorts/{world.cohort.id}/matching"
    client.post(url, data={"per_startup": "1", "w_needs": "60", "csrf_token": csrf_token(client, url)})
    page = client.get(url).get_data(as_text=True)
    assert page.count('data-testid="reasons"') == 2
    # AgriSense asked for fundraising; its missing check-ins add a reporting gap that Hà does not cover.
    assert "Needs met: Fundraising, 1 of 2" in page
    assert 'value="60"' in page


def test_sessions_stay_inside_availability_and_never_overlap(app, session, world, mentors, published):
    match = published[world.startup.id]
    with app.test_request_context():
        with pytest.raises(DomainError) as error:
            mentor_sessions.schedule_session(session, match, starts_at=_next_weekday(5, 10), duration_minutes=60)  # Sat
        assert error.value.code == "outside_availability"
        first = mentor_sessions.schedule_session(session, match, starts_at=_next_weekday(1, 10), duration_minutes=60)
        with pytest.raises(Conflict) as error:
            mentor_sessions.schedule_session(session, match, starts_at=_next_weekday(1, 10) + timedelta(minutes=30),
                                      duration_minutes=60)
        assert error.value.code == "session_overlap"
        mentor_sessions.schedule_session(session, match, starts_at=first.ends_at, duration_minutes=30)  # back to back


def test_scheduling_sends_an_ics_invitation(client, session, world, mentors, published):
    match = published[world.startup.id]
    login(client, world.founder.email)
    when = _next_weekday(2, 14).strftime("%Y-%m-%dT%H:%M")
    client.post(f"/o/bbi/matches/{match.id}/sessions", data={
        "starts_at": when, "duration": "60", "format": "online", "location": "https://meet.example.org/x",
        "csrf_token": csrf_token(client, "/o/bbi/mentoring")})
    record = session.execute(select(MentorSession)).scalar_one()
    assert record.starts_at.astimezone(SAIGON).strftime("%Y-%m-%dT%H:%M") == when
    invitation = next(m for m in mail.outbox if m.to == [world.founder.email])
    ics = invitation.attachments[0]
    assert ics.content_type == "text/calendar"
    text = ics.data.decode()
    assert "BEGIN:VEVENT" in text and "METHOD:REQUEST" in text
    # 14:00 in Saigon, written as the organisation's local time with its VTIMEZONE (core.ics)
    assert re.search(r"DTSTART;TZID=Asia/Ho_Chi_Minh:\d{8}T140000\r?\n", text) and "BEGIN:VTIMEZONE" in text
    [event] = Calendar.from_ical(ics.data).walk("VEVENT")
    assert event.decoded("dtstart") == record.starts_at and event.decoded("dtend") == record.ends_at


def test_mentor_logs_notes_and_actions_founder_rates(client, app, session, world, mentors, published):
    match = published[world.startup.id]
    with app.test_request_context():  # a session that took place (a future one cannot be logged yet)
        record = mentor_sessions.schedule_session(session, match, starts_at=_next_weekday(1, 10) - timedelta(days=14),
                                           duration_minutes=60)
    session.flush()
    url = f"/o/bbi/mentor-sessions/{record.id}"
    login(client, world.founder.email)
    client.post(url, data={"notes": "founder tries", "duration": "60", "csrf_token": csrf_token(client, url)})
    session.refresh(record)
    assert record.status == SessionStatus.SCHEDULED  # only the mentor logs
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/account")})
    login(client, mentors.mentor_user.email)
    client.post(url, data={"notes": "Pricing model reviewed", "topics": "pricing", "duration": "90",
                           "action_title": ["Send the deck", ""], "action_owner": ["startup", "startup"],
                           "action_due": ["", ""], "csrf_token": csrf_token(client, url)})
    session.refresh(record)
    assert (record.status, record.duration_minutes, record.notes) == ("held", 90, "Pricing model reviewed")
    assert [a.title for a in record.action_items] == ["Send the deck"]
    assert mentor_sessions.hours_used(session, world.startup.id) == 1.5
    with app.test_request_context(), pytest.raises(NotAllowed):
        mentor_sessions.rate_session(record, mentors.mentor_user, 5, "")
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/account")})
    login(client, world.founder.email)
    client.post(f"{url}/rate", data={"rating": "4", "comment": "Useful", "csrf_token": csrf_token(client, url)})
    session.refresh(record)
    assert (record.rating, record.rating_comment) == (4, "Useful")
    # The open action item is on the next session's agenda.
    with app.test_request_context():
        nxt = mentor_sessions.schedule_session(session, match, starts_at=_next_weekday(3, 10), duration_minutes=60)
    assert [i.title for i in mentor_sessions.open_action_items(session, nxt.match)] == ["Send the deck"]


def test_notes_are_for_the_pair_and_managers_only(client, session, world, mentors, published, app):
    match = published[world.startup.id]
    with app.test_request_context():
        record = mentor_sessions.schedule_session(session, match, starts_at=_next_weekday(1, 10), duration_minutes=60)
    record.notes = "confidential"
    session.flush()
    for outsider in (world.other_founder, world.funder, mentors.park_user):
        login(client, outsider.email)
        assert client.get(f"/o/bbi/mentor-sessions/{record.id}").status_code == 404
        client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/account")})
    login(client, world.manager.email)
    assert "confidential" in client.get(f"/o/bbi/mentor-sessions/{record.id}").get_data(as_text=True)


def test_matches_without_a_session_for_21_days_are_flagged(app, session, world, mentors, published):
    from incubator.core.db import utcnow

    match = published[world.startup.id]
    now = utcnow()
    assert mentor_sessions.stale_matches(session, world.cohort, now) == []
    session.add(MentorSession(org_id=world.org.id, match=match, mentor_id=match.mentor_id,
                              starts_at=now - timedelta(days=30), status=SessionStatus.HELD))
    session.flush()
    assert mentor_sessions.stale_matches(session, world.cohort, now + timedelta(days=30)) != []
    assert match in mentor_sessions.stale_matches(session, world.cohort, now)


def test_the_calendar_feed_is_secret_and_revocable(client, app, session, world, mentors, published):
    match = published[world.startup.id]
    with app.test_request_context():
        mentor_sessions.schedule_session(session, match, starts_at=_next_weekday(1, 10), duration_minutes=60)
    login(client, mentors.mentor_user.email)
    response = client.post("/o/bbi/mentor-profile/feed", data={"csrf_token": csrf_token(client, "/o/bbi/mentoring")})
    feed = re.search(r"feed=([^&]+)", response.headers["Location"]).group(1)
    from urllib.parse import unquote

    path = unquote(feed).replace("http://localhost", "")
    served = client.get(path)
    assert served.status_code == 200 and served.mimetype == "text/calendar"
    assert b"BEGIN:VEVENT" in served.data and b"AgriSense" in served.data
    client.post("/o/bbi/mentor-profile/feed", data={"csrf_token": csrf_token(client, "/o/bbi/mentoring")})
    assert client.get(path).status_code == 404
    assert client.get("/feeds/mentors/not-a-token.ics").status_code == 404


def test_profile_form_validates(client, session, world, mentors):
    login(client, mentors.mentor_user.email)
    url = "/o/bbi/mentor-profile"
    bad = client.post(url, data={"capacity": "-1", "hours_per_month": "4", "timezone": "Asia/Ho_Chi_Minh",
                                 "windows": "someday 9-5", "csrf_token": csrf_token(client, url)})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and 'data-field="windows"' in html
    good = client.post(url, data={"capacity": "3", "hours_per_month": "6", "timezone": "Asia/Ho_Chi_Minh",
                                  "languages": ["vi", "en"], "expertise": ["finance"], "free_tags": "rubber, esg",
                                  "windows": "Tue 18:00-20:00\nThu 07:30-09:00", "csrf_token": csrf_token(client, url)})
    assert good.status_code == 302
    session.refresh(mentors.ha)
    assert mentors.ha.capacity == 3 and mentors.ha.expertise == ["esg", "finance", "rubber"]
    assert [(w.weekday, w.starts) for w in mentors.ha.windows] == [(1, time(18)), (3, time(7, 30))]


def test_running_the_matching_takes_the_same_number_of_queries_for_any_cohort_size(app, session, world, mentors):

    from tests.factories import enrolled, milestone

    def queries() -> int:
        with statements(app) as seen:
            _run(app, session, world, per_startup=1)
        return len(seen)

    few = queries()
    for i in range(12):
        startup = enrolled(world.cohort, name=f"More {i}")
        milestone(startup, "Late", world.cohort.starts_on)
    session.flush()
    # Gaps, needs and capacities are read in bulk; only the (batched) inserts of proposals may add a few.
    assert queries() - few <= 3
