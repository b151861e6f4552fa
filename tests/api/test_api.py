from __future__ import annotations

import pytest

from incubator.accounts.services import create_api_token, revoke_api_token
from incubator.core.permissions import Role
from tests.factories import OrgFactory, UserFactory, member


@pytest.fixture()
def bbi(session):
    return OrgFactory(slug="bbi", name="Becamex Business Incubator")


def _token(session, user) -> dict[str, str]:
    token, _record = create_api_token(session, user, "test")
    session.flush()
    return {"Authorization": f"Bearer {token}"}


def test_me_returns_the_user_and_memberships(client, session, bbi):
    tdmu = OrgFactory(slug="tdmu")
    user = member(bbi, Role.FOUNDER, email="founder@example.org")
    from tests.factories import MembershipFactory

    MembershipFactory(user=user, org=tdmu, role=Role.MENTOR)
    response = client.get("/api/v1/me", headers=_token(session, user))
    assert response.status_code == 200
    body = response.get_json()
    assert body["email"] == "founder@example.org"
    assert sorted((m["org"], m["role"]) for m in body["memberships"]) == [("bbi", "founder"), ("tdmu", "mentor")]


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer inc_not-a-real-token", "Basic abc", "inc_x"])
def test_missing_or_bad_token_is_401_json(client, header):
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    body = response.get_json()
    assert body["code"] == "unauthorized" and body["message"] and body["fields"] == {}


def test_a_revoked_token_is_refused(client, session):
    user = UserFactory()
    token, record = create_api_token(session, user, "old")
    revoke_api_token(record)
    session.flush()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_session_cookies_do_not_open_the_api(client, session):
    from tests.conftest import login

    user = UserFactory()
    login(client, user.email)
    assert client.get("/api/v1/me").status_code == 401


def test_org_for_members_and_404_for_anyone_else(client, session, bbi):
    manager = member(bbi, Role.MANAGER)
    outsider = member(OrgFactory(), Role.OWNER)
    ok = client.get("/api/v1/orgs/bbi", headers=_token(session, manager))
    assert ok.status_code == 200
    assert ok.get_json() == {"slug": "bbi", "name": "Becamex Business Incubator", "kind": "incubator",
                             "timezone": "Asia/Ho_Chi_Minh", "currency": "VND", "default_locale": "vi",
                             "role": "manager"}
    outsider_headers = _token(session, outsider)
    for slug in ("bbi", "no-such-org"):
        response = client.get(f"/api/v1/orgs/{slug}", headers=outsider_headers)
        assert response.status_code == 404
        assert response.get_json()["code"] == "not_found"


def test_openapi_document_describes_the_api(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/me" in spec["paths"] and "/api/v1/orgs/{org}" in spec["paths"]
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    assert spec["security"] == [{"bearerAuth": []}]
    error = spec["components"]["schemas"]["Error"]
    assert {"code", "message", "fields"} <= set(error["properties"])


def test_docs_page_is_served_from_the_app(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "cdn" not in html.lower()
    assert client.get("/api/v1/docs/assets/swagger-ui-bundle.js").status_code == 200


def test_healthz_reports_an_unreachable_database(tmp_path):
    from incubator import create_app

    broken = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/missing-dir/nope/db.sqlite"})
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] != "ok"
