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
    scheme = spec["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert "`<domain>:read`" in scheme["description"] and "insufficient_scope" in scheme["description"]
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


# -- last use of a token: at most once a minute, never in the request's transaction ---------------------

def _token_updates(seen: list[str]) -> int:
    return sum(1 for sql in seen if sql.lstrip().upper().startswith("UPDATE API_TOKENS"))


def test_a_tokens_last_use_is_written_at_most_once_a_minute(app, client, session):
    from datetime import UTC, datetime, timedelta

    from tests.conftest import statements

    user = UserFactory()
    token, record = create_api_token(session, user, "script")
    session.flush()
    headers = {"Authorization": f"Bearer {token}"}
    with statements(app) as seen:
        assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert _token_updates(seen) == 1
    session.refresh(record)
    first = record.last_used_at
    assert first is not None
    with statements(app) as seen:
        for _ in range(3):
            assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert _token_updates(seen) == 0  # within the minute: no write at all
    session.refresh(record)
    assert record.last_used_at == first
    record.last_used_at = datetime.now(UTC) - timedelta(seconds=61)
    session.flush()
    with statements(app) as seen:
        assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert _token_updates(seen) == 1
    session.refresh(record)
    assert record.last_used_at > first


@pytest.fixture()
def committed_token(app):
    """A user and a token committed for real (other connections must see them); removed afterwards."""
    from sqlalchemy import delete

    from incubator.accounts.models import ApiToken, User
    from incubator.core.db import utcnow
    from incubator.extensions import db

    with app.app_context():
        user = User(email="token-race@example.org", name="Token race", password_hash="x",
                    email_verified_at=utcnow())  # an account in use
        db.session.add(user)
        db.session.flush()
        token, record = create_api_token(db.session, user, "race")
        db.session.commit()
        ids = (user.id, record.id)
    yield token, ids[1]
    with app.app_context():
        db.session.execute(delete(ApiToken).where(ApiToken.id == ids[1]))
        db.session.execute(delete(User).where(User.id == ids[0]))
        db.session.commit()


def _last_used(app, token_id):
    from sqlalchemy import select

    from incubator.accounts.models import ApiToken

    with app.extensions["db_engine"].connect() as conn:
        return conn.execute(select(ApiToken.last_used_at).where(ApiToken.id == token_id)).scalar_one()


def test_the_last_use_is_kept_when_the_request_itself_is_rolled_back(app, committed_token):
    token, token_id = committed_token
    response = app.test_client().get("/api/v1/orgs/no-such-org", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 404  # the request's transaction is rolled back...
    assert _last_used(app, token_id) is not None  # ...the token's bookkeeping was its own, committed


def test_a_request_does_not_wait_for_another_transaction_holding_the_token(app, committed_token):
    """Another transaction holds the token's row (on SQLite: the write lock) as a long request did;
    a request with the same token answers at once and does not wait for it."""
    import threading

    from sqlalchemy import text

    token, token_id = committed_token
    holder = app.extensions["db_engine"].connect()
    sqlite = holder.dialect.name == "sqlite"
    holder.begin()  # on SQLite: BEGIN IMMEDIATE, the write lock
    if sqlite:
        holder.exec_driver_sql("UPDATE api_tokens SET name = 'held' WHERE id = ?", (token_id,))
    else:
        holder.execute(text("SELECT id FROM api_tokens WHERE id = :id FOR UPDATE"), {"id": token_id})
    answers: list[int] = []
    request = threading.Thread(target=lambda: answers.append(
        app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code))
    try:
        request.start()
        request.join(timeout=5)
        assert not request.is_alive(), "the request waited for the other transaction"
        assert answers == [200]
    finally:
        holder.rollback()
        holder.close()
        request.join(timeout=30)
