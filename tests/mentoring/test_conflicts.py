"""Conflicts of interest recorded after a match: the match ends, its sessions to come are cancelled,
no new session can be booked; a second record of the pair is refused; conflicts are listed and removed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from incubator.accounts.services import create_api_token
from incubator.core import mail
from incubator.mentoring import mentor_sessions, pairing
from incubator.mentoring.models import MatchStatus, MentorConflict, MentorSession, SessionStatus
from tests.conftest import csrf_token, login
from tests.mentoring.fixtures import next_weekday as _next_weekday


def _bearer(session, user) -> dict[str, str]:
    value, _record = create_api_token(session, user, "test")
    session.flush()
    return {"Authorization": f"Bearer {value}"}


@pytest.fixture()
def booked(app, session, world, mentors, published):
    """Hà and AgriSense: one session held last fortnight, one to come."""
    match = published[world.startup.id]
    with app.test_request_context():
        held = mentor_sessions.schedule_session(session, match, starts_at=_next_weekday(1, 10) - timedelta(days=14),
                                         duration_minutes=60)
        held.status = SessionStatus.HELD
        coming = mentor_sessions.schedule_session(session, match, starts_at=_next_weekday(2, 10), duration_minutes=60)
    session.flush()
    return match, held, coming


def _record(client, world, mentors, **data):
    url = f"/o/bbi/mentors/{mentors.ha.id}/edit"
    return client.post(f"/o/bbi/mentors/{mentors.ha.id}/conflicts", data={
        "startup_id": str(world.startup.id), "kind": "equity", "reason": "Holds 5% of AgriSense",
        "csrf_token": csrf_token(client, url), **data}, headers={"Referer": url})


def test_a_conflict_ends_the_match_and_cancels_its_sessions_to_come(client, session, world, mentors, booked):
    match, held, coming = booked
    login(client, world.manager.email)
    mail.outbox.clear()
    assert _record(client, world, mentors).status_code == 302
    session.refresh(match)
    session.refresh(held)
    session.refresh(coming)
    assert match.status == MatchStatus.ENDED
    assert [(e["event"], e["kind"], e["by"]) for e in match.history] == [("conflict_of_interest", "equity",
                                                                          world.manager.id)]
    assert (held.status, coming.status, coming.sequence) == (SessionStatus.HELD, SessionStatus.CANCELLED, 1)
    # Both sides are told, with a cancellation their calendars understand.
    told = {m.to[0]: m for m in mail.outbox}
    assert {mentors.mentor_user.email, world.founder.email} <= set(told)
    ics = told[world.founder.email].attachments[0].data.decode()
    assert "METHOD:CANCEL" in ics and "STATUS:CANCELLED" in ics and "SEQUENCE:1" in ics
    assert f"UID:mentor-session-{coming.id}@" in ics
    # The matching page and the pair's own page say what happened.
    page = client.get(f"/o/bbi/cohorts/{world.cohort.id}/matching").get_data(as_text=True)
    assert "ended, a conflict of interest was recorded by" in page
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/account")})
    login(client, world.founder.email)
    mine = client.get("/o/bbi/mentoring")
    assert mine.status_code == 200 and "This match has ended" in mine.get_data(as_text=True)


def test_no_session_can_be_booked_after_a_conflict(client, app, session, world, mentors, booked):
    match, _held, _coming = booked
    login(client, world.manager.email)
    _record(client, world, mentors)
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/account")})
    login(client, world.founder.email)
    response = client.post(f"/o/bbi/matches/{match.id}/sessions", data={
        "starts_at": _next_weekday(3, 10).strftime("%Y-%m-%dT%H:%M"), "duration": "60", "format": "online",
        "csrf_token": csrf_token(client, "/o/bbi/mentoring")}, follow_redirects=True)
    assert "no more sessions can be booked" in response.get_data(as_text=True)
    api = client.post("/api/v1/orgs/bbi/sessions", json={"match_id": match.id, "starts_at":
                                                         _next_weekday(3, 10).isoformat()},
                      headers=_bearer(session, world.founder))
    assert api.status_code == 409 and api.get_json()["code"] == "match_not_active"
    assert session.execute(select(MentorSession).where(
        MentorSession.status == SessionStatus.SCHEDULED)).scalars().all() == []


def test_booking_is_refused_while_a_conflict_stands_even_on_an_active_match(app, session, world, mentors,
                                                                          published):
    from incubator.core.errors import Conflict

    match = published[world.startup.id]
    session.add(MentorConflict(org_id=world.org.id, mentor_id=mentors.ha.id, startup_id=world.startup.id,
                               kind="family", reason="Cousin"))  # e.g. recorded before this fix
    session.flush()
    with app.test_request_context(), pytest.raises(Conflict) as error:
        mentor_sessions.schedule_session(session, match, starts_at=_next_weekday(1, 10), duration_minutes=60)
    assert error.value.code == "conflict_of_interest"


def test_recording_the_same_conflict_twice_is_a_clear_message(client, session, world, mentors):
    login(client, world.manager.email)
    assert _record(client, world, mentors).status_code == 302
    again = _record(client, world, mentors, kind="family", reason="Also family")
    assert again.status_code == 302
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "This conflict of interest is already recorded." in page
    assert len(session.execute(select(MentorConflict)).scalars().all()) == 1
    api = client.post("/api/v1/orgs/bbi/mentor-conflicts", json={
        "mentor_id": mentors.ha.id, "startup_id": world.startup.id, "kind": "advisory", "reason": "Board"},
        headers=_bearer(session, world.manager))
    assert api.status_code == 409 and api.get_json()["code"] == "conflict_exists"
    assert set(api.get_json()) == {"code", "message", "fields"}


def test_managers_and_the_mentor_list_and_remove_conflicts(client, session, world, mentors):
    login(client, world.manager.email)
    _record(client, world, mentors)
    page = client.get("/o/bbi/mentor-conflicts")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "AgriSense" in html and "Holds 5% of AgriSense" in html
    assert f"Recorded by {world.manager.name} on" in html
    assert "AgriSense" in client.get(f"/o/bbi/mentors/{mentors.ha.id}/edit").get_data(as_text=True).split(
        'data-testid="conflicts"')[1]
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/account")})
    conflict = session.execute(select(MentorConflict)).scalar_one()
    # Another mentor neither sees nor removes it; a founder has no such page.
    login(client, mentors.park_user.email)
    assert "Holds 5%" not in client.get("/o/bbi/mentor-conflicts").get_data(as_text=True)
    other = client.post(f"/o/bbi/mentor-conflicts/{conflict.id}/delete",
                        data={"csrf_token": csrf_token(client, "/o/bbi/mentoring")})
    assert other.status_code == 404
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/account")})
    login(client, world.founder.email)
    assert client.get("/o/bbi/mentor-conflicts").status_code == 403
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/account")})
    # The mentor sees their own and removes it.
    login(client, mentors.mentor_user.email)
    assert "Holds 5% of AgriSense" in client.get("/o/bbi/mentor-conflicts").get_data(as_text=True)
    removed = client.post(f"/o/bbi/mentor-conflicts/{conflict.id}/delete",
                          data={"csrf_token": csrf_token(client, "/o/bbi/mentor-conflicts")})
    assert removed.status_code == 302
    assert session.execute(select(MentorConflict)).scalars().all() == []
    assert "No conflicts of interest recorded." in client.get("/o/bbi/mentor-conflicts").get_data(as_text=True)


def test_conflicts_over_the_api(client, session, world, mentors):
    manager, ha, park = (_bearer(session, u) for u in (world.manager, mentors.mentor_user, mentors.park_user))
    created = client.post("/api/v1/orgs/bbi/mentor-conflicts", json={
        "mentor_id": mentors.ha.id, "startup_id": world.startup.id, "kind": "equity", "reason": "Shares"},
        headers=ha)  # the mentor for themselves
    assert created.status_code == 201
    body = created.get_json()
    assert (body["startup_name"], body["recorded_by_id"], body["kind"]) == ("AgriSense", mentors.mentor_user.id,
                                                                            "equity")
    assert client.post("/api/v1/orgs/bbi/mentor-conflicts", json={
        "mentor_id": mentors.ha.id, "startup_id": world.other.id, "kind": "equity", "reason": "x"},
        headers=park).status_code == 404  # not Park's profile
    bad = client.post("/api/v1/orgs/bbi/mentor-conflicts", json={
        "mentor_id": mentors.ha.id, "startup_id": world.other.id, "kind": "rival", "reason": "x"}, headers=manager)
    assert bad.status_code == 422 and "kind" in bad.get_json()["fields"]
    listed = client.get("/api/v1/orgs/bbi/mentor-conflicts", headers=manager).get_json()
    assert [(c["mentor_id"], c["startup_id"], c["recorded_by_name"]) for c in listed] == [
        (mentors.ha.id, world.startup.id, mentors.mentor_user.name)]
    assert client.get("/api/v1/orgs/bbi/mentor-conflicts", headers=park).get_json() == []
    # A founder's role has nothing to do with mentor profiles: 403, as on the page (#13).
    assert client.get("/api/v1/orgs/bbi/mentor-conflicts", headers=_bearer(session, world.founder)).status_code == 403
    url = f"/api/v1/orgs/bbi/mentor-conflicts/{body['id']}"
    assert client.delete(url, headers=park).status_code == 404
    assert client.delete(url, headers=manager).status_code == 204
    assert client.get("/api/v1/orgs/bbi/mentor-conflicts", headers=manager).get_json() == []
    assert client.delete(url, headers=manager).status_code == 404


def test_a_proposal_ended_by_a_conflict_stays_the_managers_business(app, client, session, world, mentors):
    from incubator.mentoring.models import Match

    with app.test_request_context(headers={"Accept-Language": "en"}):
        pairing.run_matching(session, world.org, world.cohort, world.manager, per_startup=1,
                              today=_next_weekday(1, 10).date())
    proposal = session.execute(select(Match).where(Match.startup_id == world.startup.id)).scalar_one()
    login(client, world.manager.email)
    _record(client, world, mentors)
    session.refresh(proposal)
    assert (proposal.status, proposal.history[0]["from"]) == (MatchStatus.ENDED, "proposed")
    page = client.get(f"/o/bbi/cohorts/{world.cohort.id}/matching").get_data(as_text=True)
    assert "ended, a conflict of interest was recorded by" in page
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/account")})
    login(client, world.founder.email)
    assert "This match has ended" not in client.get("/o/bbi/mentoring").get_data(as_text=True)
