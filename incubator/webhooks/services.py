"""Webhook subscriptions, ``emit`` for the domains, "send again" and the test event.

``emit(session, org_id, type, data)`` is the one call a domain makes where something happens: it writes
the event and one delivery per subscription that wants it, in the caller's transaction, and queues the
deliveries for when that transaction commits. A change that rolls back takes its event with it; a
committed one is sent by the job, or by the sweep if the job never ran.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session

from incubator.core.actions import savepoint
from incubator.core.db import utcnow
from incubator.core.errors import Conflict, DomainError
from incubator.core.jobs import after_commit
from incubator.core.tenancy import all_orgs, lock_row
from incubator.webhooks import crypto, delivery, tasks
from incubator.webhooks.models import (
    DeliveryStatus,
    OutboxEvent,
    WebhookDelivery,
    WebhookSubscription,
)

EVENT_TYPES = (
    "application.submitted",
    "application.decided",
    "checkin.submitted",
    "checkin.verified",
    "booking.confirmed",
    "booking.cancelled",
    "payment.succeeded",
    "payment.refunded",
    "match.published",
    "session.logged",
)
PING = "webhook.ping"  # the test event, sent to one subscription on request
MAX_SUBSCRIPTIONS = 20  # per organisation
SECRET_PREFIX = "whsec_"  # noqa: S105 (the prefix of every secret, not a secret)


def _url_message(reason: str) -> str:
    messages: dict[str, str] = {
        "missing": _("Enter the endpoint's URL."),
        "too_long": _("The URL is too long (2000 characters at most)."),
        "invalid": _("Enter a full URL such as https://example.com/webhooks."),
        "https_required": _("The URL must start with https://."),
        "credentials": _("The URL must not contain a user name or password."),
        "fragment": _("The URL must not contain a #fragment."),
        "private": _("The URL must point to a public address, not a private or local one."),
    }
    return messages.get(reason, messages["invalid"])


def clean_url(url: Any) -> str:
    if not isinstance(url, str):
        raise DomainError(_url_message("invalid"), fields={"url": _url_message("invalid")})
    try:
        return delivery.check_url(url, http_allowed=delivery.allow_http(), private_allowed=delivery.allow_private())
    except delivery.BadUrl as exc:
        message = _url_message(str(exc))
        raise DomainError(message, fields={"url": message}) from exc


def clean_events(events: Any) -> list[str]:
    if not isinstance(events, list | tuple) or not all(isinstance(e, str) for e in events):
        message = _("Choose at least one event.")
        raise DomainError(message, fields={"events": message})
    unknown = sorted({e for e in events if e not in EVENT_TYPES})
    if unknown:
        message = _("Unknown event: %(events)s.", events=", ".join(unknown))
        raise DomainError(message, fields={"events": message})
    if not events:
        message = _("Choose at least one event.")
        raise DomainError(message, fields={"events": message})
    return [e for e in EVENT_TYPES if e in events]  # each once, in the documented order


def url_hash(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


def _duplicate() -> Conflict:
    message = _("A webhook for this URL exists already.")
    return Conflict(message, code="webhook_exists", fields={"url": message})


def _save(session: Session, subscription: WebhookSubscription) -> None:
    """Write the row; a second webhook for the same URL (a check raced by another request) is a 409."""
    with all_orgs(session), session.no_autoflush:  # the check comes before this row is written
        taken = session.execute(select(WebhookSubscription.id).where(
            WebhookSubscription.org_id == subscription.org_id, WebhookSubscription.url_hash == subscription.url_hash,
            WebhookSubscription.id != (subscription.id or 0))).first()
    if taken:
        raise _duplicate()
    try:
        with savepoint(session):
            session.add(subscription)
            session.flush()
    except IntegrityError as exc:
        raise _duplicate() from exc


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def create_subscription(session: Session, org_id: int, *, url: Any, events: Any, description: str = "",
                        created_by_id: int | None = None) -> tuple[WebhookSubscription, str]:
    """A new subscription and its secret, which is answered this once and stored only encrypted."""
    fields: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for name, check, value in (("url", clean_url, url), ("events", clean_events, events)):
        try:
            clean[name] = check(value)
        except DomainError as error:
            fields.update(error.fields)
    if fields:
        raise DomainError(_("Check the highlighted fields."), fields=fields)
    count = len(session.execute(select(WebhookSubscription.id).where(WebhookSubscription.org_id == org_id))
                .scalars().all())
    if count >= MAX_SUBSCRIPTIONS:
        raise Conflict(_("An organisation can have at most %(n)d webhooks.", n=MAX_SUBSCRIPTIONS),
                       code="too_many_webhooks")
    secret = new_secret()
    subscription = WebhookSubscription(org_id=org_id, url=clean["url"], url_hash=url_hash(clean["url"]),
                                       events=clean["events"],
                                       description=(description or "").strip()[:255],
                                       secret_encrypted=crypto.encrypt(secret),
                                       secret_hint=secret[:len(SECRET_PREFIX) + 4], created_by_id=created_by_id)
    _save(session, subscription)
    return subscription, secret


def update_subscription(session: Session, subscription: WebhookSubscription, *, url: Any = None,
                        events: Any = None, description: str | None = None,
                        paused: bool | None = None) -> WebhookSubscription:
    """A partial update: what is ``None`` stays as it is."""
    fields: dict[str, str] = {}
    changes: dict[str, Any] = {}
    for name, check, value in (("url", clean_url, url), ("events", clean_events, events)):
        if value is None:
            continue
        try:
            changes[name] = check(value)
        except DomainError as error:
            fields.update(error.fields)
    if fields:
        raise DomainError(_("Check the highlighted fields."), fields=fields)
    if description is not None:
        changes["description"] = description.strip()[:255]
    if paused is not None:
        changes["paused"] = bool(paused)
    if "url" in changes:
        changes["url_hash"] = url_hash(changes["url"])
    for name, value in changes.items():
        if getattr(subscription, name) != value:
            setattr(subscription, name, value)
    _save(session, subscription)
    return subscription


def delete_subscription(session: Session, subscription: WebhookSubscription) -> None:
    """The subscription goes with its delivery log; the events stay for the other subscriptions."""
    session.delete(subscription)
    session.flush()


def _body(public_id: str, event_type: str, created: datetime, data: dict[str, Any]) -> str:
    return json.dumps({"id": public_id, "type": event_type, "created": int(created.timestamp()), "data": data},
                      ensure_ascii=False, separators=(",", ":"), default=str)


def _write(session: Session, org_id: int, event_type: str, data: dict[str, Any],
           subscriptions: Iterable[WebhookSubscription], *, manual: bool = False) -> list[WebhookDelivery]:
    now = utcnow()
    public_id = "evt_" + secrets.token_hex(12)
    event = OutboxEvent(org_id=org_id, public_id=public_id, type=event_type, created_at=now,
                        body=_body(public_id, event_type, now, data))
    session.add(event)
    deliveries = [WebhookDelivery(org_id=org_id, subscription=s, event=event, round_started_at=now,
                                  next_attempt_at=now, round_manual=manual) for s in subscriptions]
    session.add_all(deliveries)
    session.flush()
    after_commit(session, tasks.queue, [d.id for d in deliveries])
    return deliveries


def emit(session: Session, org_id: int, event_type: str, data: dict[str, Any]) -> OutboxEvent | None:
    """Record that ``event_type`` happened in organisation ``org_id``, in the caller's transaction.

    Writes the event and a delivery for each active subscription that wants it (nothing when none does),
    and queues the deliveries for when the transaction commits. ``data``: ids, statuses, amounts in
    minor units, times in ISO 8601. Answers the event, or ``None`` when nobody subscribes to it."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event {event_type!r}")
    # The event's organisation need not be the request's (a partner's booking, a Stripe webhook).
    with all_orgs(session):
        subscriptions = [s for s in session.execute(
            select(WebhookSubscription).where(WebhookSubscription.org_id == org_id,
                                              WebhookSubscription.paused.is_(False))
            .order_by(WebhookSubscription.id)).scalars() if s.wants(event_type)]
        if not subscriptions:
            return None
        return _write(session, org_id, event_type, data, subscriptions)[0].event


