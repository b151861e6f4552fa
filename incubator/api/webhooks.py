"""Outbound webhooks over the API: subscriptions, their delivery log, "send again" and a test event.

Managers only (``MANAGE_ORG``). The signing secret is in the answer to the create call and nowhere else.
"""

from __future__ import annotations

from typing import Any

from flask import g, url_for
from marshmallow import EXCLUDE, Schema, fields, validate

from incubator.api import api_blueprint, error_responses
from incubator.api.paging import api_page
from incubator.core.permissions import Permission, require
from incubator.core.tenancy import get_or_404
from incubator.core.versioning import check_if_match, etag_of
from incubator.extensions import db
from incubator.webhooks import services
from incubator.webhooks.models import DeliveryAttempt, WebhookDelivery, WebhookSubscription

bp = api_blueprint("api_webhooks", __name__, org=True, url_prefix="/webhooks",
                   description="Outbound webhooks: signed POSTs of the organisation's events to an endpoint")

NOT_FOUND = (404, "Not found, or the caller is not a member")
FORBIDDEN = (403, "Only the organisation's managers manage webhooks")
INVALID = (422, "Invalid fields; `fields` names them (`url`, `events`)")
EVENTS_DESCRIPTION = "Any of: " + ", ".join(services.EVENT_TYPES)


def errors(*codes: tuple[int, str]) -> Any:
    return error_responses(bp, FORBIDDEN, NOT_FOUND, *codes)


class WebhookIn(Schema):
    class Meta:
        unknown = EXCLUDE

    url = fields.Raw(required=True, metadata={"type": "string", "description": "https:// endpoint"})
    events = fields.Raw(required=True, metadata={"type": "array", "items": {"type": "string"},
                                                 "description": EVENTS_DESCRIPTION})
    description = fields.String(load_default="", validate=validate.Length(max=255))


class WebhookPatch(Schema):
    """Every field is optional; one left out keeps its value."""

    class Meta:
        unknown = EXCLUDE

    url = fields.Raw(metadata={"type": "string"})
    events = fields.Raw(metadata={"type": "array", "items": {"type": "string"}, "description": EVENTS_DESCRIPTION})
    description = fields.String(validate=validate.Length(max=255))
    paused = fields.Boolean(metadata={"description": "A paused webhook receives nothing"})


class WebhookOut(Schema):
    id = fields.Integer(required=True)
    url = fields.String(required=True)
    events = fields.List(fields.String(), required=True)
    description = fields.String(required=True)
    paused = fields.Boolean(required=True)
    secret_hint = fields.String(required=True, metadata={"description": "The secret's first characters"})
    created_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)


class WebhookCreated(WebhookOut):
    secret = fields.String(required=True, metadata={
        "description": "Signing secret (`whsec_...`): answered this once, store it now"})


class AttemptOut(Schema):
    number = fields.Integer(required=True)
    attempted_at = fields.AwareDateTime(required=True)
    manual = fields.Boolean(required=True, metadata={"description": "Started by \"send again\""})
    status_code = fields.Integer(allow_none=True, required=True)
    response_body = fields.String(required=True, metadata={"description": "The answer's first 500 characters"})
    error = fields.String(required=True)
    duration_ms = fields.Integer(required=True)


class DeliveryOut(Schema):
    id = fields.Integer(required=True)
    event_id = fields.String(required=True, metadata={"description": "The body's `id` (evt_...)"})
    event_type = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "pending, succeeded or failed"})
    attempt_count = fields.Integer(required=True)
    last_status_code = fields.Integer(allow_none=True, required=True)
    next_attempt_at = fields.AwareDateTime(allow_none=True, required=True)
    delivered_at = fields.AwareDateTime(allow_none=True, required=True)
    created_at = fields.AwareDateTime(required=True)
    attempts = fields.List(fields.Nested(AttemptOut), required=True)


def _out(s: WebhookSubscription) -> dict[str, Any]:
    return {"id": s.id, "url": s.url, "events": list(s.events), "description": s.description, "paused": s.paused,
            "secret_hint": s.secret_hint + "…", "created_at": s.created_at, "updated_at": s.updated_at}


def _attempt_out(a: DeliveryAttempt) -> dict[str, Any]:
    return {"number": a.number, "attempted_at": a.attempted_at, "manual": a.manual, "status_code": a.status_code,
            "response_body": a.response_body, "error": a.error, "duration_ms": a.duration_ms}


def _delivery_out(d: WebhookDelivery) -> dict[str, Any]:
    return {"id": d.id, "event_id": d.event.public_id, "event_type": d.event.type, "status": str(d.status),
            "attempt_count": d.attempt_count, "last_status_code": d.last_status_code,
            "next_attempt_at": d.next_attempt_at if d.status == "pending" else None,
            "delivered_at": d.delivered_at, "created_at": d.created_at,
            "attempts": [_attempt_out(a) for a in d.attempts]}


def _location(subscription: WebhookSubscription) -> dict[str, str]:
    return {"Location": url_for("api_webhooks.get_webhook", org=g.org.slug, webhook_subscription_id=subscription.id)}


