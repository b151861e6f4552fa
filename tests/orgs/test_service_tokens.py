"""Service tokens (#13): made by an organisation's managers, acting with a role in that organisation only,
never signing in on the web nor receiving mail, listed and revoked on the page and over the API."""

from __future__ import annotations

import re

from sqlalchemy import select

from incubator.accounts.models import ApiToken, User
from incubator.core import mail
from incubator.core.db import utcnow
from incubator.core.permissions import Role
from incubator.orgs import services
from incubator.orgs.models import Membership
from tests.conftest import csrf_token, login
from tests.doors import assert_same_door
from tests.factories import OrgFactory, member


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _api_token(session, user, scopes=("read", "write")) -> str:
    from incubator.accounts.services import create_api_token

    return create_api_token(session, user, "t", scopes=scopes)[0]


def _service(session, org, role=Role.STAFF, scopes=("read", "write")):
    manager = member(org, Role.MANAGER)
    actor = session.execute(select(Membership).where(Membership.user_id == manager.id)).scalar_one()
    return services.create_service_token(session, org, actor, name="sync", role=role, scopes=scopes, expires_at=None)


def test_a_manager_makes_one_on_the_page_and_it_is_shown_once(client, session):
    org = OrgFactory()
    manager = member(org, Role.MANAGER)
    login(client, manager.email)
    url = f"/o/{org.slug}/service-tokens"
    response = client.post(url, data={"name": "accounting export", "role": "staff", "scopes": ["payments:read"],
                                      "expires_in": "365", "csrf_token": csrf_token(client, url)})
    assert response.status_code == 200
    token = re.search(r'data-testid="new-token">([^<]+)<', response.get_data(as_text=True)).group(1)
    record = session.execute(select(ApiToken).where(ApiToken.name == "accounting export")).scalar_one()
    assert record.user.is_service and record.created_by_id == manager.id and record.scopes == "payments:read"
    assert record.expires_at is not None and (record.expires_at - utcnow()).days in (364, 365)
    membership = session.execute(select(Membership).where(Membership.user_id == record.user_id)).scalar_one()
    assert (membership.org_id, membership.role) == (org.id, Role.STAFF)
    listing = client.get(url).get_data(as_text=True)
    assert "accounting export" in listing and token not in listing and record.prefix in listing
    assert client.get(f"/api/v1/orgs/{org.slug}/payments", headers=_bearer(token)).status_code == 200


def test_owner_is_not_a_role_a_service_token_can_take(client, session):
    org = OrgFactory()
    owner = member(org, Role.OWNER)
    login(client, owner.email)
    url = f"/o/{org.slug}/service-tokens"
    page = client.post(url, data={"name": "x", "role": "owner", "scopes": ["read"], "expires_in": "30",
                                  "csrf_token": csrf_token(client, url)})
    assert page.status_code == 422
    api = client.post(f"/api/v1/orgs/{org.slug}/service-tokens", json={"name": "x", "role": "owner"},
                      headers=_bearer(_api_token(session, owner)))
    assert api.status_code == 422 and "role" in api.get_json()["fields"]
    assert session.execute(select(User).where(User.is_service.is_(True), User.name == "x")).first() is None


def test_it_reaches_its_own_organisation_only_and_no_personal_routes(client, session):
    org, other = OrgFactory(), OrgFactory()
    member(other, Role.OWNER)
    token, record = _service(session, org, Role.MANAGER)
    assert client.get(f"/api/v1/orgs/{org.slug}", headers=_bearer(token)).get_json()["role"] == "manager"
    assert client.get(f"/api/v1/orgs/{org.slug}/members", headers=_bearer(token)).status_code == 200
    assert client.get(f"/api/v1/orgs/{other.slug}", headers=_bearer(token)).status_code == 404
    assert client.get(f"/api/v1/orgs/{other.slug}/calls", headers=_bearer(token)).status_code == 404  # signed-in route
    assert client.get("/api/v1/me", headers=_bearer(token)).status_code == 404
    # nor may it make more service tokens (it would outlive its own revocation)
    more = client.post(f"/api/v1/orgs/{org.slug}/service-tokens", json={"name": "y", "role": "staff"},
                       headers=_bearer(token))
    assert more.status_code == 403


def test_its_role_decides_as_for_a_member(client, session):
    org = OrgFactory()
    token, _record = _service(session, org, Role.FUNDER)
    refused = client.get(f"/api/v1/orgs/{org.slug}/members", headers=_bearer(token))
    assert refused.status_code == 403


