"""The managers' webhook pages, and the same answers as the API for every role."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from incubator.core.permissions import Role
from incubator.webhooks.models import WebhookDelivery, WebhookSubscription
from tests.conftest import csrf_token
from tests.doors import assert_same_door
from tests.factories import OrgFactory, member

SECRET_RE = re.compile(r'data-testid="webhook-secret">(whsec_[^<]+)<')


@pytest.fixture()
def org(session):
    return OrgFactory()


@pytest.fixture()
def manager(org):
    return member(org, Role.MANAGER)


def create_on_page(client, org, url, events=("booking.confirmed",), description=""):
    page = f"/o/{org.slug}/webhooks"
    return client.post(page, data={"url": url, "events": list(events), "description": description,
                                   "csrf_token": csrf_token(client, page)})


def test_a_manager_creates_a_webhook_and_sees_the_secret_once(client, sign_in, org, manager, receiver, session):
    sign_in(manager)
    assert client.get(f"/o/{org.slug}/webhooks").status_code == 200
    answer = create_on_page(client, org, receiver.url + "/in", events=("booking.confirmed", "payment.refunded"),
                            description="Our CRM")
    assert answer.status_code == 200
    secret = SECRET_RE.search(answer.get_data(as_text=True)).group(1)
    subscription = session.execute(select(WebhookSubscription)).scalar_one()
    assert subscription.events == ["booking.confirmed", "payment.refunded"]
    assert subscription.description == "Our CRM" and subscription.created_by_id == manager.id
    assert secret not in subscription.secret_encrypted
    for path in (f"/o/{org.slug}/webhooks", f"/o/{org.slug}/webhooks/{subscription.id}"):
        text = client.get(path).get_data(as_text=True)
        assert secret not in text and subscription.url in text


def test_bad_input_typed_into_the_form_is_shown_beside_the_field(client, sign_in, org, manager, session):
    sign_in(manager)
    answer = create_on_page(client, org, "http//nope")
    assert answer.status_code == 422
    assert 'data-field="url"' in answer.get_data(as_text=True)
    no_events = create_on_page(client, org, "https://hooks.example.com/x", events=())
    assert no_events.status_code == 422
    assert "Choose at least one event." in no_events.get_data(as_text=True)
    forged = create_on_page(client, org, "https://hooks.example.com/x", events=("everything.exploded",))
    assert forged.status_code == 422
    assert session.execute(select(func.count()).select_from(WebhookSubscription)).scalar_one() == 0


def test_the_page_in_vietnamese(client, sign_in, org, manager, session):
    manager.locale = "vi"
    session.flush()
    sign_in(manager)
    text = client.get(f"/o/{org.slug}/webhooks").get_data(as_text=True)
    assert "Thêm webhook" in text and "Một lượt đặt chỗ được xác nhận" in text
    bad = create_on_page(client, org, "ftp://example.com").get_data(as_text=True)
    assert "Nhập một URL đầy đủ" in bad



def test_edit_pause_ping_send_again_and_delete(client, sign_in, org, manager, receiver, session):
    sign_in(manager)
    create_on_page(client, org, receiver.url)
    subscription = session.execute(select(WebhookSubscription)).scalar_one()
    detail = f"/o/{org.slug}/webhooks/{subscription.id}"

    edited = client.post(detail, data={"url": receiver.url + "/v2", "events": ["session.logged", "match.published"],
                                       "description": "", "version": subscription.version,
                                       "csrf_token": csrf_token(client, detail)})
    assert edited.status_code == 302
    session.refresh(subscription)
    assert subscription.url == receiver.url + "/v2"
    assert subscription.events == ["match.published", "session.logged"]
    stale = client.post(detail, data={"url": receiver.url + "/v3", "events": ["session.logged"],
                                      "version": subscription.version - 1, "csrf_token": csrf_token(client, detail)})
    assert stale.status_code == 422 and "Someone else changed this" in stale.get_data(as_text=True)
    session.refresh(subscription)
    assert subscription.url == receiver.url + "/v2"

    client.post(f"{detail}/pause", data={"csrf_token": csrf_token(client, detail)})
    session.refresh(subscription)
    assert subscription.paused
    assert "Resume" in client.get(detail).get_data(as_text=True)
    client.post(f"{detail}/resume", data={"csrf_token": csrf_token(client, detail)})
    session.refresh(subscription)
    assert not subscription.paused

    assert client.post(f"{detail}/ping", data={"csrf_token": csrf_token(client, detail)}).status_code == 302
    assert [r.path for r in receiver.requests] == ["/v2"]
    page = client.get(detail).get_data(as_text=True)
    assert "webhook.ping" in page and "Delivered" in page and "answer 200" in page
    delivery = session.execute(select(WebhookDelivery)).scalar_one()
    again = client.post(f"{detail}/deliveries/{delivery.id}/redeliver", data={"csrf_token": csrf_token(client, detail)})
    assert again.status_code == 302
    assert len(receiver.requests) == 2 and receiver.requests[0].body == receiver.requests[1].body
    assert "sent again" in client.get(detail).get_data(as_text=True)

    without_token = client.post(f"{detail}/delete")
    assert without_token.status_code == 400
    client.post(f"{detail}/delete", data={"csrf_token": csrf_token(client, detail)})
    assert client.get(detail).status_code == 404
    assert session.execute(select(func.count()).select_from(WebhookSubscription)).scalar_one() == 0


@pytest.mark.parametrize("role", [Role.OWNER, Role.MANAGER, Role.STAFF, Role.FOUNDER, Role.MENTOR, Role.FUNDER,
                                  Role.REVIEWER, None])
def test_page_and_api_answer_alike_for_every_role(client, session, org, manager, role, receiver):
    from incubator.accounts.services import create_api_token
    from tests.conftest import login
    from tests.factories import UserFactory

    with client.application.test_request_context():
        from incubator.webhooks import services

        subscription, _secret = services.create_subscription(session, org.id, url=receiver.url,
                                                             events=["booking.confirmed"])
    user = member(org, role) if role else UserFactory()  # None: signed in, not a member
    token, _record = create_api_token(session, user, "doors")
    session.flush()
    login(client, user.email)
    auth = {"Authorization": f"Bearer {token}"}
    api = f"/api/v1/orgs/{org.slug}/webhooks"
    expected = "allowed" if role in (Role.OWNER, Role.MANAGER) else ("hidden" if role is None else "forbidden")
    assert assert_same_door(client.get(f"/o/{org.slug}/webhooks"), client.get(api, headers=auth), "list") == expected
    assert assert_same_door(client.get(f"/o/{org.slug}/webhooks/{subscription.id}"),
                            client.get(f"{api}/{subscription.id}", headers=auth), "detail") == expected
    token_page = csrf_token(client, "/account")
    page_create = client.post(f"/o/{org.slug}/webhooks", data={"url": "ftp://x", "events": ["booking.confirmed"],
                                                               "csrf_token": token_page})
    api_create = client.post(api, json={"url": "ftp://x", "events": ["booking.confirmed"]}, headers=auth)
    assert assert_same_door(page_create, api_create, "create") == expected
    page_ping = client.post(f"/o/{org.slug}/webhooks/{subscription.id}/ping", data={"csrf_token": token_page})
    api_ping = client.post(f"{api}/{subscription.id}/ping", headers=auth)
    assert assert_same_door(page_ping, api_ping, "ping") == expected
    sent = 2 if expected == "allowed" else 0
    assert len(receiver.requests) == sent


def test_another_organisations_webhook_is_not_found(client, sign_in, org, manager, receiver, session):
    sign_in(manager)
    create_on_page(client, org, receiver.url)
    subscription = session.execute(select(WebhookSubscription)).scalar_one()
    other = OrgFactory()
    member(other, Role.OWNER, email="owner@other.example")
    other_manager = member(other, Role.MANAGER)
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/account")})
    sign_in(other_manager)
    assert client.get(f"/o/{other.slug}/webhooks/{subscription.id}").status_code == 404
    assert client.get(f"/o/{org.slug}/webhooks").status_code == 404
    token = csrf_token(client, f"/o/{other.slug}/webhooks")
    assert client.post(f"/o/{other.slug}/webhooks/{subscription.id}/ping",
                       data={"csrf_token": token}).status_code == 404
    assert receiver.requests == []


def test_creating_the_same_url_twice_on_the_page_says_so(client, sign_in, org, manager, receiver, session):
    sign_in(manager)
    assert create_on_page(client, org, receiver.url).status_code == 200
    again = create_on_page(client, org, receiver.url)
    assert again.status_code == 422
    assert "A webhook for this URL exists already." in again.get_data(as_text=True)
    assert session.execute(select(func.count()).select_from(WebhookSubscription)).scalar_one() == 1
