"""The delivery job and the sweep that picks up whatever is due.

``deliver(delivery_id)`` is queued when the transaction that wrote the delivery commits. It claims the
delivery (one UPDATE that only one worker can win: pending, due, not claimed), commits the claim, sends
with no transaction open (a slow endpoint holds no lock), then records the attempt and the next one.

``sweep_deliveries`` runs every minute: it queues every delivery that is due, so the retries happen on
time, and an event committed while the worker was down or the queue unreachable is still sent.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from huey import crontab
from sqlalchemy import delete, exists, or_, select, update
from sqlalchemy.orm import Session

from incubator.core import metrics
from incubator.core.db import utcnow
from incubator.core.jobs import job, periodic, queue_optional
from incubator.core.tenancy import all_orgs
from incubator.webhooks import crypto
from incubator.webhooks.delivery import SIGNATURE_HEADER, Answer, next_attempt, post, signature
from incubator.webhooks.models import (
    DeliveryAttempt,
    DeliveryStatus,
    OutboxEvent,
    WebhookDelivery,
    WebhookSubscription,
)

log = logging.getLogger(__name__)
CLAIM = timedelta(seconds=60)  # a worker that died while sending gives the delivery back after this
SWEEP_BATCH = 500
USER_AGENT = "Incubator-Webhooks/1"
RETENTION = timedelta(days=90)  # how long events and their delivery log are kept once nothing is pending


@queue_optional
def queue(delivery_ids: Iterable[int]) -> None:
    """After the commit: queue each delivery. A queue that is down loses nothing (the sweep sends them)."""
    for delivery_id in delivery_ids:
        try:
            deliver(delivery_id)
        except Exception:  # the rows are committed; the next sweep picks the delivery up
            log.warning("webhook delivery %s could not be queued; the sweep will send it", delivery_id,
                        exc_info=True)


def _claim(session: Session, delivery_id: int) -> bool:
    now = utcnow()
    claimed = session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == DeliveryStatus.PENDING,
               WebhookDelivery.next_attempt_at <= now,
               or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until < now))
        .values(claimed_until=now + CLAIM)
        .execution_options(synchronize_session=False))
    return bool(getattr(claimed, "rowcount", 0) == 1)


def run_delivery(session: Session, delivery_id: int) -> Answer | None:
    """One attempt of one delivery, if it is still due and nobody else is sending it."""
    # A job serves every organisation: the delivery says whose it is.
    with all_orgs(session):
        if not _claim(session, delivery_id):
            session.rollback()
            return None
        delivery = session.get(WebhookDelivery, delivery_id)
        subscription = delivery.subscription if delivery is not None else None
        if delivery is None or subscription is None:
            session.rollback()
            return None
        if subscription.paused and not delivery.round_manual:  # paused meanwhile: it waits for the resume
            delivery.claimed_until = None
            session.commit()
            return None
        url, body = subscription.url, delivery.event.body.encode()
        event_id = delivery.event.public_id
        try:
            secret = crypto.decrypt(subscription.secret_encrypted)
        except crypto.SecretUnreadable as exc:
            secret = None
            unreadable = str(exc)
        session.commit()  # the claim is visible before the (slow) request, and no lock is held during it

        if secret is None:
            answer = Answer(None, "", unreadable, 0)
        else:
            headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, "Webhook-Id": event_id,
                       SIGNATURE_HEADER: signature(secret, body, int(time.time()))}
            try:
                answer = post(url, body, headers)
            except Exception as exc:  # whatever went wrong is this attempt's error, logged like the others
                log.exception("webhook delivery %s: unexpected error", delivery_id)
                answer = Answer(None, "", f"{type(exc).__name__}: {exc}"[:300], 0)

        delivery = session.get(WebhookDelivery, delivery_id, populate_existing=True)
        if delivery is None:  # its subscription was deleted meanwhile
            session.rollback()
            return answer
        record(session, delivery, answer)
        session.commit()
        return answer


def record(session: Session, delivery: WebhookDelivery, answer: Answer) -> DeliveryAttempt:
    now = utcnow()
    attempt = DeliveryAttempt(org_id=delivery.org_id, delivery_id=delivery.id, number=delivery.attempt_count + 1,
                              manual=delivery.round_manual and delivery.round_tries == 0, attempted_at=now,
                              status_code=answer.status_code, response_body=answer.body[:500],
                              error=answer.error[:300], duration_ms=answer.duration_ms)
    session.add(attempt)
    delivery.attempt_count += 1
    delivery.round_tries += 1
    delivery.claimed_until = None
    delivery.last_status_code = answer.status_code
    if answer.ok:
        delivery.status = DeliveryStatus.SUCCEEDED
        delivery.delivered_at = now
        metrics.record_webhook_delivery("succeeded")
    else:
        when = next_attempt(delivery.round_started_at, delivery.round_tries, now)
        if when is None:
            delivery.status = DeliveryStatus.FAILED
            metrics.record_webhook_delivery("failed")
        else:
            delivery.next_attempt_at = when
            metrics.record_webhook_delivery("retrying")
    return attempt


def due(session: Session, limit: int = SWEEP_BATCH) -> list[int]:
    now = utcnow()
    # The sweep serves every organisation.
    with all_orgs(session):
        return list(session.execute(
            select(WebhookDelivery.id).join(WebhookDelivery.subscription)
            .where(WebhookDelivery.status == DeliveryStatus.PENDING, WebhookDelivery.next_attempt_at <= now,
                   or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until < now),
                   WebhookSubscription.paused.is_(False))
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(limit)).scalars())


@job()
def deliver(delivery_id: int) -> Any:
    from incubator.extensions import db

    answer = run_delivery(db.session, delivery_id)
    return None if answer is None else json.dumps({"status": answer.status_code, "error": answer.error})


@periodic(crontab(minute="*"))
def sweep_deliveries() -> int:
    """Queue every delivery that is due (retries, and what was committed while the queue was down)."""
    from incubator.extensions import db

    ids = due(db.session)
    db.session.rollback()  # nothing written: end the read before the deliveries run
    queue(ids)
    return len(ids)


def prune(session: Session, limit: int = 1000) -> int:
    """Delete events older than ``RETENTION`` with no delivery still pending (their deliveries and attempts
    go with them, by the foreign keys' cascade). Answers how many events went."""
    pending = exists().where(WebhookDelivery.event_id == OutboxEvent.id,
                             WebhookDelivery.status == DeliveryStatus.PENDING)
    # The clean-up serves every organisation.
    with all_orgs(session):
        ids = list(session.execute(select(OutboxEvent.id).where(OutboxEvent.created_at < utcnow() - RETENTION,
                                                                 ~pending).limit(limit)).scalars())
        if ids:
            session.execute(delete(OutboxEvent).where(OutboxEvent.id.in_(ids))
                            .execution_options(synchronize_session=False))
    return len(ids)


@periodic(crontab(minute="40", hour="3"))
def prune_old_events() -> int:
    from incubator.extensions import db

    return prune(db.session)