@bp.route("")
@require(Permission.MANAGE_ORG)
@bp.response(200, WebhookOut(many=True))
@bp.paginate()
@errors()
def list_webhooks(pagination_parameters: Any) -> Any:
    from sqlalchemy import select

    stmt = select(WebhookSubscription).order_by(WebhookSubscription.id)
    return [_out(s) for s in api_page(stmt, pagination_parameters)]


@bp.route("", methods=["POST"])
@require(Permission.MANAGE_ORG)
@bp.arguments(WebhookIn)
@bp.response(201, WebhookCreated)
@errors(INVALID, (409, "At most 20 webhooks per organisation (`too_many_webhooks`)"))
def create_webhook(data: dict[str, Any]) -> Any:
    """Subscribe an endpoint to events. The answer holds the signing secret, shown this once."""
    subscription, secret = services.create_subscription(db.session, g.org.id, url=data["url"], events=data["events"],
                                                        description=data["description"],
                                                        created_by_id=g.api_user.id)
    return {**_out(subscription), "secret": secret}, 201, _location(subscription)


@bp.route("/<int:webhook_subscription_id>")
@require(Permission.MANAGE_ORG)
@bp.response(200, WebhookOut)
@errors()
def get_webhook(webhook_subscription_id: int) -> Any:
    subscription = get_or_404(WebhookSubscription, webhook_subscription_id)
    return _out(subscription), 200, {"ETag": etag_of(subscription)}


@bp.route("/<int:webhook_subscription_id>", methods=["PATCH"])
@require(Permission.MANAGE_ORG)
@bp.arguments(WebhookPatch)
@bp.response(200, WebhookOut)
@errors(INVALID, (412, "`If-Match` names an older version (`stale`)"))
def update_webhook(data: dict[str, Any], webhook_subscription_id: int) -> Any:
    """Change the URL, the events, the description, or pause and resume. Fields left out keep their value."""
    subscription = get_or_404(WebhookSubscription, webhook_subscription_id)
    check_if_match(subscription)
    services.update_subscription(db.session, subscription, url=data.get("url"), events=data.get("events"),
                                 description=data.get("description"), paused=data.get("paused"))
    return _out(subscription), 200, {"ETag": etag_of(subscription)}


@bp.route("/<int:webhook_subscription_id>", methods=["DELETE"])
@require(Permission.MANAGE_ORG)
@bp.response(204)
@errors()
def delete_webhook(webhook_subscription_id: int) -> Any:
    """Delete the webhook and its delivery log."""
    services.delete_subscription(db.session, get_or_404(WebhookSubscription, webhook_subscription_id))
    return None


@bp.route("/<int:webhook_subscription_id>/deliveries")
@require(Permission.MANAGE_ORG)
@bp.response(200, DeliveryOut(many=True))
@bp.paginate()
@errors()
def list_deliveries(pagination_parameters: Any, webhook_subscription_id: int) -> Any:
    """The delivery log, newest first: each event sent to the webhook, with every attempt."""
    from sqlalchemy.orm import selectinload

    subscription = get_or_404(WebhookSubscription, webhook_subscription_id)
    stmt = services.deliveries_stmt(subscription).options(selectinload(WebhookDelivery.attempts))
    return [_delivery_out(d) for d in api_page(stmt, pagination_parameters)]


def _delivery(webhook_subscription_id: int, webhook_delivery_id: int) -> WebhookDelivery:
    subscription = get_or_404(WebhookSubscription, webhook_subscription_id)
    item = get_or_404(WebhookDelivery, webhook_delivery_id)
    if item.subscription_id != subscription.id:
        from flask import abort

        abort(404)
    return item


@bp.route("/<int:webhook_subscription_id>/deliveries/<int:webhook_delivery_id>")
@require(Permission.MANAGE_ORG)
@bp.response(200, DeliveryOut)
@errors()
def get_delivery(webhook_subscription_id: int, webhook_delivery_id: int) -> Any:
    return _delivery_out(_delivery(webhook_subscription_id, webhook_delivery_id))


@bp.route("/<int:webhook_subscription_id>/deliveries/<int:webhook_delivery_id>/redeliver", methods=["POST"])
@require(Permission.MANAGE_ORG)
@bp.response(202, DeliveryOut)
@errors((409, "Being sent right now (`delivery_in_progress`) or already queued (`delivery_queued`)"))
def redeliver(webhook_subscription_id: int, webhook_delivery_id: int) -> Any:
    """"Send again": the same body (the same event id) in a new round of attempts, starting now."""
    item = services.redeliver(db.session, _delivery(webhook_subscription_id, webhook_delivery_id))
    return _delivery_out(item)


@bp.route("/<int:webhook_subscription_id>/ping", methods=["POST"])
@require(Permission.MANAGE_ORG)
@bp.response(202, DeliveryOut)
@errors()
def ping(webhook_subscription_id: int) -> Any:
    """Send a `webhook.ping` test event to this webhook (even when paused)."""
    item = services.ping(db.session, get_or_404(WebhookSubscription, webhook_subscription_id))
    return _delivery_out(item)
