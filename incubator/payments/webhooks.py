"""``POST /stripe/webhook``, and the fake gateway's side: its test-payment page and its webhooks.

The webhook is the one request without a CSRF token: it checks Stripe's signature on the raw body
instead. Each event id is stored in the same transaction as its effect, so a repeated delivery
changes nothing; the effect itself comes from reading the payment back through the gateway.
"""

from __future__ import annotations

import json
import secrets
import time
import urllib.request
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Flask, abort, current_app, jsonify, redirect, render_template, request
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from incubator.accounts.forms import CSRFOnlyForm
from incubator.core.errors import DomainError
from incubator.core.jobs import after_commit, job
from incubator.core.tenancy import all_orgs
from incubator.extensions import csrf, db, limiter
from incubator.payments import services, vietqr
from incubator.payments.gateway import FakeGateway, GatewayError, gateway
from incubator.payments.models import WebhookEvent

bp = Blueprint("payments_hooks", __name__)

HANDLED = {"payos.payment", "checkout.session.completed", "checkout.session.expired",
           "checkout.session.async_payment_succeeded", "checkout.session.async_payment_failed",
           "payment_intent.payment_failed", "payment_intent.succeeded", "charge.refunded", "charge.refund.updated"}


@bp.route("/stripe/webhook", methods=["POST"])
@csrf.exempt
@limiter.exempt
def webhook() -> Any:
    import stripe  # its signature check: the library is loaded by the first delivery, not by every process

    payload = request.get_data()
    try:
        stripe.WebhookSignature.verify_header(payload, request.headers.get("Stripe-Signature"),
                                              current_app.config["STRIPE_WEBHOOK_SECRET"],
                                              stripe.Webhook.DEFAULT_TOLERANCE)
        _refuse_future_timestamp(request.headers.get("Stripe-Signature", ""))
        event = json.loads(payload)
        event_id, event_type, obj = str(event["id"]), str(event["type"]), dict(event["data"]["object"])
    except stripe.SignatureVerificationError:
        return jsonify(code="bad_signature", message="The Stripe-Signature header does not match."), 400
    except (ValueError, KeyError, TypeError):
        return jsonify(code="bad_payload", message="The body is not a Stripe event."), 400
    try:
        result = handle_event(db.session, event_id, event_type, obj)
    except (GatewayError, DomainError) as exc:  # answered with an error: rolled back, and Stripe retries it
        current_app.logger.warning("webhook %s: the gateway could not be read: %s", event_id, exc)
        return jsonify(code="gateway_unavailable", message="Try again later."), 503
    return jsonify(result), 200


FUTURE_TOLERANCE = 5 * 60  # seconds of clock skew allowed ahead of us (the library checks only the past)


def _refuse_future_timestamp(header: str) -> None:
    import stripe

    stamps = [part.partition("=")[2] for part in header.split(",") if part.strip().startswith("t=")]
    if not stamps or not stamps[0].strip().isdigit() or int(stamps[0]) > time.time() + FUTURE_TOLERANCE:
        raise stripe.SignatureVerificationError("Timestamp outside the tolerance zone", header)


