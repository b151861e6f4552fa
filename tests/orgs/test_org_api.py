"""The organisation's browser actions over the API (#13): settings, members, invitations; the same rules
and the same answers as the pages (``tests/doors.py``)."""

from __future__ import annotations

import json

from sqlalchemy import select

from incubator.accounts.services import create_api_token
from incubator.core import mail
from incubator.core.permissions import Role
from incubator.orgs.models import Invitation, Membership
from tests.conftest import csrf_token, login
from tests.doors import assert_same_door
from tests.factories import InvitationFactory, OrgFactory, member


def _bearer(session, user) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_api_token(session, user, 't')[0]}"}


def _membership(session, user, org) -> Membership:
    return session.execute(select(Membership).where(Membership.user_id == user.id,
                                                    Membership.org_id == org.id)).scalar_one()


def _sign_out(client) -> None:
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/account")})


def test_patch_changes_only_the_fields_sent(client, session):
    org = OrgFactory(name="Old name", currency="VND")
    manager = member(org, Role.MANAGER)
    answer = client.patch(f"/api/v1/orgs/{org.slug}", json={"name": "New name"}, headers=_bearer(session, manager))
    assert answer.status_code == 200
    assert (answer.get_json()["name"], answer.get_json()["currency"]) == ("New name", "VND")
    session.refresh(org)
    assert (org.name, org.timezone) == ("New name", "Asia/Ho_Chi_Minh")


def test_bad_settings_are_422_with_fields_and_change_nothing(client, session):
    org = OrgFactory(name="Kept")
    manager = member(org, Role.MANAGER)
    answer = client.patch(f"/api/v1/orgs/{org.slug}", json={"name": "X", "timezone": "Mars/Olympus",
                                                           "currency": "dong", "default_locale": "fr"},
                          headers=_bearer(session, manager))
    assert answer.status_code == 422
    assert {"timezone", "currency", "default_locale"} <= set(answer.get_json()["fields"])
    assert client.patch(f"/api/v1/orgs/{org.slug}", json={"name": ""},
                        headers=_bearer(session, manager)).status_code == 422
    session.refresh(org)
    assert org.name == "Kept"


def test_settings_same_door_for_every_role(client, session):
    org = OrgFactory()
    for role in Role:
        user = member(org, role)
        login(client, user.email)
        page = client.get(f"/o/{org.slug}/settings")
        api = client.patch(f"/api/v1/orgs/{org.slug}", json={"name": org.name}, headers=_bearer(session, user))
        expected = "allowed" if role in (Role.OWNER, Role.MANAGER) else "forbidden"
        assert assert_same_door(page, api, role) == expected
        _sign_out(client)


def test_members_are_paginated_and_filtered(client, session):
    org = OrgFactory()
    owner = member(org, Role.OWNER, name="Owner Person")
    for i in range(3):
        member(org, Role.MENTOR, name=f"Mentor {i}", email=f"mentor{i}-{org.slug}@example.org")
    member(org, Role.FOUNDER, name="100%_founder")
    headers = _bearer(session, owner)
    base = f"/api/v1/orgs/{org.slug}/members"
    page = client.get(f"{base}?page_size=2", headers=headers)
    assert page.status_code == 200 and len(page.get_json()) == 2
    assert json.loads(page.headers["X-Pagination"])["total"] == 5
    mentors = client.get(f"{base}?role=mentor", headers=headers).get_json()
    assert sorted(m["name"] for m in mentors) == ["Mentor 0", "Mentor 1", "Mentor 2"]
    assert [m["name"] for m in client.get(f"{base}?q=mentor1", headers=headers).get_json()] == ["Mentor 1"]
    assert [m["name"] for m in client.get(f"{base}?q=%_", headers=headers).get_json()] == ["100%_founder"]
    bad = client.get(f"{base}?role=king", headers=headers)
    assert bad.status_code == 422 and "role" in bad.get_json()["fields"]
    login(client, owner.email)  # the page filters alike
    html = client.get(f"/o/{org.slug}/members?role=mentor").get_data(as_text=True)
    assert "Mentor 1" in html and "100%_founder" not in html


