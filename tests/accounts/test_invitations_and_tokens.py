from __future__ import annotations

import re

from sqlalchemy import select

from incubator.accounts.models import ApiToken, User
from incubator.core import mail
from incubator.core.permissions import Role
from incubator.orgs.models import Invitation, Membership
from tests.conftest import csrf_token, login
from tests.factories import OrgFactory, UserFactory, member


def _invite(client, org, email, role="mentor"):
    token = csrf_token(client, f"/o/{org.slug}/members")
    return client.post(f"/o/{org.slug}/members/invite", data={"email": email, "role": role, "csrf_token": token})


def _link_from_mail() -> str:
    match = re.search(r"http://localhost(/auth/invitations/\S+)", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(1)


def test_a_manager_invites_by_email_and_a_newcomer_joins_with_the_role(client, session):
    org = OrgFactory(name="Becamex Business Incubator")
    manager = member(org, Role.MANAGER)
    login(client, manager.email)
    assert _invite(client, org, "New.Mentor@Example.org").status_code == 302
    assert mail.outbox[-1].to == ["new.mentor@example.org"]
    assert "Becamex Business Incubator" in mail.outbox[-1].subject or "Becamex" in mail.outbox[-1].body
    link = _link_from_mail()
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/account")})

    page = client.get(link)
    assert page.status_code == 200
    register_url = re.search(r'href="(/auth/register\?invitation=[^"]+)"', page.get_data(as_text=True)).group(1)
    register_page = client.get(register_url)
    assert 'value="new.mentor@example.org"' in register_page.get_data(as_text=True)
    response = client.post(register_url, data={
        "name": "Mentor Mới", "email": "new.mentor@example.org", "password": "mentor passphrase 1",
        "confirm": "mentor passphrase 1", "csrf_token": csrf_token(client, register_url)})
    # Registering signs no one in (it answers alike whether or not the address has an account): the
    # newcomer signs in and is taken back to the invitation, whose mailed link proves the address.
    sign_in_url = response.headers["Location"]
    assert sign_in_url.startswith("/auth/login?next=")
    response = client.post(sign_in_url, data={"email": "new.mentor@example.org", "password": "mentor passphrase 1",
                                              "csrf_token": csrf_token(client, sign_in_url)})
    assert response.headers["Location"] == link
    response = client.post(link, data={"csrf_token": csrf_token(client, link)})
    assert response.headers["Location"].endswith(f"/o/{org.slug}/")
    role = session.execute(
        select(Membership.role).join(Membership.user).where(Membership.org_id == org.id,
                                                            Membership.user.has(email="new.mentor@example.org"))
    ).scalar_one()
    assert role == Role.MENTOR
    newcomer = session.execute(select(User).where(User.email == "new.mentor@example.org")).scalar_one()
    assert newcomer.email_verified_at is not None  # accepting by the mailed link verified the address
    assert client.get(f"/o/{org.slug}/").status_code == 200
    # The link is used up.
    assert client.get(link).status_code == 302


def test_an_invitation_for_someone_else_is_refused(client, session):
    org = OrgFactory()
    manager = member(org, Role.MANAGER)
    login(client, manager.email)
    _invite(client, org, "invitee@example.org")
    link = _link_from_mail()
    intruder = UserFactory()
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/account")})
    login(client, intruder.email)
    client.post(link, data={"csrf_token": csrf_token(client, link)})
    assert session.execute(select(Membership).where(Membership.user_id == intruder.id)).first() is None


def test_inviting_an_existing_member_is_a_field_error(client, session):
    org = OrgFactory()
    manager = member(org, Role.MANAGER)
    founder = member(org, Role.FOUNDER)
    login(client, manager.email)
    response = _invite(client, org, founder.email)
    assert response.status_code == 422
    assert re.search(r'data-field="email">[^<]*already a member', response.get_data(as_text=True))
    assert session.execute(select(Invitation).where(Invitation.email == founder.email)).first() is None
    assert mail.outbox == []


def test_a_manager_cannot_invite_an_owner(client, session):
    org = OrgFactory()
    manager = member(org, Role.MANAGER)
    login(client, manager.email)
    _invite(client, org, "boss@example.org", role="owner")
    assert session.execute(select(Invitation).where(Invitation.email == "boss@example.org")).first() is None


def test_revoked_invitation_no_longer_works(client, session):
    org = OrgFactory()
    manager = member(org, Role.MANAGER)
    login(client, manager.email)
    _invite(client, org, "late@example.org")
    link = _link_from_mail()
    invitation = session.execute(select(Invitation).where(Invitation.email == "late@example.org")).scalar_one()
    token = csrf_token(client, f"/o/{org.slug}/members")
    client.post(f"/o/{org.slug}/invitations/{invitation.id}/revoke", data={"csrf_token": token})
    assert client.get(link).status_code == 302


def test_api_token_is_shown_once_stored_hashed_and_revocable(client, session):
    user = UserFactory()
    login(client, user.email)
    response = client.post("/account/tokens", data={"name": "reporting script", "scopes": ["read", "write"],
                                                    "expires_in": "never",
                                                    "csrf_token": csrf_token(client, "/account/tokens")})
    token = re.search(r'data-testid="new-token">([^<]+)<', response.get_data(as_text=True)).group(1)
    record = session.execute(select(ApiToken).where(ApiToken.user_id == user.id)).scalar_one()
    assert record.token_hash != token and token not in record.token_hash
    assert token not in client.get("/account/tokens").get_data(as_text=True)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    client.post(f"/account/tokens/{record.id}/revoke", data={"csrf_token": csrf_token(client, "/account/tokens")})
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_someone_elses_token_cannot_be_revoked(client, session):
    owner, other = UserFactory(), UserFactory()
    from incubator.accounts.services import create_api_token

    _token, record = create_api_token(session, owner, "mine")
    session.flush()
    login(client, other.email)
    response = client.post(f"/account/tokens/{record.id}/revoke",
                           data={"csrf_token": csrf_token(client, "/account/tokens")})
    assert response.status_code == 404
    session.refresh(record)
    assert record.revoked_at is None
