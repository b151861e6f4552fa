"""The account settings, personal tokens and platform admin over the API (#13): the pages' rules."""

from __future__ import annotations

from sqlalchemy import select

from incubator.accounts.models import ApiToken
from incubator.accounts.services import create_api_token
from incubator.core.errors import DomainError
from incubator.core.permissions import Role
from incubator.orgs.models import Invitation, Organisation
from tests.conftest import csrf_token, login
from tests.doors import assert_same_door
from tests.factories import OrgFactory, UserFactory, member


def _headers(session, user, scopes=("read", "write")) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_api_token(session, user, 't', scopes=scopes)[0]}"}


def test_patch_me_changes_only_the_given_fields(client, session):
    user = UserFactory(name="An", locale="en")
    headers = _headers(session, user)
    answer = client.patch("/api/v1/me", json={"locale": "vi"}, headers=headers)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["locale"] == "vi" and answer.get_json()["name"] == "An"
    answer = client.patch("/api/v1/me", json={"name": "  Bình  "}, headers=headers)
    assert answer.get_json()["name"] == "Bình" and answer.get_json()["locale"] == "vi"
    session.refresh(user)
    assert (user.name, user.locale) == ("Bình", "vi")


def test_patch_me_bad_input_is_422_and_changes_nothing(client, session):
    user = UserFactory(name="An", locale="en")
    headers = _headers(session, user)
    for body in ({"name": ""}, {"name": "   "}, {"name": "x" * 121}, {"locale": "fr"}, {"name": "Ok", "locale": "xx"},
                 {"password": "a-new-password-123"}):
        answer = client.patch("/api/v1/me", json=body, headers=headers)
        assert answer.status_code == 422, body
        assert answer.get_json()["fields"], body
    session.refresh(user)
    assert (user.name, user.locale) == ("An", "en")


def test_patch_me_needs_a_write_scope(client, session):
    user = UserFactory()
    answer = client.patch("/api/v1/me", json={"name": "X"}, headers=_headers(session, user, ("read",)))
    assert answer.status_code == 403 and answer.get_json()["code"] == "insufficient_scope"


def test_the_settings_page_and_patch_me_answer_alike(client, session):
    user = UserFactory(name="An")
    login(client, user.email)
    page = client.post("/account", data={"csrf_token": csrf_token(client, "/account"), "profile-name": " ",
                                         "profile-locale": "en"})
    api = client.patch("/api/v1/me", json={"name": " "}, headers=_headers(session, user))
    assert page.status_code == 200 and api.status_code == 422
    assert assert_same_door(page, api) == "allowed"
    page = client.post("/account", data={"csrf_token": csrf_token(client, "/account"), "profile-name": "Chi",
                                         "profile-locale": "en"})
    api = client.patch("/api/v1/me", json={"name": "Chi"}, headers=_headers(session, user))
    assert assert_same_door(page, api) == "allowed"
    session.refresh(user)
    assert user.name == "Chi"


def test_tokens_are_listed_paginated_created_once_and_revoked(client, session):
    user = UserFactory()
    other = UserFactory()
    headers = _headers(session, user)
    theirs = create_api_token(session, other, "theirs")[1]
    created = client.post("/api/v1/me/tokens", json={"name": "script", "scopes": ["reporting:read"],
                                                     "expires_in_days": 30}, headers=headers)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["token"].startswith("inc_") and body["scopes"] == ["reporting:read"] and body["expires_at"]
    assert created.headers["Location"].endswith(f"/api/v1/me/tokens/{body['id']}")
    # the new token works, and its secret is never shown again
    new_headers = {"Authorization": f"Bearer {body['token']}"}
    assert client.get("/api/v1/orgs/none/reports/targets", headers=new_headers).status_code == 404
    listed = client.get("/api/v1/me/tokens?page_size=1", headers=headers)
    assert listed.status_code == 200 and len(listed.get_json()) == 1
    assert '"total": 2' in listed.headers["X-Pagination"]
    all_tokens = client.get("/api/v1/me/tokens", headers=headers).get_json()
    assert {t["name"] for t in all_tokens} == {"t", "script"} and all("token" not in t for t in all_tokens)
    assert client.delete(f"/api/v1/me/tokens/{theirs.id}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/me/tokens/{theirs.id}", headers=headers).status_code == 404
    session.refresh(theirs)
    assert theirs.revoked_at is None
    assert client.delete(f"/api/v1/me/tokens/{body['id']}", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=new_headers).status_code == 401