def test_only_an_owner_hands_out_owner_on_both_doors(client, session):
    org = OrgFactory()
    member(org, Role.OWNER)
    manager = member(org, Role.MANAGER)
    staff = member(org, Role.STAFF)
    target = _membership(session, staff, org)
    api = client.patch(f"/api/v1/orgs/{org.slug}/members/{target.id}", json={"role": "owner"},
                       headers=_bearer(session, manager))
    assert api.status_code == 403
    login(client, manager.email)
    page = client.post(f"/o/{org.slug}/members/{target.id}/role", data={
        "role": "owner", "csrf_token": csrf_token(client, f"/o/{org.slug}/members")}, follow_redirects=True)
    assert "Only an owner can give or take the owner role." in page.get_data(as_text=True)
    session.refresh(target)
    assert target.role == Role.STAFF
    ok = client.patch(f"/api/v1/orgs/{org.slug}/members/{target.id}", json={"role": "mentor"},
                      headers=_bearer(session, manager))
    assert ok.status_code == 200 and ok.get_json()["role"] == "mentor"


def test_the_last_owner_stays(client, session):
    org = OrgFactory()
    owner = member(org, Role.OWNER)
    mine = _membership(session, owner, org)
    headers = _bearer(session, owner)
    demote = client.patch(f"/api/v1/orgs/{org.slug}/members/{mine.id}", json={"role": "manager"}, headers=headers)
    assert demote.status_code == 422 and demote.get_json()["code"] == "last_owner"
    remove = client.delete(f"/api/v1/orgs/{org.slug}/members/{mine.id}", headers=headers)
    assert remove.status_code == 422 and remove.get_json()["code"] == "last_owner"
    session.refresh(mine)
    assert mine.role == Role.OWNER


def test_removing_a_member(client, session):
    org = OrgFactory()
    manager = member(org, Role.MANAGER)
    founder = member(org, Role.FOUNDER)
    target = _membership(session, founder, org)
    headers = _bearer(session, manager)
    assert client.delete(f"/api/v1/orgs/{org.slug}/members/{target.id}", headers=headers).status_code == 204
    assert session.execute(select(Membership).where(Membership.id == target.id)).first() is None
    assert client.delete(f"/api/v1/orgs/{org.slug}/members/{target.id}", headers=headers).status_code == 404


def test_another_organisations_member_is_404_on_both_doors(client, session):
    org, other = OrgFactory(), OrgFactory()
    manager = member(org, Role.MANAGER)
    stranger = _membership(session, member(other, Role.FOUNDER), other)
    login(client, manager.email)
    page = client.post(f"/o/{org.slug}/members/{stranger.id}/remove",
                       data={"csrf_token": csrf_token(client, f"/o/{org.slug}/members")})
    api = client.delete(f"/api/v1/orgs/{org.slug}/members/{stranger.id}", headers=_bearer(session, manager))
    assert assert_same_door(page, api, "remove another's member") == "hidden"


def test_invitations_over_the_api(client, session):
    org = OrgFactory()
    manager = member(org, Role.MANAGER)
    headers = _bearer(session, manager)
    base = f"/api/v1/orgs/{org.slug}/invitations"
    mail.outbox.clear()
    made = client.post(base, json={"email": "New.Person@Example.org", "role": "staff"}, headers=headers)
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert body["email"] == "new.person@example.org" and body["role"] == "staff" and body["expired"] is False
    assert made.headers["Location"].endswith(f"{base}/{body['id']}")
    assert client.get(made.headers["Location"], headers=headers).get_json()["id"] == body["id"]
    assert [m.to for m in mail.outbox] == [["new.person@example.org"]]
    assert [i["id"] for i in client.get(base, headers=headers).get_json()] == [body["id"]]
    again = client.post(base, json={"email": manager.email}, headers=headers)
    assert again.status_code == 409 and again.get_json()["code"] == "already_member"
    owner = client.post(base, json={"email": "boss@example.org", "role": "owner"}, headers=headers)
    assert owner.status_code == 403
    bad = client.post(base, json={"email": "not an email"}, headers=headers)
    assert bad.status_code == 422 and "email" in bad.get_json()["fields"]
    assert client.delete(f"{base}/{body['id']}", headers=headers).status_code == 204
    assert session.get(Invitation, body["id"]).revoked_at is not None
    assert client.get(base, headers=headers).get_json() == []


def test_invitation_doors_for_every_role(client, session):
    org = OrgFactory()
    for role in Role:
        user = member(org, role)
        invitation = InvitationFactory(org_id=org.id)
        login(client, user.email)
        page = client.post(f"/o/{org.slug}/invitations/{invitation.id}/revoke",
                           data={"csrf_token": csrf_token(client, "/account")})
        api_user = member(org, role)
        other = InvitationFactory(org_id=org.id)
        api = client.delete(f"/api/v1/orgs/{org.slug}/invitations/{other.id}", headers=_bearer(session, api_user))
        expected = "allowed" if role in (Role.OWNER, Role.MANAGER) else "forbidden"
        assert assert_same_door(page, api, role) == expected
        _sign_out(client)
