"""Webhooks over the API, delivered for real to a local HTTP server by the delivery job."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from incubator.core.permissions import Role
from incubator.webhooks import services, tasks
from incubator.webhooks.models import DeliveryAttempt, OutboxEvent, WebhookDelivery, WebhookSubscription
from tests.factories import OrgFactory, member

EVENTS = ["booking.confirmed", "payment.succeeded"]


def independent_signature(secret: str, header: str, body: bytes) -> bool:
    """The receiver's check, written from the README's description and nothing of the app."""
    parts = dict(p.split("=", 1) for p in header.split(","))
    expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"]) and abs(time.time() - int(parts["t"])) < 300


@pytest.fixture()
def org(session):
    return OrgFactory()


@pytest.fixture()
def manager(org):
    return member(org, Role.MANAGER)


def create(api, manager, org, url, events=EVENTS, **extra):
    return api(manager, "POST", f"/api/v1/orgs/{org.slug}/webhooks", json={"url": url, "events": events, **extra})


def test_create_answers_the_secret_once_and_a_ping_arrives_signed(api, manager, org, receiver, session):
    created = create(api, manager, org, receiver.url + "/hooks?x=1")
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    secret = body["secret"]
    assert secret.startswith("whsec_") and len(secret) > 40
    assert created.headers["Location"].endswith(f"/api/v1/orgs/{org.slug}/webhooks/{body['id']}")
    assert body["events"] == EVENTS and body["paused"] is False

    # the secret is never answered again, and is not stored in clear
    for path in (f"/api/v1/orgs/{org.slug}/webhooks", f"/api/v1/orgs/{org.slug}/webhooks/{body['id']}"):
        answer = api(manager, "GET", path)
        assert answer.status_code == 200
        assert secret not in answer.get_data(as_text=True)
        assert "secret" not in json.dumps(answer.get_json()).replace("secret_hint", "")
    stored = session.get(WebhookSubscription, body["id"])
    assert secret not in stored.secret_encrypted

    ping = api(manager, "POST", f"/api/v1/orgs/{org.slug}/webhooks/{body['id']}/ping")
    assert ping.status_code == 202
    assert len(receiver.requests) == 1
    got = receiver.requests[0]
    assert got.path == "/hooks?x=1"
    assert got.headers["Content-Type"] == "application/json"
    assert independent_signature(secret, got.headers["Webhook-Signature"], got.body)
    assert not independent_signature("whsec_wrong", got.headers["Webhook-Signature"], got.body)
    payload = got.json
    assert set(payload) == {"id", "type", "created", "data"}
    assert payload["type"] == "webhook.ping" and payload["id"].startswith("evt_")
    assert abs(payload["created"] - time.time()) < 60

    log = api(manager, "GET", f"/api/v1/orgs/{org.slug}/webhooks/{body['id']}/deliveries")
    assert log.status_code == 200
    assert json.loads(log.headers["X-Pagination"])["total"] == 1
    [entry] = log.get_json()
    assert entry["status"] == "succeeded" and entry["event_id"] == payload["id"]
    assert entry["attempts"][0]["status_code"] == 200
    assert entry["attempts"][0]["response_body"] == "answer 200"
    assert entry["attempts"][0]["duration_ms"] >= 0


def test_an_event_reaches_every_subscription_that_wants_it(app, api, manager, org, receiver, session):
    first = create(api, manager, org, receiver.url + "/a", events=["booking.confirmed"]).get_json()
    create(api, manager, org, receiver.url + "/b", events=["payment.refunded"])
    paused = create(api, manager, org, receiver.url + "/c", events=["booking.confirmed"]).get_json()
    api(manager, "PATCH", f"/api/v1/orgs/{org.slug}/webhooks/{paused['id']}", json={"paused": True})
    other_org = OrgFactory()
    with app.app_context():
        services.emit(session, org.id, "booking.confirmed", {"booking_id": 7, "status": "confirmed"})
        services.emit(session, other_org.id, "booking.confirmed", {"booking_id": 8})
        session.commit()
    assert [r.path for r in receiver.requests] == ["/a"]
    sent = receiver.requests[0].json
    assert sent["data"] == {"booking_id": 7, "status": "confirmed"}
    assert independent_signature(first["secret"], receiver.requests[0].headers["Webhook-Signature"],
                                 receiver.requests[0].body)


def test_a_failing_endpoint_is_retried_with_backoff_and_logged(app, api, manager, org, receiver, session, clock):
    receiver.answers = [500, 503, 200]
    hook = create(api, manager, org, receiver.url).get_json()
    with app.app_context():
        services.emit(session, org.id, "payment.succeeded", {"payment_id": 1, "amount": 200000, "currency": "VND"})
        session.commit()
    delivery = session.execute(select(WebhookDelivery)).scalar_one()
    session.refresh(delivery)
    assert delivery.status == "pending" and delivery.last_status_code == 500
    assert delivery.next_attempt_at == clock.now + timedelta(minutes=1)

    with app.app_context():
        assert tasks.sweep_deliveries.call_local() == 0  # not due yet: nothing sent
    assert len(receiver.requests) == 1
    clock.advance(minutes=1)
    with app.app_context():
        assert tasks.sweep_deliveries.call_local() == 1
    session.refresh(delivery)
    assert delivery.last_status_code == 503
    assert delivery.next_attempt_at == clock.now + timedelta(minutes=2)  # doubled
    clock.advance(minutes=2)
    with app.app_context():
        tasks.sweep_deliveries.call_local()
    session.refresh(delivery)
    assert delivery.status == "succeeded" and delivery.attempt_count == 3
    assert len(receiver.requests) == 3
    assert len({r.body for r in receiver.requests}) == 1  # the same bytes every time
    assert all(independent_signature(hook["secret"], r.headers["Webhook-Signature"], r.body)
               for r in receiver.requests)
    log = api(manager, "GET", f"/api/v1/orgs/{org.slug}/webhooks/{hook['id']}/deliveries").get_json()
    assert [a["status_code"] for a in log[0]["attempts"]] == [500, 503, 200]
    assert log[0]["attempts"][0]["response_body"] == "answer 500"


def test_after_24_hours_of_failures_the_delivery_fails(app, api, manager, org, receiver, session, clock):
    receiver.answers = [500]
    create(api, manager, org, receiver.url)
    started = clock.now
    with app.app_context():
        services.emit(session, org.id, "booking.confirmed", {"booking_id": 3})
        session.commit()
    delivery = session.execute(select(WebhookDelivery)).scalar_one()
    times = [0.0]
    for _ in range(30):
        session.refresh(delivery)
        if delivery.status != "pending":
            break
        clock.now = delivery.next_attempt_at
        times.append((clock.now - started).total_seconds() / 60)
        with app.app_context():
            tasks.sweep_deliveries.call_local()
    session.refresh(delivery)
    assert delivery.status == "failed"
    assert times == [0, 1, 3, 7, 15, 31, 63, 127, 255, 511, 871, 1231, 1440]  # minutes; at most 6 h apart
    assert delivery.attempt_count == len(times) == len(receiver.requests)
    attempts = session.execute(select(func.count()).select_from(DeliveryAttempt)).scalar_one()
    assert attempts == len(times)
    clock.advance(days=2)
    with app.app_context():
        assert tasks.sweep_deliveries.call_local() == 0


def test_a_timeout_and_a_redirect_are_failures_and_logged(app, api, manager, org, receiver, session, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_TIMEOUT_SECONDS", 0.3)
    receiver.delay = 1.0
    hook = create(api, manager, org, receiver.url).get_json()
    started = time.monotonic()
    api(manager, "POST", f"/api/v1/orgs/{org.slug}/webhooks/{hook['id']}/ping")
    assert time.monotonic() - started < 1.0  # did not wait for the slow answer
    [entry] = api(manager, "GET", f"/api/v1/orgs/{org.slug}/webhooks/{hook['id']}/deliveries").get_json()
    assert entry["status"] == "pending" and entry["attempts"][0]["status_code"] is None
    assert "timed out" in entry["attempts"][0]["error"]

    receiver.delay, receiver.answers = 0.0, [302]
    api(manager, "POST", f"/api/v1/orgs/{org.slug}/webhooks/{hook['id']}/ping")
    newest = api(manager, "GET", f"/api/v1/orgs/{org.slug}/webhooks/{hook['id']}/deliveries").get_json()[0]
    assert newest["status"] == "pending" and newest["last_status_code"] == 302
    assert newest["attempts"][0]["error"] == "redirect not followed"
    assert not any(r.path == "/elsewhere" for r in receiver.requests)


def test_send_again_delivers_the_same_event_again(api, manager, org, receiver, session):
    hook = create(api, manager, org, receiver.url).get_json()
    api(manager, "POST", f"/api/v1/orgs/{org.slug}/webhooks/{hook['id']}/ping")
    [entry] = api(manager, "GET", f"/api/v1/orgs/{org.slug}/webhooks/{hook['id']}/deliveries").get_json()
    again = api(manager, "POST", f"/api/v1/orgs/{org.slug}/webhooks/{hook['id']}/deliveries/{entry['id']}/redeliver")
    assert again.status_code == 202, again.get_json()
    assert len(receiver.requests) == 2
    assert receiver.requests[0].body == receiver.requests[1].body
    assert independent_signature(hook["secret"], receiver.requests[1].headers["Webhook-Signature"],
                                 receiver.requests[1].body)
    [entry] = api(manager, "GET", f"/api/v1/orgs/{org.slug}/webhooks/{hook['id']}/deliveries").get_json()
    assert [a["manual"] for a in entry["attempts"]] == [True, True]
    assert entry["attempt_count"] == 2 and entry["status"] == "succeeded"
    # another webhook's delivery id is not found under this one
    other = create(api, manager, org, receiver.url + "/other").get_json()
    wrong = api(manager, "POST", f"/api/v1/orgs/{org.slug}/webhooks/{other['id']}/deliveries/{entry['id']}/redeliver")
    assert wrong.status_code == 404


def test_send_again_while_queued_is_a_conflict(app, api, manager, org, receiver, session, monkeypatch):
    hook = create(api, manager, org, receiver.url).get_json()
    monkeypatch.setattr(tasks, "deliver", lambda _id: None)  # the worker is not running
    with app.app_context():
        services.emit(session, org.id, "booking.confirmed", {"booking_id": 1})
        session.commit()
    delivery = session.execute(select(WebhookDelivery)).scalar_one()
    again = api(manager, "POST", f"/api/v1/orgs/{org.slug}/webhooks/{hook['id']}/deliveries/{delivery.id}/redeliver")
    assert again.status_code == 409 and again.get_json()["code"] == "delivery_queued"
    assert receiver.requests == []


def test_a_rolled_back_change_sends_nothing(app, api, manager, org, receiver, session):
    from incubator.core.actions import savepoint
    from incubator.core.errors import DomainError

    create(api, manager, org, receiver.url)
    with app.app_context():
        with pytest.raises(DomainError), savepoint(session):
            services.emit(session, org.id, "booking.confirmed", {"checkin_id": 1})
            raise DomainError("refused after the event")
        session.commit()
        services.emit(session, org.id, "booking.confirmed", {"checkin_id": 2})
        session.rollback()
        session.commit()
    assert receiver.requests == []
    assert session.execute(select(func.count()).select_from(OutboxEvent)).scalar_one() == 0
    assert session.execute(select(func.count()).select_from(WebhookDelivery)).scalar_one() == 0


def test_a_committed_event_survives_a_worker_that_was_not_running(app, api, manager, org, receiver, session,
                                                                   monkeypatch):
    hook = create(api, manager, org, receiver.url).get_json()

    def queue_down(_delivery_id):
        raise ConnectionError("the job queue is unreachable")

    with monkeypatch.context() as patched:
        patched.setattr(tasks, "deliver", queue_down)
        with app.app_context():
            services.emit(session, org.id, "payment.succeeded", {"payment_id": 5})
            session.commit()  # the change commits all the same
    assert receiver.requests == []
    assert session.execute(select(WebhookDelivery.status)).scalar_one() == "pending"
    with app.app_context():
        assert tasks.sweep_deliveries.call_local() == 1  # what the worker runs every minute once it is back
    assert len(receiver.requests) == 1
    assert receiver.requests[0].json["type"] == "payment.succeeded"
    assert independent_signature(hook["secret"], receiver.requests[0].headers["Webhook-Signature"],
                                 receiver.requests[0].body)
    with app.app_context():
        assert tasks.sweep_deliveries.call_local() == 0  # sent once


def test_paused_webhooks_receive_nothing_until_resumed(app, api, manager, org, receiver, session):
    hook = create(api, manager, org, receiver.url).get_json()
    path = f"/api/v1/orgs/{org.slug}/webhooks/{hook['id']}"
    assert api(manager, "PATCH", path, json={"paused": True}).get_json()["paused"] is True
    with app.app_context():
        services.emit(session, org.id, "booking.confirmed", {"booking_id": 1})
        session.commit()
    assert receiver.requests == []
    api(manager, "PATCH", path, json={"paused": False})
    with app.app_context():
        services.emit(session, org.id, "booking.confirmed", {"booking_id": 2})
        session.commit()
    assert [r.json["data"]["booking_id"] for r in receiver.requests] == [2]


def test_patch_changes_only_what_it_names_and_honours_if_match(api, manager, org, receiver):
    hook = create(api, manager, org, receiver.url, description="CRM").get_json()
    path = f"/api/v1/orgs/{org.slug}/webhooks/{hook['id']}"
    etag = api(manager, "GET", path).headers["ETag"]
    changed = api(manager, "PATCH", path, json={"events": ["session.logged"]}, headers={"If-Match": etag})
    assert changed.status_code == 200
    body = changed.get_json()
    assert body["events"] == ["session.logged"] and body["url"] == receiver.url and body["description"] == "CRM"
    stale = api(manager, "PATCH", path, json={"url": receiver.url + "/new"}, headers={"If-Match": etag})
    assert stale.status_code == 412 and stale.get_json()["code"] == "stale"
    assert api(manager, "GET", path).get_json()["url"] == receiver.url
    assert api(manager, "DELETE", path).status_code == 204
    assert api(manager, "GET", path).status_code == 404


@pytest.mark.parametrize(("payload", "field"), [
    ({"url": "ftp://example.com/x", "events": EVENTS}, "url"),
    ({"url": "not a url", "events": EVENTS}, "url"),
    ({"url": "https://user:pw@example.com/hook", "events": EVENTS}, "url"),
    ({"url": "https://example.com/" + "x" * 2100, "events": EVENTS}, "url"),
    ({"url": 42, "events": EVENTS}, "url"),
    ({"url": "https://example.com/hook", "events": []}, "events"),
    ({"url": "https://example.com/hook", "events": ["booking.exploded"]}, "events"),
    ({"url": "https://example.com/hook", "events": "booking.confirmed"}, "events"),
    ({"url": "https://example.com/hook", "events": [1, 2]}, "events"),
    ({"events": EVENTS}, "url"),
])
def test_bad_input_is_422_with_fields_and_writes_nothing(api, manager, org, session, payload, field):
    answer = api(manager, "POST", f"/api/v1/orgs/{org.slug}/webhooks", json=payload)
    assert answer.status_code == 422, answer.get_json()
    assert field in answer.get_json()["fields"]
    assert session.execute(select(func.count()).select_from(WebhookSubscription)).scalar_one() == 0


def test_patch_with_a_bad_url_changes_nothing(api, manager, org, receiver):
    hook = create(api, manager, org, receiver.url).get_json()
    path = f"/api/v1/orgs/{org.slug}/webhooks/{hook['id']}"
    bad = api(manager, "PATCH", path, json={"url": "javascript:alert(1)", "events": ["session.logged"]})
    assert bad.status_code == 422 and "url" in bad.get_json()["fields"]
    assert api(manager, "GET", path).get_json()["events"] == EVENTS


@pytest.mark.parametrize("role", [Role.STAFF, Role.FOUNDER, Role.MENTOR, Role.FUNDER, Role.REVIEWER])
def test_only_managers_manage_webhooks(api, manager, org, receiver, role):
    hook = create(api, manager, org, receiver.url).get_json()
    someone = member(org, role)
    base = f"/api/v1/orgs/{org.slug}/webhooks"
    for method, path, body in (("GET", base, None), ("POST", base, {"url": receiver.url, "events": EVENTS}),
                               ("GET", f"{base}/{hook['id']}", None),
                               ("PATCH", f"{base}/{hook['id']}", {"paused": True}),
                               ("DELETE", f"{base}/{hook['id']}", None),
                               ("GET", f"{base}/{hook['id']}/deliveries", None),
                               ("POST", f"{base}/{hook['id']}/ping", None)):
        answer = api(someone, method, path, json=body)
        assert answer.status_code == 403, (method, path, answer.status_code)
    assert receiver.requests == []


def test_another_organisation_sees_nothing(api, manager, org, receiver):
    hook = create(api, manager, org, receiver.url).get_json()
    other = OrgFactory()
    outsider = member(other, Role.OWNER)
    assert api(outsider, "GET", f"/api/v1/orgs/{org.slug}/webhooks").status_code == 404
    assert api(outsider, "GET", f"/api/v1/orgs/{other.slug}/webhooks/{hook['id']}").status_code == 404
    assert api(outsider, "POST", f"/api/v1/orgs/{other.slug}/webhooks/{hook['id']}/ping").status_code == 404
    assert api(outsider, "GET", f"/api/v1/orgs/{other.slug}/webhooks").get_json() == []
    assert receiver.requests == []


def test_a_deleted_webhook_takes_its_log_and_is_not_sent_to(app, api, manager, org, receiver, session, monkeypatch):
    hook = create(api, manager, org, receiver.url).get_json()
    monkeypatch.setattr(tasks, "deliver", lambda _id: None)  # queued, not yet sent
    with app.app_context():
        services.emit(session, org.id, "booking.confirmed", {"booking_id": 1})
        session.commit()
    assert api(manager, "DELETE", f"/api/v1/orgs/{org.slug}/webhooks/{hook['id']}").status_code == 204
    monkeypatch.undo()
    with app.app_context():
        assert tasks.sweep_deliveries.call_local() == 0
    assert receiver.requests == []
    assert session.execute(select(func.count()).select_from(WebhookDelivery)).scalar_one() == 0


def test_a_page_far_past_the_end_is_empty_not_an_error(api, manager, org, receiver, client, sign_in):
    hook = create(api, manager, org, receiver.url).get_json()
    answer = api(manager, "GET", f"/api/v1/orgs/{org.slug}/webhooks/{hook['id']}/deliveries?page={10**20}")
    assert answer.status_code == 200 and answer.get_json() == []
    assert json.loads(answer.headers["X-Pagination"])["total"] == 0
    listed = api(manager, "GET", f"/api/v1/orgs/{org.slug}/webhooks?page={10**20}")
    assert listed.status_code == 200 and listed.get_json() == []
    sign_in(manager)
    assert client.get(f"/o/{org.slug}/webhooks/{hook['id']}?page={10**20}").status_code == 200


def test_one_webhook_per_url(api, manager, org, receiver, session):
    first = create(api, manager, org, receiver.url + "/a").get_json()
    again = create(api, manager, org, receiver.url + "/a")
    assert again.status_code == 409 and again.get_json()["code"] == "webhook_exists"
    assert "url" in again.get_json()["fields"]
    second = create(api, manager, org, receiver.url + "/b").get_json()
    moved = api(manager, "PATCH", f"/api/v1/orgs/{org.slug}/webhooks/{second['id']}", json={"url": receiver.url + "/a"})
    assert moved.status_code == 409
    assert api(manager, "GET", f"/api/v1/orgs/{org.slug}/webhooks/{second['id']}").get_json()["url"] == \
        receiver.url + "/b"
    assert session.execute(select(func.count()).select_from(WebhookSubscription)).scalar_one() == 2
    other = OrgFactory()
    assert create(api, member(other, Role.MANAGER), other, receiver.url + "/a").status_code == 201  # per organisation
    assert first["id"]


def test_an_unexpected_error_while_sending_is_logged_and_retried(api, manager, org, receiver, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(tasks, "post", broken)
    hook = create(api, manager, org, receiver.url).get_json()
    assert api(manager, "POST", f"/api/v1/orgs/{org.slug}/webhooks/{hook['id']}/ping").status_code == 202
    [entry] = api(manager, "GET", f"/api/v1/orgs/{org.slug}/webhooks/{hook['id']}/deliveries").get_json()
    assert entry["status"] == "pending" and entry["attempts"][0]["error"] == "RuntimeError: boom"
    assert entry["next_attempt_at"] is not None


def test_old_events_are_pruned_with_their_log_but_not_while_pending(app, api, manager, org, receiver, session, clock,
                                                                   monkeypatch):
    create(api, manager, org, receiver.url)
    with app.app_context():
        services.emit(session, org.id, "booking.confirmed", {"booking_id": 1})  # delivered
        session.commit()
        monkeypatch.setattr(tasks, "deliver", lambda _id: None)
        services.emit(session, org.id, "booking.confirmed", {"booking_id": 2})  # still pending
        session.commit()
    clock.advance(days=91)
    with app.app_context():
        assert tasks.prune_old_events.call_local() == 1
    data = [json.loads(body)["data"]["booking_id"] for body in session.execute(select(OutboxEvent.body)).scalars()]
    assert data == [2]
    assert session.execute(select(func.count()).select_from(WebhookDelivery)).scalar_one() == 1
    assert session.execute(select(func.count()).select_from(DeliveryAttempt)).scalar_one() == 0
