"""The organisation's Stripe account over the API (#13): PUT /payment-account is the twin of
POST /o/<org>/manage/payments/account (the same service, checks and permission), GET reads it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from incubator.accounts.services import create_api_token
from incubator.core.permissions import Permission, Role, role_has
from incubator.payments.models import PaymentAccount
from tests.conftest import csrf_token, login
from tests.doors import assert_same_door
from tests.factories import OrgFactory, member


def _headers(session, user) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_api_token(session, user, 't')[0]}"}


def _accounts(session, org) -> list[str]:
    return list(session.scalars(select(PaymentAccount.stripe_account_id).where(PaymentAccount.org_id == org.id)
                                .execution_options(all_orgs=True)))


def test_put_connects_then_replaces_and_get_reads(client, session):
    org = OrgFactory()
    headers = _headers(session, member(org, Role.MANAGER))
    url = f"/api/v1/orgs/{org.slug}/payment-account"
    assert client.get(url, headers=headers).status_code == 404
    put = client.put(url, json={"stripe_account_id": " acct_1Abc "}, headers=headers)
    assert put.status_code == 200, put.get_json()
    assert put.get_json()["stripe_account_id"] == "acct_1Abc" and put.get_json()["connected_at"]
    assert client.put(url, json={"stripe_account_id": "acct_2Xyz"}, headers=headers).status_code == 200
    assert client.get(url, headers=headers).get_json()["stripe_account_id"] == "acct_2Xyz"
    assert _accounts(session, org) == ["acct_2Xyz"]


def test_bad_ids_are_422_naming_the_field_and_change_nothing(client, session):
    org = OrgFactory()
    headers = _headers(session, member(org, Role.MANAGER))
    url = f"/api/v1/orgs/{org.slug}/payment-account"
    client.put(url, json={"stripe_account_id": "acct_1Abc"}, headers=headers)
    for body in ({"stripe_account_id": "sk_live_x"}, {"stripe_account_id": "acct_"}, {"stripe_account_id": ""},
                 {"stripe_account_id": "acct_" + "a" * 80}, {"stripe_account_id": "acct_1 2"},
                 {"stripe_account_id": 7}, {}):
        answer = client.put(url, json=body, headers=headers)
        assert answer.status_code == 422, body
        assert "stripe_account_id" in answer.get_json()["fields"], body
    assert _accounts(session, org) == ["acct_1Abc"]


def test_another_org_is_404(client, session):
    org, other = OrgFactory(), OrgFactory()
    outsider = _headers(session, member(other, Role.OWNER))
    url = f"/api/v1/orgs/{org.slug}/payment-account"
    assert client.put(url, json={"stripe_account_id": "acct_1Abc"}, headers=outsider).status_code == 404
    assert client.get(url, headers=outsider).status_code == 404
    assert _accounts(session, org) == []


@pytest.mark.parametrize("role", list(Role))
def test_same_door_for_every_role(client, session, role):
    org = OrgFactory()
    user = member(org, role)
    login(client, user.email)
    page = client.post(f"/o/{org.slug}/manage/payments/account",
                       data={"csrf_token": csrf_token(client, "/account"), "stripe_account_id": "acct_1Page"})
    api = client.put(f"/api/v1/orgs/{org.slug}/payment-account", json={"stripe_account_id": "acct_1Api"},
                     headers=_headers(session, user))
    expected = "allowed" if role_has(role, Permission.MANAGE_PAYMENTS) else "forbidden"
    assert assert_same_door(page, api, str(role)) == expected
    assert _accounts(session, org) == (["acct_1Api"] if expected == "allowed" else [])


def test_same_door_for_a_stranger(client, session):
    org = OrgFactory()
    stranger = member(OrgFactory(), Role.OWNER)
    login(client, stranger.email)
    page = client.post(f"/o/{org.slug}/manage/payments/account",
                       data={"csrf_token": csrf_token(client, "/account"), "stripe_account_id": "acct_1Page"})
    api = client.put(f"/api/v1/orgs/{org.slug}/payment-account", json={"stripe_account_id": "acct_1Api"},
                     headers=_headers(session, stranger))
    assert assert_same_door(page, api, "stranger") == "hidden"