def json_value(value: Any) -> Any:
    """Times and dates in ISO 8601, enums as their value; ids, counts and amounts (minor units) as they are."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    return value


def emit_for(row: Any, event_type: str, *fields: str, **extra: Any) -> OutboxEvent | None:
    """``emit`` about an organisation's row, in the row's own session: ``data`` holds its id (named after
    the event, ``booking.confirmed`` -> ``booking_id``), the attributes named in ``fields`` and ``extra``.

    The one line a domain adds where the event happens, e.g.
    ``emit_for(booking, "booking.confirmed", "resource_id", "status", "starts_at")``."""
    session = object_session(row)
    if session is None:
        raise ValueError("emit_for needs a row that belongs to a session")
    if row.id is None:
        session.flush()
    data = {f"{event_type.partition('.')[0]}_id": row.id,
            **{name: json_value(getattr(row, name)) for name in fields},
            **{name: json_value(value) for name, value in extra.items()}}
    return emit(session, row.org_id, event_type, data)


def ping(session: Session, subscription: WebhookSubscription) -> WebhookDelivery:
    """A test event for this one subscription (paused or not), sent once the request commits."""
    data = {"subscription_id": subscription.id, "message": "Test event: the endpoint receives and verifies."}
    return _write(session, subscription.org_id, PING, data, [subscription], manual=True)[0]


def redeliver(session: Session, item: WebhookDelivery) -> WebhookDelivery:
    """"Send again": a new round of attempts starting now, with the same body (the same event id).

    Refused (409) while the delivery is being sent, or already queued to be sent now."""
    lock_row(session, item)  # two clicks at once: the second waits and then sees the first
    now = utcnow()
    if item.claimed_until is not None and item.claimed_until > now:
        raise Conflict(_("This delivery is being sent right now."), code="delivery_in_progress")
    if item.status == DeliveryStatus.PENDING and item.next_attempt_at <= now:
        raise Conflict(_("This delivery is already queued to be sent."), code="delivery_queued")
    item.status = DeliveryStatus.PENDING
    item.round_started_at = item.next_attempt_at = now
    item.round_tries = 0
    item.round_manual = True
    session.flush()
    after_commit(session, tasks.queue, [item.id])
    return item


def deliveries_stmt(subscription: WebhookSubscription) -> Any:
    return (select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription.id)
            .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc()))
