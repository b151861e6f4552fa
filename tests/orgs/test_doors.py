"""Same door (#13): every organisation API operation and its page answer each kind of caller alike.

The organisation itself and its settings, its members, invitations and service tokens, and the
platform's administration (``/admin`` and ``/api/v1/admin``): for each operation the page that does
the same thing is called by the same person, and both answers must fall in the same class
(``tests.doors.answer_class``), the one the table says. (Webhooks are a domain of their own:
``tests/webhooks``.)
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from incubator.core.permissions import Role
from incubator.orgs.models import Membership
from incubator.orgs.services import create_service_token
from tests.doors import MEMBER_ROLES, ROLES, Door, documented, expect, person, walk
from tests.factories import InvitationFactory, OrgFactory, UserFactory, member

MEMBERS = ("owner", "manager")  # MANAGE_MEMBERS and MANAGE_ORG
PLATFORM = {**dict.fromkeys(ROLES, "forbidden"), "admin": "allowed", "anonymous": "login"}  # platform admins only


@pytest.fixture()
def scene(app, session, world) -> dict[str, Any]:
    """Two members and two invitations and two service tokens of bbi: one to change or remove
    through each door."""
    org = world.org
    people = [member(org, Role.REVIEWER), member(org, Role.MENTOR), member(org, Role.MENTOR)]
    memberships = [session.execute(select(Membership.id).where(Membership.org_id == org.id,
                                                               Membership.user_id == p.id)).scalar_one()
                   for p in people]
    invitations = [InvitationFactory(org_id=org.id) for _ in range(2)]
    manager = session.execute(select(Membership).where(Membership.org_id == org.id,
                                                       Membership.user_id == world.manager.id)).scalar_one()
    with app.test_request_context():
        tokens = [create_service_token(session, org, manager, name=f"Importer {n}", role="staff", scopes=["read"],
                                       expires_at=None)[1] for n in (1, 2)]
    other = OrgFactory(slug="other-lab", name="Other lab")  # what the platform admin's rows act on
    target = UserFactory()
    session.flush()
    return {"admin_org": other.slug, "target_user": target.id,
            "membership_id": memberships[0], "page_member": memberships[1], "api_member": memberships[2],
            "page_invitation": invitations[0].id, "invitation_id": invitations[1].id,
            "page_token": tokens[0].id, "api_token_id": tokens[1].id}


def doors() -> list[Door]:
    settings = {"name": "BBI", "timezone": "Asia/Ho_Chi_Minh", "currency": "VND", "default_locale": "vi"}
    manage = expect(MEMBERS)
    token_form = {"name": "Door token", "role": "staff", "scopes": ["read"], "expires_in": "30"}
    new_org = {"slug": "door-org", "name": "Door org", "owner_email": "door-owner@example.org"}
    return [
        Door("get organisation", ("GET", "", None), ("GET", "/", None), expect(MEMBER_ROLES)),
        Door("change settings", ("PATCH", "", {"name": "BBI"}), ("POST", "/settings", settings), manage),
        Door("list members", ("GET", "/members", None), ("GET", "/members", None), manage),
        Door("change role", ("PATCH", "/members/{membership_id}", {"role": "mentor"}),
             ("POST", "/members/{membership_id}/role", {"role": "mentor"}), manage),
        Door("remove member", ("DELETE", "/members/{api_member}", None), ("POST", "/members/{page_member}/remove", {}),
             manage),
        Door("list invitations", ("GET", "/invitations", None), ("GET", "/members", None), manage),
        Door("get invitation", ("GET", "/invitations/{invitation_id}", None), ("GET", "/members", None), manage),
        Door("invite", ("POST", "/invitations", {"email": "door@example.org", "role": "staff"}),
             ("POST", "/members/invite", {"email": "door2@example.org", "role": "staff"}), manage),
        Door("revoke invitation", ("DELETE", "/invitations/{invitation_id}", None),
             ("POST", "/invitations/{page_invitation}/revoke", {}), manage),
        Door("list service tokens", ("GET", "/service-tokens", None), ("GET", "/service-tokens", None), manage),
        Door("get service token", ("GET", "/service-tokens/{api_token_id}", None), ("GET", "/service-tokens", None),
             manage),
        Door("create service token", ("POST", "/service-tokens", {"name": "Door token", "role": "staff"}),
             ("POST", "/service-tokens", token_form), manage),
        Door("revoke service token", ("DELETE", "/service-tokens/{api_token_id}", None),
             ("POST", "/service-tokens/{page_token}/revoke", {}), manage),
        # The platform's administration: not an organisation's, so a member of bbi is no one there.
        Door("list organisations", ("GET", "/api/v1/admin/orgs", None), ("GET", "/admin/", None), PLATFORM),
        Door("create organisation", ("POST", "/api/v1/admin/orgs", new_org),
             ("POST", "/admin/orgs/new", {**new_org, "slug": "door-org-2", "kind": "incubator",
                                          "timezone": "Asia/Ho_Chi_Minh", "currency": "VND",
                                          "default_locale": "vi"}), PLATFORM),
        Door("get organisation (admin)", ("GET", "/api/v1/admin/orgs/{admin_org}", None),
             ("GET", "/admin/orgs/{admin_org}", None), PLATFORM),
        Door("edit organisation (admin)", ("PATCH", "/api/v1/admin/orgs/{admin_org}", {"name": "Other lab"}),
             ("POST", "/admin/orgs/{admin_org}", {**settings, "name": "Other lab", "slug": "other-lab",
                                                  "kind": "incubator"}), PLATFORM),
        Door("suspend organisation", ("POST", "/api/v1/admin/orgs/{admin_org}/suspend", None),
             ("POST", "/admin/orgs/{admin_org}/suspend", {}), PLATFORM),
        Door("lift suspension", ("POST", "/api/v1/admin/orgs/{admin_org}/unsuspend", None),
             ("POST", "/admin/orgs/{admin_org}/unsuspend", {}), PLATFORM),
        Door("delete organisation, mistyped", ("DELETE", "/api/v1/admin/orgs/{admin_org}?confirm=x", None),
             ("POST", "/admin/orgs/{admin_org}/delete", {"delete-confirm": "x"}), PLATFORM),
        Door("list users", ("GET", "/api/v1/admin/users", None), ("GET", "/admin/users", None), PLATFORM),
        Door("reset access", ("POST", "/api/v1/admin/users/{target_user}/reset-access", None),
             ("POST", "/admin/users/{target_user}/reset-access", {}), PLATFORM),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_every_organisation_operation_answers_alike_through_the_page_and_the_api(app, session, world, scene,
                                                                                 role):
    wrong = walk(app, session, role, person(world, role), doors(), scene)
    assert not wrong, f"{role}: {wrong}"


def test_the_table_walks_every_organisation_and_admin_operation_of_the_document(app):
    """An organisation or platform operation added to the API without a row here fails this test."""
    walked = {door.operation for door in doors()}
    assert walked == documented(app, {"api_orgs", "api_admin"}), \
        sorted(documented(app, {"api_orgs", "api_admin"}) ^ walked)
    assert all(door.page is not None for door in doors())
