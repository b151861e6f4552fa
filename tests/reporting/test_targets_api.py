"""Report targets over the API (#13): the /o/<org>/reports/targets page's rules, GET and PUT."""

from __future__ import annotations

from incubator.accounts.services import create_api_token
from incubator.core.permissions import Role
from incubator.reporting.services import targets_for
from tests.conftest import csrf_token, login
from tests.doors import assert_same_door
from tests.factories import OrgFactory, member


def _headers(session, user) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_api_token(session, user, 't')[0]}"}


def test_put_replaces_the_years_targets_and_get_reads_them(client, session):
    org = OrgFactory(currency="VND")
    manager = member(org, Role.MANAGER)
    headers = _headers(session, manager)
    url = f"/api/v1/orgs/{org.slug}/reports/targets"
    put = client.put(url, json={"year": 2026, "targets": {"startups": 12, "revenue": 2_000_000_000}}, headers=headers)
    assert put.status_code == 200, put.get_json()
    assert put.get_json() == {"year": 2026, "currency": "VND", "targets": {"startups": 12, "revenue": 2e9}}
    assert targets_for(session, org, 2026) == {"startups": 12, "revenue": 2_000_000_000}
    # a metric left out is removed, as an emptied field on the page
    client.put(url, json={"year": 2026, "targets": {"ip_filings": 3, "startups": None}}, headers=headers)
    assert client.get(f"{url}?year=2026", headers=headers).get_json()["targets"] == {"ip_filings": 3}
    assert client.get(f"{url}?year=2027", headers=headers).get_json()["targets"] == {}


def test_money_uses_the_currencys_minor_units(client, session):
    org = OrgFactory(currency="USD")
    manager = member(org, Role.MANAGER)
    url = f"/api/v1/orgs/{org.slug}/reports/targets"
    ok = client.put(url, json={"year": 2026, "targets": {"revenue": 1500.25}}, headers=_headers(session, manager))
    assert ok.status_code == 200 and ok.get_json()["targets"] == {"revenue": 1500.25}
    assert targets_for(session, org, 2026) == {"revenue": 150025}


def test_bad_targets_are_422_and_change_nothing(client, session):
    org = OrgFactory(currency="VND")
    manager = member(org, Role.MANAGER)
    headers = _headers(session, manager)
    url = f"/api/v1/orgs/{org.slug}/reports/targets"
    client.put(url, json={"year": 2026, "targets": {"startups": 5}}, headers=headers)
    for body in ({"year": 2026, "targets": {"startups": -1}}, {"year": 1999, "targets": {}},
                 {"year": 2026, "targets": {"unicorns": 1}}, {"year": 2026, "targets": {"startups": 2.5}},
                 {"year": 2026, "targets": {"revenue": 10.5}}, {"year": 2026, "targets": {"startups": "many"}},
                 {"targets": {}}):
        answer = client.put(url, json=body, headers=headers)
        assert answer.status_code == 422, body
        assert answer.get_json()["fields"], body
    assert targets_for(session, org, 2026) == {"startups": 5}


def test_same_door_for_every_role(client, session):
    org = OrgFactory()
    for role in Role:
        user = member(org, role)
        login(client, user.email)
        page = client.get(f"/o/{org.slug}/reports/targets")
        api = client.get(f"/api/v1/orgs/{org.slug}/reports/targets", headers=_headers(session, user))
        expected = "allowed" if role in (Role.OWNER, Role.MANAGER) else "forbidden"
        assert assert_same_door(page, api, role) == expected
        put = client.put(f"/api/v1/orgs/{org.slug}/reports/targets", json={"year": 2026, "targets": {}},
                         headers=_headers(session, user))
        assert assert_same_door(page, put, role) == expected
        client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/account")})