def test_it_cannot_sign_in_on_the_web_nor_receive_mail(client, session):
    org = OrgFactory()
    _token, record = _service(session, org)
    principal = record.user
    assert principal.email.endswith("@service.invalid")
    response = login(client, principal.email, "!")
    assert response.status_code == 200  # the form again, not a redirect into the app
    assert client.get("/account").status_code == 302
    mail.outbox.clear()
    client.post("/auth/forgot", data={"email": principal.email, "csrf_token": csrf_token(client, "/auth/forgot")})
    assert mail.outbox == []
    with client.application.app_context():
        mail.send_mail(session, principal.email, "hello", "body")
        assert mail.pending(session) == []  # nothing queued for it
        mail.send_mail(session, "person@example.org", "hello", "body")
        assert [m.to for m in mail.pending(session)] == [["person@example.org"]]
    # a session cookie naming the principal is refused by the user loader
    from incubator.accounts.views import load_user

    with client.application.test_request_context():
        assert load_user(principal.get_id()) is None


def test_revoking_on_the_page_stops_the_token(client, session):
    org = OrgFactory()
    token, record = _service(session, org)
    manager = record.created_by
    login(client, manager.email)
    url = f"/o/{org.slug}/service-tokens"
    assert client.get(f"/api/v1/orgs/{org.slug}", headers=_bearer(token)).status_code == 200
    client.post(f"{url}/{record.id}/revoke", data={"csrf_token": csrf_token(client, url)})
    assert client.get(f"/api/v1/orgs/{org.slug}", headers=_bearer(token)).status_code == 401
    assert "Revoked" in client.get(url).get_data(as_text=True)


def test_the_api_lists_makes_and_revokes_them(client, session):
    org = OrgFactory()
    manager = member(org, Role.MANAGER)
    headers = _bearer(_api_token(session, manager))
    base = f"/api/v1/orgs/{org.slug}/service-tokens"
    made = client.post(base, json={"name": "crm", "role": "staff", "scopes": ["cohorts:read"], "expires_in_days": 90},
                       headers=headers)
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert made.headers["Location"].endswith(f"{base}/{body['id']}")
    assert body["token"].startswith("inc_") and body["role"] == "staff" and body["scopes"] == ["cohorts:read"]
    listed = client.get(base, headers=headers)
    assert [t["name"] for t in listed.get_json()] == ["crm"] and "token" not in listed.get_json()[0]
    assert '"total": 1' in listed.headers["X-Pagination"]
    assert client.get(f"/api/v1/orgs/{org.slug}/cohorts", headers=_bearer(body["token"])).status_code == 200
    # not a member among the people
    members = client.get(f"/api/v1/orgs/{org.slug}/members", headers=headers).get_json()
    assert [m["name"] for m in members] == [manager.name]
    assert client.delete(f"{base}/{body['id']}", headers=headers).status_code == 204
    assert client.get(f"/api/v1/orgs/{org.slug}/cohorts", headers=_bearer(body["token"])).status_code == 401
    bad = client.post(base, json={"name": "x", "role": "staff", "scopes": ["root"], "expires_in_days": 7},
                      headers=headers)
    assert bad.status_code == 422 and {"scopes", "expires_in_days"} <= set(bad.get_json()["fields"])


def test_another_organisations_service_token_is_404_on_both_doors(client, session):
    org, other = OrgFactory(), OrgFactory()
    _token, record = _service(session, other)
    manager = member(org, Role.MANAGER)
    headers = _bearer(_api_token(session, manager))
    login(client, manager.email)
    page = client.post(f"/o/{org.slug}/service-tokens/{record.id}/revoke",
                       data={"csrf_token": csrf_token(client, f"/o/{org.slug}/service-tokens")})
    api = client.delete(f"/api/v1/orgs/{org.slug}/service-tokens/{record.id}", headers=headers)
    assert assert_same_door(page, api, "revoke another's") == "hidden"
    session.refresh(record)
    assert record.revoked_at is None


def test_same_door_for_every_role(client, session):
    org = OrgFactory()
    for role in Role:
        user = member(org, role)
        headers = _bearer(_api_token(session, user))
        login(client, user.email)
        page = client.get(f"/o/{org.slug}/service-tokens")
        api = client.get(f"/api/v1/orgs/{org.slug}/service-tokens", headers=headers)
        expected = "allowed" if role in (Role.OWNER, Role.MANAGER) else "forbidden"
        assert assert_same_door(page, api, role) == expected
        client.post("/auth/logout", data={"csrf_token": csrf_token(client, f"/o/{org.slug}/")})
    outsider = member(OrgFactory(), Role.OWNER)
    login(client, outsider.email)
    page = client.get(f"/o/{org.slug}/service-tokens")
    api = client.get(f"/api/v1/orgs/{org.slug}/service-tokens", headers=_bearer(_api_token(session, outsider)))
    assert assert_same_door(page, api, "outsider") == "hidden"