def test_a_new_token_never_expires_when_asked(client, session):
    user = UserFactory()
    answer = client.post("/api/v1/me/tokens", json={"name": "forever", "expires_in_days": None},
                         headers=_headers(session, user))
    assert answer.status_code == 201 and answer.get_json()["expires_at"] is None
    assert answer.get_json()["scopes"] == ["read", "write"]


def test_bad_token_requests_are_422_and_make_nothing(client, session):
    user = UserFactory()
    headers = _headers(session, user)
    for body in ({"name": ""}, {}, {"name": "x", "scopes": []}, {"name": "x", "scopes": ["root"]},
                 {"name": "x", "expires_in_days": 7}, {"name": "x" * 121}):
        answer = client.post("/api/v1/me/tokens", json=body, headers=headers)
        assert answer.status_code == 422, body
        assert answer.get_json()["fields"], body
    assert session.execute(select(ApiToken).where(ApiToken.user_id == user.id)).scalars().all().__len__() == 1


def test_a_token_cannot_give_scopes_it_does_not_hold(session):
    from incubator.accounts.services import create_personal_token

    user = UserFactory()
    narrow = create_api_token(session, user, "narrow", scopes=["cohorts:write"])[1]
    token, record = create_personal_token(session, user, "ok", scopes=["cohorts:read"], expires_in_days=30,
                                          via=narrow)
    assert record.scopes == "cohorts:read"
    for scopes in (["write"], ["read"], ["reporting:read"]):
        try:
            create_personal_token(session, user, "no", scopes=scopes, expires_in_days=30, via=narrow)
        except DomainError as refused:
            assert refused.status == 403 and refused.code == "insufficient_scope"
        else:
            raise AssertionError(scopes)
    reader = create_api_token(session, user, "reader", scopes=["read"])[1]
    refused_write = None
    try:
        create_personal_token(session, user, "no", scopes=["orgs:write"], expires_in_days=30, via=reader)
    except DomainError as refused:
        refused_write = refused
    assert refused_write is not None and refused_write.fields == {"scopes": "orgs:write"}


def test_a_service_token_has_no_personal_tokens(client, session):
    from incubator.orgs.services import create_service_token

    org = OrgFactory()
    owner = member(org, Role.OWNER)
    token, _record = create_service_token(session, org, owner.memberships[0], name="svc", role=Role.STAFF,
                                          scopes=["read", "write"], expires_at=None)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me/tokens", headers=headers).status_code == 404
    assert client.post("/api/v1/me/tokens", json={"name": "x"}, headers=headers).status_code == 404
    assert client.patch("/api/v1/me", json={"name": "x"}, headers=headers).status_code == 404


def test_the_tokens_page_and_api_answer_alike(client, session):
    user = UserFactory()
    other_token = create_api_token(session, UserFactory(), "theirs")[1]
    login(client, user.email)
    page = client.post("/account/tokens", data={"csrf_token": csrf_token(client, "/account/tokens"),
                                                "name": "x", "scopes": ["root"], "expires_in": "90"})
    api = client.post("/api/v1/me/tokens", json={"name": "x", "scopes": ["root"]}, headers=_headers(session, user))
    assert page.status_code == 422 and assert_same_door(page, api) == "allowed"
    page = client.post(f"/account/tokens/{other_token.id}/revoke",
                       data={"csrf_token": csrf_token(client, "/account/tokens")})
    api = client.delete(f"/api/v1/me/tokens/{other_token.id}", headers=_headers(session, user))
    assert assert_same_door(page, api) == "hidden"


