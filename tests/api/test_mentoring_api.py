from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from incubator.accounts.services import create_api_token
from incubator.mentoring.models import Match, MatchStatus
from tests.cohorts.fixtures import TODAY


@pytest.fixture()
def token(session):
    def _token(user) -> dict[str, str]:
        value, _record = create_api_token(session, user, "test")
        session.flush()
        return {"Authorization": f"Bearer {value}"}

    return _token


def test_mentors_list_and_upsert(client, world, mentors, token):
    manager = token(world.manager)
    listed = client.get("/api/v1/orgs/bbi/mentors", headers=manager).get_json()
    assert {(m["id"], m["capacity"]) for m in listed} == {(mentors.ha.id, 1), (mentors.park.id, 2)}
    ha = next(m for m in listed if m["id"] == mentors.ha.id)
    assert ha["tags"] == ["fundraising", "finance"] and ha["languages"] == ["vi"]
    updated = client.post("/api/v1/orgs/bbi/mentors", json={"email": mentors.mentor_user.email, "capacity": 3,
                                                            "tags": ["ip"], "languages": ["vi", "en"]},
                          headers=manager)
    assert updated.status_code == 201 and updated.get_json()["capacity"] == 3
    bad = client.post("/api/v1/orgs/bbi/mentors", json={"email": mentors.mentor_user.email, "capacity": -1},
                      headers=manager)
    assert bad.status_code == 422 and "capacity" in bad.get_json()["fields"]
    assert client.get("/api/v1/orgs/bbi/mentors", headers=token(world.founder)).status_code == 403  # as the page


def test_matching_endpoint_returns_a_proposal_with_reasons(client, world, mentors, token, session):
    response = client.post(f"/api/v1/orgs/bbi/cohorts/{world.cohort.id}/matching",
                           json={"per_startup": 1, "participation_first": True}, headers=token(world.manager))
    assert response.status_code == 200
    body = response.get_json()
    pairs = {(m["startup_id"], m["mentor_id"]) for m in body["matches"]}
    assert pairs == {(world.startup.id, mentors.ha.id), (world.other.id, mentors.park.id)}
    assert all(m["reasons"] and m["score"] > 0 for m in body["matches"])
    assert body["unmatched"] == []
    assert all(m.status == MatchStatus.PROPOSED for m in session.execute(select(Match)).scalars())  # not published
    assert client.post(f"/api/v1/orgs/bbi/cohorts/{world.cohort.id}/matching", json={},
                       headers=token(world.founder)).status_code == 403  # a member without the permission


def test_accept_decline_and_sessions(client, app, world, mentors, token, session):
    client.post(f"/api/v1/orgs/bbi/cohorts/{world.cohort.id}/matching", json={"per_startup": 1},
                headers=token(world.manager))
    match = session.execute(select(Match).where(Match.startup_id == world.startup.id)).scalar_one()
    founder, mentor = token(world.founder), token(mentors.mentor_user)
    assert client.post(f"/api/v1/orgs/bbi/matches/{match.id}/accept", headers=founder).status_code == 404  # proposal
    match.status = MatchStatus.PUBLISHED
    session.flush()
    assert client.post(f"/api/v1/orgs/bbi/matches/{match.id}/accept", headers=founder).get_json()["status"] == \
        "published"
    assert client.post(f"/api/v1/orgs/bbi/matches/{match.id}/accept", headers=mentor).get_json()["status"] == \
        "accepted"
    day = TODAY + timedelta(days=(1 - TODAY.weekday()) % 7 or 7)  # next Tuesday
    starts = datetime.combine(day, time(10), ZoneInfo("Asia/Ho_Chi_Minh")).isoformat()
    created = client.post("/api/v1/orgs/bbi/sessions", json={"match_id": match.id, "starts_at": starts,
                                                              "duration_minutes": 60}, headers=founder)
    assert created.status_code == 201
    clash = client.post("/api/v1/orgs/bbi/sessions", json={"match_id": match.id, "starts_at": starts,
                                                            "duration_minutes": 30}, headers=mentor)
    assert clash.status_code == 409 and clash.get_json()["code"] == "session_overlap"
    naive = client.post("/api/v1/orgs/bbi/sessions", json={"match_id": match.id, "starts_at": "2027-01-05T10:00:00",
                                                            "duration_minutes": 30}, headers=mentor)
    assert naive.status_code == 422 and "starts_at" in naive.get_json()["fields"]
    listed = client.get("/api/v1/orgs/bbi/sessions", headers=founder).get_json()
    assert [s["id"] for s in listed] == [created.get_json()["id"]]
    assert client.get("/api/v1/orgs/bbi/sessions", headers=token(world.other_founder)).get_json() == []
    declined = client.post(f"/api/v1/orgs/bbi/matches/{match.id}/decline", headers=founder).get_json()
    assert declined["status"] == "declined"


def test_a_partial_profile_upsert_leaves_the_other_fields_alone(client, session, world, mentors, token):
    manager = token(world.manager)
    mentors.ha.headline, mentors.ha.hours_per_month = "Fund manager, Mekong Capital", 9
    session.flush()
    updated = client.post("/api/v1/orgs/bbi/mentors", json={"email": mentors.mentor_user.email, "capacity": 3},
                          headers=manager)
    assert updated.status_code == 201
    body = updated.get_json()
    assert (body["capacity"], body["headline"], body["hours_per_month"]) == (3, "Fund manager, Mekong Capital", 9)
    assert (body["tags"], body["languages"], body["industries"]) == (["fundraising", "finance"], ["vi"], ["agritech"])
    session.refresh(mentors.ha)
    assert (mentors.ha.headline, mentors.ha.hours_per_month, mentors.ha.capacity) == (
        "Fund manager, Mekong Capital", 9, 3)


def test_patch_changes_only_the_fields_sent(client, session, world, mentors, token):
    mentors.ha.headline = "Fund manager"
    session.flush()
    url = f"/api/v1/orgs/bbi/mentors/{mentors.ha.id}"
    patched = client.patch(url, json={"hours_per_month": 12}, headers=token(mentors.mentor_user))  # the mentor
    assert patched.status_code == 200
    assert (patched.get_json()["hours_per_month"], patched.get_json()["headline"],
            patched.get_json()["capacity"]) == (12, "Fund manager", 1)
    bad = client.patch(url, json={"languages": []}, headers=token(world.manager))
    assert bad.status_code == 422 and bad.get_json()["code"] and "languages" in bad.get_json()["fields"]
    assert client.patch(url, json={"capacity": 2}, headers=token(mentors.park_user)).status_code == 404
    assert client.patch(url, json={"capacity": 2}, headers=token(world.founder)).status_code == 403  # no mentoring role


def test_a_new_profile_from_a_partial_upsert_takes_the_defaults(client, session, world, token):
    from incubator.core.permissions import Role
    from tests.factories import member

    newcomer = member(world.org, Role.MENTOR, name="Newcomer")
    session.flush()
    created = client.post("/api/v1/orgs/bbi/mentors", json={"email": newcomer.email, "headline": "New"},
                          headers=token(world.manager))
    assert created.status_code == 201
    body = created.get_json()
    assert (body["headline"], body["capacity"], body["hours_per_month"], body["languages"]) == ("New", 2, 4, ["vi"])


def test_the_openapi_document_describes_the_profile_patch(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    path = next(p for p in spec["paths"] if p.endswith("/mentors/{mentor_profile_id}"))
    assert "patch" in spec["paths"][path]
    assert "partial" in spec["paths"][next(p for p in spec["paths"] if p.endswith("/mentors"))]["post"]["description"]
