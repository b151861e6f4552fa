"""The mentoring operations added for #13: each one's happy path, a role that must not (403), a row
out of sight (404), bad input (422 with `fields`) and, where there is one, a conflict (409)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from incubator.accounts.services import create_api_token
from incubator.core.db import utcnow
from incubator.core.permissions import Role
from incubator.mentoring.models import (
    ActionItem,
    Match,
    MatchStatus,
    MentoringNeeds,
    MentorProfile,
    MentorSession,
    SessionStatus,
)
from tests.conftest import csrf_token
from tests.factories import OrgFactory, member
from tests.mentoring.fixtures import next_weekday

API = "/api/v1/orgs/bbi"


@pytest.fixture()
def token(session):
    def _token(user) -> dict[str, str]:
        value, _record = create_api_token(session, user, "test")
        session.flush()
        return {"Authorization": f"Bearer {value}"}

    return _token


def _proposal(session, world, mentors) -> Match:
    match = Match(org_id=world.org.id, cohort_id=world.cohort.id, startup_id=world.startup.id,
                  mentor_id=mentors.ha.id, status=MatchStatus.PROPOSED, reasons=[])
    session.add(match)
    session.flush()
    return match


# -- mentor profiles ----------------------------------------------------------------------------------

def test_get_mentor_by_id(client, world, mentors, token):
    got = client.get(f"{API}/mentors/{mentors.ha.id}", headers=token(mentors.mentor_user))
    assert got.status_code == 200 and got.headers["ETag"]
    assert (got.get_json()["name"], got.get_json()["tags"]) == ("Hà", ["fundraising", "finance"])
    assert client.get(f"{API}/mentors/{mentors.ha.id}", headers=token(world.manager)).status_code == 200
    assert client.get(f"{API}/mentors/{mentors.ha.id}", headers=token(mentors.park_user)).status_code == 404
    assert client.get(f"{API}/mentors/{mentors.ha.id}", headers=token(world.founder)).status_code == 403
    assert client.get(f"{API}/mentors/999999", headers=token(world.manager)).status_code == 404


def test_another_orgs_mentor_is_not_found(client, session, world, mentors, token):
    other = OrgFactory(slug="tdmu")
    theirs = MentorProfile(org_id=other.id, user=member(other, Role.MENTOR), languages=["vi"])
    session.add(theirs)
    session.flush()
    manager = token(world.manager)
    assert client.get(f"{API}/mentors/{theirs.id}", headers=manager).status_code == 404
    assert client.patch(f"{API}/mentors/{theirs.id}", json={"capacity": 1}, headers=manager).status_code == 404


def test_creating_a_profile_answers_its_location(client, session, world, token):
    newcomer = member(world.org, Role.MENTOR, name="Newcomer")
    session.flush()
    created = client.post(f"{API}/mentors", json={"email": newcomer.email}, headers=token(newcomer))
    assert created.status_code == 201
    assert created.headers["Location"].endswith(f"/mentors/{created.get_json()['id']}")
    assert client.get(created.headers["Location"], headers=token(newcomer)).status_code == 200
    bad = client.post(f"{API}/mentors", json={"email": "nobody@example.org"}, headers=token(world.manager))
    assert bad.status_code == 422 and "email" in bad.get_json()["fields"]


def test_two_edits_of_one_profile_version_the_second_is_stale(client, session, world, mentors, token):
    url = f"{API}/mentors/{mentors.ha.id}"
    etag = client.get(url, headers=token(world.manager)).headers["ETag"]
    first = client.patch(url, json={"capacity": 3}, headers={**token(world.manager), "If-Match": etag})
    assert first.status_code == 200 and first.headers["ETag"] != etag
    second = client.patch(url, json={"hours_per_month": 9},
                          headers={**token(mentors.mentor_user), "If-Match": etag})
    assert second.status_code == 412 and second.get_json()["code"] == "stale"
    session.refresh(mentors.ha)
    assert (mentors.ha.capacity, mentors.ha.hours_per_month) == (3, 4)  # the first edit is kept, nothing of the second
    fresh = client.patch(url, json={"hours_per_month": 9},
                         headers={**token(mentors.mentor_user), "If-Match": first.headers["ETag"]})
    assert fresh.status_code == 200 and fresh.get_json()["hours_per_month"] == 9


def test_two_page_edits_of_one_profile_version_the_second_is_refused(client, session, sign_in, world, mentors):
    sign_in(world.manager)
    url = f"/o/bbi/mentors/{mentors.ha.id}/edit"
    version = str(mentors.ha.version)
    form = {"capacity": "3", "hours_per_month": "4", "timezone": "Asia/Ho_Chi_Minh", "languages": ["vi"],
            "affiliation": "business", "version": version, "csrf_token": csrf_token(client, url)}
    assert 'name="version"' in client.get(url).get_data(as_text=True)
    assert client.post(url, data=form).status_code == 302
    stale = client.post(url, data={**form, "capacity": "5"})
    assert stale.status_code == 422 and 'data-field="version"' in stale.get_data(as_text=True)
    session.refresh(mentors.ha)
    assert mentors.ha.capacity == 3


# -- needs ----------------------------------------------------------------------------------------------

def test_startup_needs_get_and_put(client, session, world, mentors, token):
    url = f"{API}/startups/{world.startup.id}/needs"
    founder = token(world.founder)
    got = client.get(url, headers=founder).get_json()
    assert (got["needs"], got["industry"], got["languages"]) == (["fundraising"], "agritech", ["vi"])
    put = client.put(url, json={"needs": ["ip", "legal"], "industry": "healthtech", "languages": ["en"]},
                     headers=founder)
    assert put.status_code == 200 and put.get_json()["needs"] == ["ip", "legal"]
    stored = session.execute(select(MentoringNeeds).where(MentoringNeeds.startup_id == world.startup.id)).scalar_one()
    assert (stored.industry, stored.languages) == ("healthtech", ["en"])
    bad = client.put(url, json={"needs": ["astrology"], "industry": "space", "languages": []}, headers=founder)
    assert bad.status_code == 422 and {"needs", "industry", "languages"} <= set(bad.get_json()["fields"])
    assert client.put(url, json={"needs": [], "industry": "other", "languages": ["vi"]},
                      headers=token(world.other_founder)).status_code == 404  # another startup's founder
    assert client.get(url, headers=token(mentors.mentor_user)).status_code == 404
    assert client.get(url, headers=token(world.manager)).status_code == 200


# -- matching -------------------------------------------------------------------------------------------

def test_the_cohort_matching_as_a_resource(client, session, world, mentors, token):
    manager = token(world.manager)
    url = f"{API}/cohorts/{world.cohort.id}/matching"
    empty = client.get(url, headers=manager).get_json()
    assert empty == {"run": None, "matches": []}
    client.post(url, json={"per_startup": 1}, headers=manager)
    body = client.get(url, headers=manager).get_json()
    assert body["run"]["per_startup"] == 1 and body["run"]["published_at"] is None
    assert {(m["startup_name"], m["mentor_name"], m["status"]) for m in body["matches"]} == {
        ("AgriSense", "Hà", "proposed"), ("FactoryEye", "Park", "proposed")}
    assert client.get(url, headers=token(world.founder)).status_code == 403
    assert client.get(f"{API}/cohorts/999999/matching", headers=manager).status_code == 404
    bad = client.post(url, json={"per_startup": 9}, headers=manager)
    assert bad.status_code == 422 and "per_startup" in bad.get_json()["fields"]

    published = client.post(f"{url}/publish", headers=manager)
    assert published.status_code == 200 and published.get_json() == {"published": 2}
    assert client.get(url, headers=manager).get_json()["run"]["published_at"] is not None
    assert client.post(f"{url}/publish", headers=token(mentors.mentor_user)).status_code == 403


def test_lock_unlock_and_replace_a_proposal(client, session, world, mentors, token):
    manager = token(world.manager)
    match = _proposal(session, world, mentors)
    locked = client.post(f"{API}/matches/{match.id}/lock", headers=manager)
    assert locked.status_code == 200 and locked.get_json()["status"] == "locked"
    assert client.post(f"{API}/matches/{match.id}/unlock", headers=manager).get_json()["status"] == "proposed"
    replaced = client.put(f"{API}/matches/{match.id}/mentor", json={"mentor_id": mentors.park.id}, headers=manager)
    assert replaced.status_code == 200
    assert (replaced.get_json()["mentor_id"], replaced.get_json()["status"]) == (mentors.park.id, "locked")
    unknown = client.put(f"{API}/matches/{match.id}/mentor", json={"mentor_id": 999999}, headers=manager)
    assert unknown.status_code == 422 and "mentor_id" in unknown.get_json()["fields"]
    assert client.put(f"{API}/matches/{match.id}/mentor", json={}, headers=manager).status_code == 422
    assert client.post(f"{API}/matches/{match.id}/lock", headers=token(mentors.mentor_user)).status_code == 403
    assert client.post(f"{API}/matches/999999/lock", headers=manager).status_code == 404
    match.status = MatchStatus.PUBLISHED
    session.flush()
    refused = client.post(f"{API}/matches/{match.id}/lock", headers=manager)
    assert refused.status_code == 422 and refused.get_json()["code"] == "not_a_proposal"


def test_matches_the_caller_may_see(client, session, world, mentors, published, token):
    proposal = _proposal(session, world, mentors)
    ended_early = Match(org_id=world.org.id, cohort_id=world.cohort.id, startup_id=world.startup.id,
                        mentor_id=mentors.park.id, status=MatchStatus.ENDED, reasons=[],
                        history=[{"event": "conflict_of_interest", "from": "proposed"}])
    session.add(ended_early)
    session.flush()
    ids = {m["id"] for m in client.get(f"{API}/matches", headers=token(world.manager)).get_json()}
    assert ids == {published[world.startup.id].id, published[world.other.id].id, proposal.id, ended_early.id}
    founder = token(world.founder)
    mine = client.get(f"{API}/matches", headers=founder).get_json()
    assert [m["id"] for m in mine] == [published[world.startup.id].id]  # never a proposal, even one that ended
    assert client.get(f"{API}/matches/{proposal.id}", headers=founder).status_code == 404
    assert client.get(f"{API}/matches/{ended_early.id}", headers=founder).status_code == 404
    assert client.get(f"{API}/matches/{published[world.other.id].id}", headers=founder).status_code == 404
    own = client.get(f"{API}/matches/{published[world.startup.id].id}", headers=founder)
    assert own.status_code == 200 and own.get_json()["mentor_name"] == "Hà"
    assert client.get(f"{API}/matches", headers=token(world.funder)).get_json() == []
    by_status = client.get(f"{API}/matches?status=proposed", headers=token(world.manager)).get_json()
    assert [m["id"] for m in by_status] == [proposal.id]
    assert client.get(f"{API}/matches?status=maybe", headers=founder).status_code == 422
    assert client.get(f"{API}/matches?cohort_id=999999", headers=token(world.manager)).get_json() == []


# -- sessions and action items ----------------------------------------------------------------------------

def test_a_sessions_page_data_and_its_location(client, session, world, mentors, published, token):
    match = published[world.startup.id]
    created = client.post(f"{API}/sessions", json={"match_id": match.id, "starts_at": next_weekday(1, 10).isoformat(),
                                                   "topics": "Term sheet"}, headers=token(world.founder))
    assert created.status_code == 201 and created.headers["Location"].endswith(f"/sessions/{created.get_json()['id']}")
    detail = client.get(created.headers["Location"], headers=token(world.founder)).get_json()
    assert (detail["topics"], detail["mentor_name"], detail["startup_name"]) == ("Term sheet", "Hà", "AgriSense")
    assert (detail["can_change"], detail["can_log"], detail["can_rate"]) == (True, False, False)
    assert detail["local_starts_at"].startswith(next_weekday(1, 10).strftime("%Y-%m-%dT10:00"))
    as_mentor = client.get(created.headers["Location"], headers=token(mentors.mentor_user)).get_json()
    assert as_mentor["can_log"] is True
    assert client.get(created.headers["Location"], headers=token(world.other_founder)).status_code == 404


def test_sessions_filtered_by_days_status_and_match(client, session, world, mentors, published, token):
    ha_match, park_match = published[world.startup.id], published[world.other.id]
    now = utcnow()
    rows = [MentorSession(org_id=world.org.id, match=ha_match, mentor_id=mentors.ha.id,
                          starts_at=now - timedelta(days=30), status=SessionStatus.HELD),
            MentorSession(org_id=world.org.id, match=ha_match, mentor_id=mentors.ha.id,
                          starts_at=now + timedelta(days=10)),
            MentorSession(org_id=world.org.id, match=park_match, mentor_id=mentors.park.id,
                          starts_at=now + timedelta(days=11), status=SessionStatus.CANCELLED)]
    session.add_all(rows)
    session.flush()
    manager = token(world.manager)

    def ids(query: str) -> list[int]:
        answer = client.get(f"{API}/sessions{query}", headers=manager)
        assert answer.status_code == 200, answer.get_json()
        return [s["id"] for s in answer.get_json()]

    assert ids("") == [r.id for r in rows]
    today = (now + timedelta(hours=7)).date()  # the organisation's day (Asia/Ho_Chi_Minh)
    assert ids(f"?from={today.isoformat()}") == [rows[1].id, rows[2].id]
    assert ids(f"?to={(today - timedelta(days=1)).isoformat()}") == [rows[0].id]
    assert ids("?status=cancelled") == [rows[2].id]
    assert ids(f"?match_id={ha_match.id}") == [rows[0].id, rows[1].id]
    bad = client.get(f"{API}/sessions?from=yesterday&status=late", headers=manager)
    assert bad.status_code == 422 and {"from", "status"} <= set(bad.get_json()["fields"])
    founder = [s["id"] for s in client.get(f"{API}/sessions", headers=token(world.other_founder)).get_json()]
    assert founder == [rows[2].id]  # FactoryEye's only


def test_action_items_listed_and_marked_done(client, session, world, mentors, published, token):
    match = published[world.startup.id]
    held = MentorSession(org_id=world.org.id, match=match, mentor_id=mentors.ha.id,
                         starts_at=utcnow() - timedelta(days=3), status=SessionStatus.HELD)
    session.add(held)
    session.flush()
    items = [ActionItem(org_id=world.org.id, session_id=held.id, match_id=match.id, title=t, owner=o)
             for t, o in (("Deck", "startup"), ("Intro to a fund", "mentor"))]
    session.add_all(items)
    session.flush()
    founder = token(world.founder)
    listed = client.get(f"{API}/action-items", headers=founder).get_json()
    assert [(i["title"], i["done"]) for i in listed] == [("Deck", False), ("Intro to a fund", False)]
    done = client.patch(f"{API}/action-items/{items[0].id}", json={"done": True}, headers=founder)
    assert done.status_code == 200 and done.get_json()["done"] is True and done.get_json()["done_at"]
    open_items = client.get(f"{API}/action-items?done=false", headers=founder).get_json()
    assert [i["title"] for i in open_items] == ["Intro to a fund"]
    assert [i["title"] for i in client.get(f"{API}/action-items?owner=mentor", headers=founder).get_json()] == [
        "Intro to a fund"]
    assert client.patch(f"{API}/action-items/{items[0].id}", json={"done": "soon"},
                        headers=founder).status_code == 422
    assert client.patch(f"{API}/action-items/{items[0].id}", json={"done": False},
                        headers=token(world.other_founder)).status_code == 404
    assert client.get(f"{API}/action-items", headers=token(world.other_founder)).get_json() == []
    reopened = client.patch(f"{API}/action-items/{items[0].id}", json={"done": False}, headers=token(world.manager))
    assert reopened.get_json()["done"] is False


def test_publishing_through_the_api_tells_mentors_and_founders(client, session, world, mentors, token):
    from incubator.core import mail

    manager = token(world.manager)
    client.post(f"{API}/cohorts/{world.cohort.id}/matching", json={"per_startup": 1}, headers=manager)
    mail.outbox.clear()
    assert client.post(f"{API}/cohorts/{world.cohort.id}/matching/publish", headers=manager).status_code == 200
    assert {mentors.mentor_user.email, mentors.park_user.email, world.founder.email,
            world.other_founder.email} <= {m.to[0] for m in mail.outbox}  # the same mail as from the page