def test_admins_create_and_list_organisations(client, session):
    admin = UserFactory(is_admin=True)
    headers = _headers(session, admin)
    answer = client.post("/api/v1/admin/orgs", json={"slug": "new-lab", "name": "New Lab", "kind": "university_lab",
                                                     "owner_email": "Owner@Example.org"}, headers=headers)
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["kind"] == "university_lab" and answer.headers["Location"].endswith("/orgs/new-lab")
    org = session.execute(select(Organisation).where(Organisation.slug == "new-lab")).scalar_one()
    invitation = session.execute(select(Invitation).where(Invitation.org_id == org.id)).scalar_one()
    assert invitation.email == "owner@example.org" and invitation.role == Role.OWNER
    OrgFactory(name="Aardvark")
    listed = client.get("/api/v1/admin/orgs?page_size=1", headers=headers)
    assert listed.status_code == 200 and listed.get_json()[0]["name"] == "Aardvark"
    assert '"total": 2' in listed.headers["X-Pagination"]


def test_bad_or_taken_organisations_are_refused_and_nothing_is_written(client, session):
    admin = UserFactory(is_admin=True)
    OrgFactory(slug="taken")
    headers = _headers(session, admin)
    base = {"slug": "fresh", "name": "Fresh", "owner_email": "o@example.org"}
    taken = client.post("/api/v1/admin/orgs", json={**base, "slug": "taken"}, headers=headers)
    assert taken.status_code == 409 and taken.get_json()["code"] == "slug_taken"
    for bad in ({"slug": "Bad Slug"}, {"name": ""}, {"timezone": "Mars/Olympus"}, {"currency": "DONG"},
                {"default_locale": "fr"}, {"owner_email": "nope"}, {"kind": "castle"}, {"slug": "x" * 41}):
        answer = client.post("/api/v1/admin/orgs", json={**base, **bad}, headers=headers)
        assert answer.status_code == 422, bad
        assert answer.get_json()["fields"], bad
    assert session.execute(select(Organisation).where(Organisation.slug == "fresh")).first() is None
    assert session.execute(select(Invitation)).first() is None


def test_only_platform_admins_reach_the_admin_api(client, session):
    org = OrgFactory()
    owner = member(org, Role.OWNER)
    headers = _headers(session, owner)
    body = {"slug": "mine", "name": "Mine", "owner_email": "o@example.org"}
    for answer in (client.get("/api/v1/admin/orgs", headers=headers),
                   client.post("/api/v1/admin/orgs", json=body, headers=headers)):
        assert answer.status_code == 403 and answer.get_json()["code"] == "not_allowed"
    assert session.execute(select(Organisation).where(Organisation.slug == "mine")).first() is None


def test_the_admin_pages_and_api_admit_the_same_people(client, session):
    """Both doors let platform admins in and nobody else, with the same answer: 403 for anyone else
    signed in (an owner or a founder of some organisation, a user of none), and sign in first for a
    visitor (the page's redirect, the API's 401)."""
    org = OrgFactory()
    body = {"slug": "via-door", "name": "Via door", "owner_email": "o@example.org"}
    people = (("admin", UserFactory(is_admin=True), "allowed"), ("owner", member(org, Role.OWNER), "forbidden"),
              ("founder", member(org, Role.FOUNDER), "forbidden"), ("no org", UserFactory(), "forbidden"),
              ("visitor", None, "login"))
    for label, user, expected in people:
        headers = _headers(session, user) if user else {}
        if user:
            login(client, user.email)
        token = csrf_token(client, "/auth/login" if user is None else "/account")
        pairs = (("list", client.get("/admin/"), client.get("/api/v1/admin/orgs", headers=headers)),
                 ("new form", client.get("/admin/orgs/new"), client.get("/api/v1/admin/orgs", headers=headers)),
                 ("create", client.post("/admin/orgs/new", data={"csrf_token": token}),
                  client.post("/api/v1/admin/orgs", json=body, headers=headers)))
        for name, page, api in pairs:
            assert assert_same_door(page, api, f"{label}: {name}") == expected, f"{label}: {name}"
        if user:
            client.post("/auth/logout", data={"csrf_token": token})
