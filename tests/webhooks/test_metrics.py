"""Webhook delivery outcomes reach /metrics: succeeded, retrying (failed, tried again), failed (given up)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from incubator.core.permissions import Role
from incubator.webhooks import services, tasks
from incubator.webhooks.models import WebhookDelivery
from tests.factories import OrgFactory, member
from tests.metrics_helpers import TOKEN, scrape, value
from tests.webhooks.test_webhooks_api import create

DELIVERIES = "incubator_webhook_deliveries_total"


@pytest.fixture()
def scraper(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)
    return lambda: scrape(client)


def test_each_attempt_is_counted_by_outcome(app, api, session, receiver, clock, scraper):
    org = OrgFactory()
    manager = member(org, Role.MANAGER)
    receiver.answers = [500, 200]
    create(api, manager, org, receiver.url)
    before = scraper()
    with app.app_context():
        services.emit(session, org.id, "booking.confirmed", {"booking_id": 1})
        session.commit()
    after_first = scraper()
    assert value(after_first, DELIVERIES, outcome="retrying") - value(before, DELIVERIES, outcome="retrying") == 1
    assert value(after_first, DELIVERIES, outcome="succeeded") == value(before, DELIVERIES, outcome="succeeded")
    clock.advance(minutes=1)
    with app.app_context():
        assert tasks.sweep_deliveries.call_local() == 1
    after_second = scraper()
    assert value(after_second, DELIVERIES, outcome="succeeded") - value(before, DELIVERIES, outcome="succeeded") == 1
    assert value(after_second, DELIVERIES, outcome="failed") == value(before, DELIVERIES, outcome="failed")


def test_a_delivery_given_up_is_counted_as_failed(app, api, session, receiver, clock, scraper):
    org = OrgFactory()
    manager = member(org, Role.MANAGER)
    receiver.answers = [500]
    create(api, manager, org, receiver.url)
    before = scraper()
    with app.app_context():
        services.emit(session, org.id, "booking.confirmed", {"booking_id": 2})
        session.commit()
    delivery = session.execute(select(WebhookDelivery)).scalar_one()
    for _ in range(30):
        session.refresh(delivery)
        if delivery.status != "pending":
            break
        clock.now = delivery.next_attempt_at
        with app.app_context():
            tasks.sweep_deliveries.call_local()
    assert delivery.status == "failed"
    after = scraper()
    assert value(after, DELIVERIES, outcome="failed") - value(before, DELIVERIES, outcome="failed") == 1
    retries = value(after, DELIVERIES, outcome="retrying") - value(before, DELIVERIES, outcome="retrying")
    assert retries == delivery.attempt_count - 1 == len(receiver.requests) - 1
