"""The platform admin's organisation page (edit, suspend, delete) and users list (search, reset access),
through the pages and the API under /api/v1/admin, with the roles that may not."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from incubator.accounts.models import ApiToken
from incubator.accounts.services import create_api_token
from incubator.core import mail
from incubator.core.db import utcnow
from incubator.core.permissions import Role
from incubator.orgs.models import Organisation
from tests.conftest import csrf_token, login
from tests.doors import assert_same_door
from tests.factories import OrgFactory, UserFactory, member


def _headers(session, user) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_api_token(session, user, 't')[0]}"}


@pytest.fixture
def admin(client, session):
    user = UserFactory(is_admin=True)
    login(client, user.email)
    return user


def test_organisation_rows_link_to_its_page_which_edits_it(client, session, admin):
    org = OrgFactory(slug="bbi", name="BBI")
    listing = client.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/orgs/bbi"' in listing
    page = client.get("/admin/orgs/bbi")
    assert page.status_code == 200 and 'value="bbi"' in page.get_data(as_text=True)
    token = csrf_token(client, "/admin/orgs/bbi")
    saved = client.post("/admin/orgs/bbi", data={"csrf_token": token, "name": "Becamex BBI", "slug": "becamex",
                                                 "kind": "university_lab", "timezone": "Asia/Ho_Chi_Minh",
                                                 "currency": "usd", "default_locale": "en"})
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/admin/orgs/becamex")
    session.expire_all()
    assert (org.slug, org.name, str(org.kind), org.currency, org.default_locale) == (
        "becamex", "Becamex BBI", "university_lab", "USD", "en")


def test_bad_edits_are_form_errors_and_save_nothing(client, session, admin):
    org = OrgFactory(slug="bbi", name="BBI")
    OrgFactory(slug="taken")
    token = csrf_token(client, "/admin/orgs/bbi")
    good = {"csrf_token": token, "name": "BBI", "slug": "bbi", "kind": "incubator", "timezone": "Asia/Ho_Chi_Minh",
            "currency": "VND", "default_locale": "vi"}
    for bad, field in (({"slug": "Bad Slug"}, "slug"), ({"slug": "admin"}, "slug"), ({"name": ""}, "name"),
                       ({"currency": "DONG"}, "currency"), ({"kind": "castle"}, "kind"),
                       ({"timezone": "Mars/Olympus"}, "timezone"), ({"slug": "taken", "name": "Renamed"}, "slug")):
        answer = client.post("/admin/orgs/bbi", data={**good, **bad})
        assert answer.status_code == 422, bad
        assert f'data-field="{field}"' in answer.get_data(as_text=True), bad
    session.expire_all()
    assert (org.slug, org.name, org.currency) == ("bbi", "BBI", "VND")


def test_a_suspended_organisation_cannot_be_used_until_lifted(client, session, admin):
    org = OrgFactory(slug="bbi", name="BBI")
    founder = member(org, Role.FOUNDER)
    owner = member(org, Role.OWNER)
    token = csrf_token(client, "/admin/orgs/bbi")
    assert client.post("/admin/orgs/bbi/suspend", data={"csrf_token": token}).status_code == 302
    assert 'data-testid="suspended"' in client.get("/admin/").get_data(as_text=True)
    client.post("/auth/logout", data={"csrf_token": token})
    for user in (founder, owner):
        login(client, user.email)
        page = client.get("/o/bbi/")
        assert page.status_code == 403 and 'data-testid="org-suspended"' in page.get_data(as_text=True)
        assert "BBI is suspended by the platform administrators." in page.get_data(as_text=True)
        api = client.get("/api/v1/orgs/bbi", headers=_headers(session, user))
        assert api.status_code == 403 and api.get_json()["code"] == "org_suspended"
        client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/account")})
    assert client.get("/o/bbi/calls").status_code == 403  # its public pages too
    login(client, admin.email)
    client.post("/admin/orgs/bbi/unsuspend", data={"csrf_token": csrf_token(client, "/admin/")})
    session.expire_all()
    assert org.suspended_at is None
    api = client.get("/api/v1/orgs/bbi", headers=_headers(session, owner))
    assert api.status_code == 200


def test_deleting_needs_the_slug_typed_and_keeps_the_rows(client, session, admin):
    org = OrgFactory(slug="bbi", name="BBI")
    owner = member(org, Role.OWNER)
    token = csrf_token(client, "/admin/orgs/bbi")
    wrong = client.post("/admin/orgs/bbi/delete", data={"csrf_token": token, "delete-confirm": "bb"})
    assert wrong.status_code == 422 and 'data-field="delete-confirm"' in wrong.get_data(as_text=True)
    session.expire_all()
    assert org.deleted_at is None
    done = client.post("/admin/orgs/bbi/delete", data={"csrf_token": token, "delete-confirm": " BBI "})
    assert done.status_code == 302 and done.headers["Location"].endswith("/admin/")
    session.expire_all()
    assert org.deleted_at is not None  # soft: the row (and what names it) stays
    assert session.execute(select(Organisation).where(Organisation.slug == "bbi")).scalar_one() is org
    assert "/admin/orgs/bbi" not in client.get("/admin/").get_data(as_text=True)
    assert client.get("/admin/orgs/bbi").status_code == 404
    api = client.get("/api/v1/orgs/bbi", headers=_headers(session, owner))
    assert api.status_code == 404


def test_the_users_list_searches_pages_and_shows_memberships(client, session, admin):
    org = OrgFactory(slug="bbi", name="BBI")
    for i in range(30):
        UserFactory(email=f"person{i:02d}@example.org", name=f"Person {i}")
    member(org, Role.MANAGER, email="lan@example.vn", name="Nguyễn Lan")
    first = client.get("/admin/users").get_data(as_text=True)
    assert first.count("data-user=") == 25 and "?page=2" in first
    found = client.get("/admin/users?q=Lan").get_data(as_text=True)
    assert found.count("data-user=") == 1 and "lan@example.vn" in found and 'href="/admin/orgs/bbi"' in found
    assert client.get("/admin/users?q=%25").get_data(as_text=True).count("data-user=") == 0
    api = client.get("/api/v1/admin/users?q=lan@", headers=_headers(session, admin))
    assert api.status_code == 200
    assert [(u["email"], u["memberships"]) for u in api.get_json()] == [
        ("lan@example.vn", [{"org": "bbi", "org_name": "BBI", "role": "manager"}])]
    paged = client.get("/api/v1/admin/users?page_size=10&page=4", headers=_headers(session, admin))
    assert '"total": 32' in paged.headers["X-Pagination"] and len(paged.get_json()) == 2


def test_reset_access_signs_out_revokes_tokens_and_mails_a_link(client, session, admin):
    person = UserFactory(email="an@example.vn")
    their_client = client.application.test_client()
    login(their_client, person.email)
    their_token = create_api_token(session, person, "laptop")[0]
    mail.outbox.clear()
    answer = client.post(f"/admin/users/{person.id}/reset-access", data={"csrf_token": csrf_token(client, "/admin/")})
    assert answer.status_code == 302
    assert their_client.get("/account").status_code == 302  # signed out
    assert client.application.test_client().get(
        "/api/v1/me", headers={"Authorization": f"Bearer {their_token}"}).status_code == 401
    assert [m.to for m in mail.outbox] == [["an@example.vn"]]
    assert re.search(r"/auth/reset/\S+", mail.outbox[0].body)
    again = client.post(f"/api/v1/admin/users/{person.id}/reset-access", headers=_headers(session, admin))
    assert again.status_code == 200 and again.get_json() == {"revoked_tokens": 0, "mail_sent": True}
    assert session.execute(select(ApiToken).where(ApiToken.user_id == person.id,
                                                  ApiToken.revoked_at.is_(None))).first() is None
    assert client.post("/api/v1/admin/users/999999/reset-access", headers=_headers(session, admin)).status_code == 404


def test_the_admin_api_edits_suspends_and_deletes(client, session, admin):
    org = OrgFactory(slug="bbi", name="BBI")
    OrgFactory(slug="taken")
    headers = _headers(session, admin)
    got = client.get("/api/v1/admin/orgs/bbi", headers=headers)
    assert got.status_code == 200 and got.get_json()["suspended_at"] is None
    patched = client.patch("/api/v1/admin/orgs/bbi", json={"name": "Becamex"}, headers=headers)
    assert patched.status_code == 200 and patched.get_json()["name"] == "Becamex"
    taken = client.patch("/api/v1/admin/orgs/bbi", json={"slug": "taken"}, headers=headers)
    assert taken.status_code == 409 and taken.get_json()["code"] == "slug_taken"
    for bad in ({"slug": "Bad Slug"}, {"name": ""}, {"currency": "DONG"}, {"kind": "castle"}, {"owner": "x"},
                {"timezone": "Mars/Olympus"}):
        answer = client.patch("/api/v1/admin/orgs/bbi", json=bad, headers=headers)
        assert answer.status_code == 422 and answer.get_json()["fields"], bad
    suspended = client.post("/api/v1/admin/orgs/bbi/suspend", headers=headers)
    assert suspended.status_code == 200 and suspended.get_json()["suspended_at"]
    lifted = client.post("/api/v1/admin/orgs/bbi/unsuspend", headers=headers)
    assert lifted.get_json()["suspended_at"] is None
    wrong = client.delete("/api/v1/admin/orgs/bbi?confirm=nope", headers=headers)
    assert wrong.status_code == 422 and wrong.get_json()["code"] == "confirm_mismatch"
    assert wrong.get_json()["fields"] == {"confirm": "Type bbi to confirm."}
    assert client.delete("/api/v1/admin/orgs/bbi", headers=headers).status_code == 422  # confirm is required
    assert client.delete("/api/v1/admin/orgs/bbi?confirm=bbi", headers=headers).status_code == 204
    session.expire_all()
    assert (org.name, org.deleted_at is not None) == ("Becamex", True)
    assert client.get("/api/v1/admin/orgs/bbi", headers=headers).status_code == 404
    assert [o["slug"] for o in client.get("/api/v1/admin/orgs", headers=headers).get_json()] == ["taken"]


def test_only_platform_admins_pass_either_door(client, session):
    org = OrgFactory(slug="bbi")
    target = UserFactory()
    people = (("admin", UserFactory(is_admin=True), "allowed"), ("owner", member(org, Role.OWNER), "forbidden"),
              ("founder", member(org, Role.FOUNDER), "forbidden"), ("no org", UserFactory(), "forbidden"),
              ("visitor", None, "login"))
    for label, user, expected in people:
        headers = _headers(session, user) if user else {}
        if user:
            login(client, user.email)
        token = csrf_token(client, "/auth/login" if user is None else "/account")
        pairs = (("org", client.get("/admin/orgs/bbi"), client.get("/api/v1/admin/orgs/bbi", headers=headers)),
                 ("edit", client.post("/admin/orgs/bbi", data={"csrf_token": token, "name": "X"}),
                  client.patch("/api/v1/admin/orgs/bbi", json={"name": "X"}, headers=headers)),
                 ("users", client.get("/admin/users"), client.get("/api/v1/admin/users", headers=headers)),
                 ("suspend", client.post("/admin/orgs/bbi/suspend", data={"csrf_token": token}),
                  client.post("/api/v1/admin/orgs/bbi/suspend", headers=headers)),
                 ("unsuspend", client.post("/admin/orgs/bbi/unsuspend", data={"csrf_token": token}),
                  client.post("/api/v1/admin/orgs/bbi/unsuspend", headers=headers)),
                 ("reset", client.post(f"/admin/users/{target.id}/reset-access", data={"csrf_token": token}),
                  client.post(f"/api/v1/admin/users/{target.id}/reset-access", headers=headers)),
                 ("delete", client.post("/admin/orgs/bbi/delete", data={"csrf_token": token, "delete-confirm": "x"}),
                  client.delete("/api/v1/admin/orgs/bbi?confirm=x", headers=headers)))
        for name, page, api in pairs:
            assert assert_same_door(page, api, f"{label}: {name}") == expected, f"{label}: {name}"
        if user:
            client.post("/auth/logout", data={"csrf_token": token})
    session.expire_all()
    assert session.execute(select(Organisation).where(Organisation.slug == "bbi")).scalar_one().deleted_at is None


def test_suspended_or_deleted_organisations_leave_the_platform_list_of_calls(client, session, intake):
    assert "BBI Incubation 2027" in client.get("/calls").get_data(as_text=True)
    intake.org.suspended_at = utcnow()
    session.flush()
    assert "BBI Incubation 2027" not in client.get("/calls").get_data(as_text=True)
    intake.org.suspended_at, intake.org.deleted_at = None, utcnow()
    session.flush()
    assert "BBI Incubation 2027" not in client.get("/calls").get_data(as_text=True)


def test_the_users_list_says_who_has_not_verified_their_address(client, session, admin):
    """On the page and through the API: the admin sees an account still waiting on its mailed link."""
    waiting = UserFactory(email="waiting@example.vn", name="Chờ Xác Minh", email_verified_at=None)
    UserFactory(email="done@example.vn", name="Đã Xong")
    page = client.get("/admin/users?q=example.vn").get_data(as_text=True)
    rows = {m.group(1): m.group(2) for m in re.finditer(r'data-user="(\d+)">(.*?)</tr>', page, re.S)}
    assert [uid for uid, row in rows.items() if 'data-testid="unverified"' in row] == [str(waiting.id)]
    api = client.get("/api/v1/admin/users?q=example.vn", headers=_headers(session, admin)).get_json()
    assert {u["email"]: u["email_verified_at"] is None for u in api} == {"waiting@example.vn": True,
                                                                       "done@example.vn": False}
