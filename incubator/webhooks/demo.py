"""Demo data: bbi has one webhook, paused (the demo must not send anything anywhere), with a delivered
test event in its log, so that the pages show what a webhook looks like. Idempotent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from incubator.core.db import utcnow
from incubator.webhooks import services
from incubator.webhooks.models import DeliveryAttempt, DeliveryStatus, OutboxEvent, WebhookDelivery, WebhookSubscription

DEMO_URL = "https://crm.bbi.example.com/incubator-webhooks"


def seed(session: Session, org: Any, created_by_id: int | None = None) -> None:
    exists = session.execute(select(WebhookSubscription.id).where(WebhookSubscription.org_id == org.id,
                                                                  WebhookSubscription.url == DEMO_URL)).first()
    if exists:
        return
    subscription, _secret = services.create_subscription(
        session, org.id, url=DEMO_URL, events=["booking.confirmed", "booking.cancelled", "payment.succeeded",
                                               "payment.refunded"],
        description="CRM (demo: paused, sends nothing)", created_by_id=created_by_id)
    subscription.paused = True
    sent = utcnow() - timedelta(days=1)
    body = services._body("evt_demo" + f"{org.id:016d}", services.PING, sent,
                          {"subscription_id": subscription.id, "message": "Test event"})
    event = OutboxEvent(org_id=org.id, public_id="evt_demo" + f"{org.id:016d}", type=services.PING, body=body,
                        created_at=sent)
    delivery = WebhookDelivery(org_id=org.id, subscription=subscription, event=event, status=DeliveryStatus.SUCCEEDED,
                               attempt_count=1, round_tries=1, round_started_at=sent, round_manual=True,
                               next_attempt_at=sent, last_status_code=200, delivered_at=sent, created_at=sent)
    delivery.attempts = [DeliveryAttempt(org_id=org.id, number=1, manual=True, attempted_at=sent, status_code=200,
                                         response_body='{"received": true}', duration_ms=182)]
    session.add_all([event, delivery])
    session.flush()
