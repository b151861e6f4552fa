"""Personal API tokens with scopes and an expiry: the page, and what the API lets each token do (#13)."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from incubator.accounts.models import ApiToken
from incubator.accounts.services import create_api_token, required_scopes
from incubator.core.db import utcnow
from incubator.core.permissions import Role
from tests.conftest import csrf_token, login
from tests.factories import OrgFactory, UserFactory, member


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_page_makes_a_token_with_the_chosen_scopes_and_expiry(client, session):
    user = UserFactory()
    login(client, user.email)
    before = utcnow()
    response = client.post("/account/tokens", data={
        "name": "cohort sync", "scopes": ["cohorts:read", "booking:write"], "expires_in": "30",
        "csrf_token": csrf_token(client, "/account/tokens")})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert re.search(r'data-testid="new-token">inc_', html)
    record = session.execute(select(ApiToken).where(ApiToken.user_id == user.id)).scalar_one()
    assert record.scopes == "cohorts:read booking:write"
    assert before + timedelta(days=30) <= record.expires_at <= utcnow() + timedelta(days=30)
    listing = client.get("/account/tokens").get_data(as_text=True)
    assert all(f'<code class="me-1">{scope}</code>' in listing for scope in ("cohorts:read", "booking:write"))


def test_no_scope_or_a_made_up_expiry_is_a_form_error_and_makes_nothing(client, session):
    user = UserFactory()
    login(client, user.email)
    for data in ({"name": "x", "expires_in": "90"}, {"name": "x", "scopes": ["read"], "expires_in": "7"},
                 {"name": "x", "scopes": ["root"], "expires_in": "90"}):
        response = client.post("/account/tokens", data={**data, "csrf_token": csrf_token(client, "/account/tokens")})
        assert response.status_code == 422, data
        assert 'class="invalid-feedback' in response.get_data(as_text=True)
    assert session.execute(select(ApiToken).where(ApiToken.user_id == user.id)).first() is None


def test_the_page_offers_30_90_365_days_or_never(client, session):
    login(client, UserFactory().email)
    html = client.get("/account/tokens").get_data(as_text=True)
    assert all(f'value="{v}"' in html for v in ("30", "90", "365", "never"))


def test_a_read_scope_reads_but_does_not_write(client, session):
    org = OrgFactory()
    user = member(org, Role.MANAGER)
    token, _record = create_api_token(session, user, "ro", scopes=["read"])
    assert client.get(f"/api/v1/orgs/{org.slug}/cohorts", headers=_bearer(token)).status_code == 200
    refused = client.post(f"/api/v1/orgs/{org.slug}/startups/1/checkins", json={}, headers=_bearer(token))
    assert refused.status_code == 403
    body = refused.get_json()
    assert body["code"] == "insufficient_scope" and "cohorts:write" in body["fields"]["scope"]


def test_a_domain_scope_reaches_its_domain_only(client, session):
    org = OrgFactory()
    user = member(org, Role.MANAGER)
    token, _record = create_api_token(session, user, "cohorts", scopes=["cohorts:write"])
    assert client.get(f"/api/v1/orgs/{org.slug}/cohorts", headers=_bearer(token)).status_code == 200  # write => read
    other = client.get(f"/api/v1/orgs/{org.slug}/payments", headers=_bearer(token))
    assert other.status_code == 403 and other.get_json()["code"] == "insufficient_scope"
    assert "payments:read" in other.get_json()["message"]
    me = client.get("/api/v1/me", headers=_bearer(token))  # outside the scoped domains: read or write
    assert me.status_code == 403 and me.get_json()["fields"]["scope"] == "read or write"


def test_a_domain_scope_reaches_every_module_of_its_domain(client, session):
    """Mentoring's API lives in three blueprints (profiles, matching, sessions): mentoring:read opens all three."""
    org = OrgFactory()
    user = member(org, Role.MANAGER)
    token, _record = create_api_token(session, user, "mentoring", scopes=["mentoring:read"])
    for path in ("/mentors", "/matches", "/sessions"):
        assert client.get(f"/api/v1/orgs/{org.slug}{path}", headers=_bearer(token)).status_code == 200, path
    cohorts = client.get(f"/api/v1/orgs/{org.slug}/cohorts", headers=_bearer(token))
    assert cohorts.status_code == 403 and cohorts.get_json()["code"] == "insufficient_scope"


def test_an_expired_token_is_401_token_expired(client, session):
    user = UserFactory()
    token, record = create_api_token(session, user, "old", expires_at=utcnow() + timedelta(days=1))
    assert client.get("/api/v1/me", headers=_bearer(token)).status_code == 200
    record.expires_at = utcnow() - timedelta(seconds=1)
    session.flush()
    response = client.get("/api/v1/me", headers=_bearer(token))
    assert response.status_code == 401 and response.get_json()["code"] == "token_expired"


def test_tokens_made_before_scopes_keep_working(client, session):
    """The migration gives existing rows ``read write`` and no expiry: the column defaults say the same."""
    user = UserFactory()
    token, record = create_api_token(session, user, "legacy")
    assert (record.scopes, record.expires_at) == ("read write", None)
    assert client.get("/api/v1/me", headers=_bearer(token)).status_code == 200


def test_required_scopes():
    assert required_scopes("booking", write=False) == ("read", "write", "booking:read", "booking:write")
    assert required_scopes("booking", write=True) == ("write", "booking:write")
    assert required_scopes(None, write=False) == ("read", "write")


def test_openapi_names_the_scopes_of_each_operation(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    cohorts = spec["paths"]["/api/v1/orgs/{org}/cohorts"]["get"]
    assert cohorts["x-scopes"] == ["read", "write", "cohorts:read", "cohorts:write"]
