from __future__ import annotations

import pytest
from sqlalchemy import select

from incubator.accounts.services import create_api_token
from incubator.cohorts.checkins import add_months
from incubator.cohorts.models import CheckIn, CohortFunder
from tests.cohorts.fixtures import THIS_MONTH, kpis
from tests.factories import checkin


@pytest.fixture()
def token(session):
    def _token(user) -> dict[str, str]:
        value, _record = create_api_token(session, user, "test")
        session.flush()
        return {"Authorization": f"Bearer {value}"}

    return _token


def test_cohorts_for_managers_and_only_funded_ones_for_funders(client, world, session, token):
    body = client.get("/api/v1/orgs/bbi/cohorts", headers=token(world.manager)).get_json()
    assert [c["id"] for c in body] == [world.cohort.id] and body[0]["name"] == world.cohort.name
    assert client.get("/api/v1/orgs/bbi/cohorts", headers=token(world.funder)).get_json() == []
    session.add(CohortFunder(org_id=world.org.id, cohort=world.cohort, user_id=world.funder.id))
    session.flush()
    funder = token(world.funder)
    assert [c["id"] for c in client.get("/api/v1/orgs/bbi/cohorts", headers=funder).get_json()] == [world.cohort.id]
    detail = client.get(f"/api/v1/orgs/bbi/cohorts/{world.cohort.id}", headers=funder)
    assert detail.status_code == 200 and detail.get_json()["funders"] == [world.funder.name]
    startups = client.get(f"/api/v1/orgs/bbi/cohorts/{world.cohort.id}/startups", headers=funder).get_json()
    assert {(s["id"], s["name"], s["status"]) for s in startups} == {
        (world.startup.id, "AgriSense", "active"), (world.other.id, "FactoryEye", "active")}


def test_startups_mine(client, world, token):
    mine = client.get("/api/v1/orgs/bbi/startups?mine=1", headers=token(world.founder)).get_json()
    assert [(s["id"], s["name"]) for s in mine] == [(world.startup.id, "AgriSense")]
    everything = client.get("/api/v1/orgs/bbi/startups", headers=token(world.manager)).get_json()
    assert {s["name"] for s in everything} == {"AgriSense", "FactoryEye"}


def _post(client, world, headers, **body):
    data = {"period": add_months(THIS_MONTH, -1).strftime("%Y-%m"), **kpis(), **body}
    return client.post(f"/api/v1/orgs/bbi/startups/{world.startup.id}/checkins", json=data, headers=headers)


def test_post_checkin_201_then_409_for_the_same_period(client, world, session, token):
    headers = token(world.founder)
    created = _post(client, world, headers, custom={})
    assert created.status_code == 201
    assert created.get_json()["period"] == add_months(THIS_MONTH, -1).strftime("%Y-%m")
    assert created.get_json()["revenue"] == 1500000
    again = _post(client, world, headers)
    assert again.status_code == 409 and again.get_json()["code"] == "period_reported"
    listed = client.get(f"/api/v1/orgs/bbi/startups/{world.startup.id}/checkins", headers=headers).get_json()
    assert [c["period"] for c in listed] == [add_months(THIS_MONTH, -1).strftime("%Y-%m")]


def test_post_checkin_422_names_the_fields(client, world, session, token):
    future = add_months(THIS_MONTH, 2).strftime("%Y-%m")
    response = _post(client, world, token(world.founder), period=future, employees_full_time=-3, customers="x")
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "invalid" and set(body["fields"]) == {"period", "employees_full_time", "customers"}
    missing = client.post(f"/api/v1/orgs/bbi/startups/{world.startup.id}/checkins", json={"period": "2026-01"},
                          headers=token(world.founder))
    assert missing.status_code == 422 and "revenue" in missing.get_json()["fields"]
    assert session.execute(select(CheckIn)).first() is None


def test_checkins_of_a_startup_the_caller_does_not_belong_to_are_404(client, world, token):
    headers = token(world.other_founder)
    assert _post(client, world, headers).status_code == 404
    url = f"/api/v1/orgs/bbi/startups/{world.startup.id}/checkins"
    assert client.get(url, headers=headers).status_code == 404
    assert client.get(url.replace(str(world.startup.id), "999999"), headers=headers).status_code == 404


def test_milestones_get_and_post(client, world, token):
    headers = token(world.founder)
    url = f"/api/v1/orgs/bbi/startups/{world.startup.id}/milestones"
    created = client.post(url, json={"title": "Pilot at Becamex", "due_on": add_months(THIS_MONTH, 2).isoformat()},
                          headers=headers)
    assert created.status_code == 201
    assert created.get_json()["name"] == "Pilot at Becamex" and created.get_json()["status"] == "planned"
    bad = client.post(url, json={"title": "x", "due_on": "2027-01-01", "status": "finished"}, headers=headers)
    assert bad.status_code == 422 and "status" in bad.get_json()["fields"]
    listed = client.get(url, headers=headers).get_json()
    assert [m["title"] for m in listed] == ["Pilot at Becamex"]
    assert client.get(url, headers=token(world.other_founder)).status_code == 404


def test_locked_checkins_show_as_locked(client, world, token):
    from incubator.core.db import utcnow

    checkin(world.startup, add_months(THIS_MONTH, -2), **kpis(), locked_at=utcnow(), verified_at=utcnow())
    listed = client.get(f"/api/v1/orgs/bbi/startups/{world.startup.id}/checkins",
                        headers=token(world.founder)).get_json()
    assert listed[0]["locked"] is True and listed[0]["verified"] is True
