"""Races on real connections (run them on PostgreSQL too: TEST_DATABASE_URL): two workers never send
the same delivery at once, and "send again" clicked several times at once sends once per accepted click."""

from __future__ import annotations

from sqlalchemy import func, select

from incubator.core.permissions import Role
from incubator.webhooks import services, tasks
from incubator.webhooks.models import DeliveryAttempt, WebhookDelivery
from tests.factories import OrgFactory, member


def _world(committed, receiver, monkeypatch=None):
    with committed.data() as s:
        org = OrgFactory()
        manager = member(org, Role.MANAGER)
        subscription, _secret = services.create_subscription(s, org.id, url=receiver.url,
                                                             events=["booking.confirmed"])
        if monkeypatch is not None:
            monkeypatch.setattr(tasks, "deliver", lambda _id: None)  # the queue is slow: the sweep and workers race
        services.emit(s, org.id, "booking.confirmed", {"booking_id": 1})
    if monkeypatch is not None:
        monkeypatch.undo()
    with committed.read() as s:
        delivery_id = s.execute(select(WebhookDelivery.id)).scalars().all()
    return org, manager, subscription.id, delivery_id


def test_workers_racing_for_one_delivery_send_it_once(app, committed, live, receiver, monkeypatch):
    from incubator.extensions import db

    _org, _manager, _sid, ids = _world(committed, receiver, monkeypatch)
    [delivery_id] = ids

    def work(_i):
        with app.app_context():
            return tasks.run_delivery(db.session, delivery_id)

    answers = live.race(4, work)
    assert sum(a is not None for a in answers) == 1
    assert len(receiver.requests) == 1
    with committed.read() as s:
        delivery = s.get(WebhookDelivery, delivery_id)
        assert delivery.status == "succeeded" and delivery.attempt_count == 1 and delivery.claimed_until is None


def test_send_again_clicked_at_once_sends_once_per_accepted_click(app, committed, live, receiver):
    org, manager, subscription_id, [delivery_id] = _world(committed, receiver)
    assert len(receiver.requests) == 1  # the first delivery, at the commit
    tokens = [committed.token(manager) for _ in range(4)]
    path = f"/api/v1/orgs/{org.slug}/webhooks/{subscription_id}/deliveries/{delivery_id}/redeliver"
    answers = live.race(4, lambda i: live.api("POST", path, tokens[i]))
    statuses = [a.status_code for a in answers]
    assert set(statuses) <= {202, 409}, [a.text for a in answers]
    accepted = statuses.count(202)
    assert accepted >= 1
    assert all(a.json()["code"] in ("delivery_in_progress", "delivery_queued") for a in answers
               if a.status_code == 409)
    assert len(receiver.requests) == 1 + accepted
    with committed.read() as s:
        numbers = s.execute(select(DeliveryAttempt.number).where(DeliveryAttempt.delivery_id == delivery_id)
                            .order_by(DeliveryAttempt.number)).scalars().all()
        assert numbers == list(range(1, 2 + accepted))
        assert s.execute(select(func.count()).select_from(WebhookDelivery)
                         .where(WebhookDelivery.org_id == org.id)).scalar_one() == 1


def test_two_clicks_on_create_make_one_webhook(app, committed, live, receiver):
    with committed.data():
        org = OrgFactory()
        manager = member(org, Role.MANAGER)
    tokens = [committed.token(manager) for _ in range(3)]
    path = f"/api/v1/orgs/{org.slug}/webhooks"
    answers = live.race(3, lambda i: live.api("POST", path, tokens[i],
                                              json={"url": receiver.url + "/same", "events": ["booking.confirmed"]}))
    assert sorted(a.status_code for a in answers) == [201, 409, 409], [a.text for a in answers]
    with committed.read() as s:
        from incubator.webhooks.models import WebhookSubscription

        assert s.execute(select(func.count()).select_from(WebhookSubscription)
                         .where(WebhookSubscription.org_id == org.id)).scalar_one() == 1