def handle_event(session: Session, event_id: str, event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
    if len(event_id) > 255 or session.get(WebhookEvent, event_id) is not None:
        return {"status": "duplicate"}
    with all_orgs(session):  # a gateway event names no organisation
        payment = services.payment_for_event(session, obj) if event_type in HANDLED else None
        if payment is not None:  # one delivery at a time per payment (a row lock on PostgreSQL), read afresh
            session.refresh(payment, with_for_update=True)
        try:
            with session.begin_nested():
                session.add(WebhookEvent(id=event_id, type=event_type[:100],
                                         payment_id=payment.id if payment else None))
        except IntegrityError:  # the same event, delivered twice at once
            return {"status": "duplicate"}
        changes = services.sync(session, payment) if payment is not None else []
    return {"status": "processed" if payment is not None else "ignored", "changes": changes}


# -- the fake gateway ---------------------------------------------------------------------------------

def fake_emitter(app: Flask) -> Any:
    """What the fake does where Stripe would POST an event: sign it with the webhook secret, then
    deliver it after the current transaction commits (or keep it in an outbox, in tests)."""

    def emit(event_type: str, obj: dict[str, Any]) -> None:
        import stripe

        body = json.dumps({"id": "evt_test_" + secrets.token_hex(12), "object": "event", "type": event_type,
                           "created": int(time.time()), "livemode": False, "data": {"object": obj}})
        header = stripe.WebhookSignature.generate_signature_header(body, app.config["STRIPE_WEBHOOK_SECRET"])
        fake = app.extensions["payment_gateway"]
        if app.config["FAKE_STRIPE_DELIVERY"] == "outbox":
            fake.sent.append((body.encode(), header))
        else:
            after_commit(db.session, deliver_webhook, app.config["PUBLIC_URL"].rstrip("/") + "/stripe/webhook",
                         body, header)

    return emit


@job(retries=5, retry_delay=10)
def deliver_webhook(url: str, body: str, header: str) -> None:
    req = urllib.request.Request(url, data=body.encode(), method="POST", headers={  # noqa: S310 (PUBLIC_URL, http(s))
        "Content-Type": "application/json", "Stripe-Signature": header, "User-Agent": "Incubator fake Stripe"})
    with urllib.request.urlopen(req, timeout=10) as response:  # noqa: S310 (our own server)
        response.read()


def _fake() -> FakeGateway:
    found = gateway()
    if not isinstance(found, FakeGateway):
        abort(404)
    return found


@bp.route("/payments/test-checkout/<session_id>", methods=["GET", "POST"])
def fake_checkout(session_id: str) -> Any:
    """The fake gateway's hosted checkout page: clearly a test, it moves no money."""
    fake = _fake()
    data = fake.raw(session_id)
    if data is None:
        abort(404)
    form = CSRFOnlyForm()
    error = None
    if request.method == "POST" and form.validate_on_submit():
        action = request.form.get("action")
        if data["status"] == "open" and data["expires_at"] <= time.time():
            fake.expire(session_id)
        elif action == "pay" and data["status"] == "open":
            fake.complete(session_id)
            return redirect(data["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id))
        elif action == "decline" and data["status"] == "open":
            fake.fail(session_id, _("Your card was declined (test card)."))
            error = _("Your card was declined (test card).")
        elif action == "expire":
            fake.expire(session_id)
            return redirect(data["cancel_url"])
        elif action == "back":
            return redirect(data["cancel_url"])
    return render_template("payments/fake_checkout.html", data=data, form=form, error=error,
                           expires=datetime.fromtimestamp(data["expires_at"], UTC)), 422 if error else 200


# -- payOS --------------------------------------------------------------------------------------------

@bp.route("/payos/webhook", methods=["POST"])
@csrf.exempt
@limiter.exempt
def payos_webhook() -> Any:
    """payOS's confirmation of a transfer. Its order code names our payment, whose organisation's checksum
    key must have signed the ``data`` (the SDK's check); then the payment is read back from payOS, and only
    what payOS answers counts. An unknown order code (payOS's own test when the address is registered) is
    answered 200 and changes nothing."""
    payload = request.get_data()
    try:
        body = json.loads(payload)
        data = dict(body["data"])
        order_code = data["orderCode"]
    except (ValueError, KeyError, TypeError):
        return jsonify(code="bad_payload", message="The body is not a payOS webhook."), 400
    obj = {"object": "payos.payment", "orderCode": order_code}
    with all_orgs(db.session):
        payment = services.payment_for_event(db.session, obj)
        if payment is None:
            return jsonify(status="ignored", changes=[]), 200
        try:
            checker = services.gateway_of(db.session, payment)
        except DomainError:
            return jsonify(code="gateway_unavailable", message="Try again later."), 503
    try:
        verified = checker.verify_webhook(payload)  # type: ignore[attr-defined]
    except GatewayError:
        return jsonify(code="bad_signature", message="The signature does not match the data."), 400
    # One event per transfer: payOS's transaction reference (a repeat of it changes nothing)
    event_id = f"payos:{verified['orderCode']}:{verified['reference']}:{verified['code']}"
    try:
        result = handle_event(db.session, event_id, "payos.payment", obj)
    except (GatewayError, DomainError) as exc:  # rolled back, and payOS retries it
        current_app.logger.warning("payOS webhook %s: the gateway could not be read: %s", event_id, exc)
        return jsonify(code="gateway_unavailable", message="Try again later."), 503
    return jsonify(result), 200


def payos_fake_emitter(app: Flask) -> Any:
    """What the fake payOS does where payOS would POST its webhook: deliver it after the current
    transaction commits (or keep it in an outbox, in tests)."""

    def emit(body: bytes) -> None:
        store = app.extensions["payos_fake"]
        if app.config["FAKE_STRIPE_DELIVERY"] == "outbox":
            store.sent.append(body)
        else:
            after_commit(db.session, deliver_payos_webhook, app.config["PUBLIC_URL"].rstrip("/") + "/payos/webhook",
                         body.decode())

    return emit


@job(retries=5, retry_delay=10)
def deliver_payos_webhook(url: str, body: str) -> None:
    req = urllib.request.Request(url, data=body.encode(), method="POST", headers={  # noqa: S310 (PUBLIC_URL, http(s))
        "Content-Type": "application/json", "User-Agent": "Incubator fake payOS"})
    with urllib.request.urlopen(req, timeout=10) as response:  # noqa: S310 (our own server)
        response.read()


@bp.route("/payments/test-payos/<order_code>", methods=["GET", "POST"])
def payos_checkout(order_code: str) -> Any:
    """The fake payOS's payment page: clearly a test, it moves no money. It shows the VietQR code the
    customer would scan with a banking app; "pay" stands for the transfer arriving."""
    store = current_app.extensions.get("payos_fake")
    if store is None or order_code not in store.links:
        abort(404)
    data = store.link(order_code)
    form = CSRFOnlyForm()
    if request.method == "POST" and form.validate_on_submit():
        action = request.form.get("action")
        if action == "pay" and data["status"] == "PENDING":
            store.pay(order_code)
            return redirect(data["return_url"])
        if action == "cancel":
            store.cancel(order_code)
            return redirect(data["cancel_url"])
    return render_template("payments/fake_payos.html", data=data, form=form, qr=vietqr.svg_data_uri(data["qr_code"]),
                           expires=datetime.fromtimestamp(data["expires_at"], UTC))
