"""The payment gateway: a small interface, Stripe behind it, and a fake for development and tests
(payOS, the second implementation, is in ``payments.payos``).

Only what the payments domain needs: open a Checkout Session, read a session and its payment back
(webhooks never trust their payload), and refund. Payments go to the organisation's connected
account as destination charges, with the platform's fee kept back.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from flask import Flask, current_app


class GatewayError(RuntimeError):
    """The gateway refused or could not be reached."""


@dataclass
class CheckoutSession:
    id: str
    url: str
    status: str  # open | complete | expired
    payment_status: str  # unpaid | paid
    amount_total: int
    currency: str  # lower case, as Stripe writes it
    payment_intent: str | None
    expires_at: int
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass
class RefundInfo:
    id: str
    amount: int
    status: str  # pending | succeeded | failed | canceled


@dataclass
class PaymentInfo:
    id: str
    status: str
    amount_received: int
    last_error: str
    refunds: list[RefundInfo]


class Gateway(Protocol):
    name: str

    def create_checkout(self, *, amount: int, currency: str, description: str, metadata: dict[str, str],
                        success_url: str, cancel_url: str, expires_at: int, destination: str,
                        application_fee: int, idempotency_key: str, customer_email: str) -> CheckoutSession: ...

    def get_checkout(self, session_id: str) -> CheckoutSession: ...

    def get_payment(self, payment_intent_id: str) -> PaymentInfo: ...

    def refund(self, payment_intent_id: str, amount: int, idempotency_key: str) -> RefundInfo: ...

    def cancel_checkout(self, session_id: str) -> None: ...


# -- Stripe ------------------------------------------------------------------------------------------

class StripeGateway:
    name = "stripe"

    def __init__(self, secret_key: str, api_base: str | None = None) -> None:
        import stripe  # loaded only where Stripe is configured

        addresses: Any = {"api": api_base} if api_base else None
        self.client = stripe.StripeClient(secret_key, base_addresses=addresses, max_network_retries=2)

    def create_checkout(self, *, amount: int, currency: str, description: str, metadata: dict[str, str],
                        success_url: str, cancel_url: str, expires_at: int, destination: str,
                        application_fee: int, idempotency_key: str, customer_email: str) -> CheckoutSession:
        intent: dict[str, Any] = {"metadata": metadata, "transfer_data": {"destination": destination}}
        if application_fee:
            intent["application_fee_amount"] = application_fee
        params: Any = {
            "mode": "payment", "success_url": success_url, "cancel_url": cancel_url, "expires_at": expires_at,
            "client_reference_id": metadata.get("payment_id"), "metadata": metadata, "customer_email": customer_email,
            "line_items": [{"quantity": 1, "price_data": {"currency": currency.lower(), "unit_amount": amount,
                                                          "product_data": {"name": description}}}],
            "payment_intent_data": intent,
        }
        return self._call(lambda: self.client.v1.checkout.sessions.create(
            params=params, options={"idempotency_key": idempotency_key}), _session)

    def get_checkout(self, session_id: str) -> CheckoutSession:
        return self._call(lambda: self.client.v1.checkout.sessions.retrieve(session_id), _session)

    def get_payment(self, payment_intent_id: str) -> PaymentInfo:
        def read() -> PaymentInfo:
            intent = self.client.v1.payment_intents.retrieve(payment_intent_id).to_dict()
            refunds = [r.to_dict() for r in self.client.v1.refunds.list(
                params={"payment_intent": payment_intent_id, "limit": 100}).data]
            error = intent.get("last_payment_error") or {}
            return PaymentInfo(id=intent["id"], status=intent["status"],
                               amount_received=int(intent.get("amount_received") or 0),
                               last_error=str(error.get("message") or ""),
                               refunds=[RefundInfo(r["id"], int(r["amount"]), r["status"]) for r in refunds])
        return self._call(read, lambda info: info)

    def refund(self, payment_intent_id: str, amount: int, idempotency_key: str) -> RefundInfo:
        params: Any = {"payment_intent": payment_intent_id, "amount": amount, "reverse_transfer": True,
                       "refund_application_fee": True}
        return self._call(lambda: self.client.v1.refunds.create(params=params,
                                                                 options={"idempotency_key": idempotency_key}),
                          lambda r: RefundInfo(r["id"], int(r["amount"]), r["status"]))

    def cancel_checkout(self, session_id: str) -> None:
        self._call(lambda: self.client.v1.checkout.sessions.expire(session_id), lambda session: None)

    @staticmethod
    def _call(request: Any, convert: Any) -> Any:
        import stripe

        try:
            return convert(request())
        except stripe.StripeError as exc:
            raise GatewayError(exc.user_message or str(exc)) from exc


def _session(stripe_obj: Any) -> CheckoutSession:
    obj = stripe_obj.to_dict()
    intent = obj.get("payment_intent")
    return CheckoutSession(id=obj["id"], url=obj.get("url") or "", status=obj["status"],
                           payment_status=obj["payment_status"], amount_total=int(obj.get("amount_total") or 0),
                           currency=obj["currency"], payment_intent=intent if isinstance(intent, str | None)
                           else intent["id"], expires_at=int(obj["expires_at"]),
                           metadata=dict(obj.get("metadata") or {}))


# -- the fake -----------------------------------------------------------------------------------------

class FakeGateway:
    """Stripe's behaviour, kept in memory (or in a JSON file, so that development survives restarts).

    Its checkout page is ``payments.fake_checkout``; paying or cancelling there changes the state
    here and sends the signed webhook that Stripe would (see ``payments.webhooks.fake_deliver``).
    """

    name = "fake"

    def __init__(self, state_file: str | None = None, emit: Any = None) -> None:
        self.emit = emit or (lambda event_type, obj: None)  # sends the webhook Stripe would send
        self._lock = threading.Lock()
        self._file = Path(state_file) if state_file else None
        self.sessions: dict[str, dict[str, Any]] = {}
        self.intents: dict[str, dict[str, Any]] = {}
        self.keys: dict[str, str] = {}  # idempotency key -> session id
        self.calls: list[str] = []  # what was asked, for tests
        self.sent: list[tuple[bytes, str]] = []  # webhooks waiting for delivery ("outbox" mode)
        self._load()

    def create_checkout(self, *, amount: int, currency: str, description: str, metadata: dict[str, str],
                        success_url: str, cancel_url: str, expires_at: int, destination: str,
                        application_fee: int, idempotency_key: str, customer_email: str) -> CheckoutSession:
        with self._lock:
            self.calls.append("create_checkout")
            if idempotency_key in self.keys:
                return self._as_session(self.sessions[self.keys[idempotency_key]])
            if not destination.startswith("acct_"):
                raise GatewayError("No such destination account")
            session_id = "cs_test_" + secrets.token_hex(12)
            self.sessions[session_id] = {
                "id": session_id, "status": "open", "payment_status": "unpaid", "amount_total": amount,
                "currency": currency.lower(), "payment_intent": None, "expires_at": expires_at,
                "metadata": metadata, "description": description, "success_url": success_url,
                "cancel_url": cancel_url, "destination": destination, "application_fee": application_fee}
            self.keys[idempotency_key] = session_id
            self._save()
            return self._as_session(self.sessions[session_id])

    def get_checkout(self, session_id: str) -> CheckoutSession:
        with self._lock:
            self.calls.append("get_checkout")
            data = self.sessions.get(session_id)
            if data is None:
                raise GatewayError("No such checkout session")
            if data["status"] == "open" and data["expires_at"] <= time.time():
                data["status"] = "expired"
            return self._as_session(data)

    def get_payment(self, payment_intent_id: str) -> PaymentInfo:
        with self._lock:
            self.calls.append("get_payment")
            data = self.intents.get(payment_intent_id)
            if data is None:
                raise GatewayError("No such payment intent")
            return PaymentInfo(id=data["id"], status=data["status"], amount_received=data["amount_received"],
                               last_error=data.get("last_error", ""),
                               refunds=[RefundInfo(r["id"], r["amount"], r["status"]) for r in data["refunds"]])

    def refund(self, payment_intent_id: str, amount: int, idempotency_key: str) -> RefundInfo:
        with self._lock:
            self.calls.append("refund")
            data = self.intents.get(payment_intent_id)
            if data is None:
                raise GatewayError("No such payment intent")
            for refund in data["refunds"]:
                if refund.get("key") == idempotency_key:
                    return RefundInfo(refund["id"], refund["amount"], refund["status"])
            refunded = sum(r["amount"] for r in data["refunds"])
            if amount <= 0 or refunded + amount > data["amount_received"]:
                raise GatewayError("Refund amount is greater than the unrefunded amount")
            refund = {"id": "re_test_" + secrets.token_hex(10), "amount": amount, "status": "succeeded"}
            data["refunds"].append({**refund, "key": idempotency_key})
            self._save()
        self.emit("charge.refunded", {"id": "ch_" + payment_intent_id[3:], "object": "charge",
                                      "payment_intent": payment_intent_id, "amount_refunded": refunded + amount,
                                      "metadata": self.sessions[data["session"]]["metadata"]})
        return RefundInfo(**refund)

    # What the customer does on the test-payment page, and what Stripe does on its own.

    def complete(self, session_id: str) -> CheckoutSession:
        with self._lock:
            data = self.sessions[session_id]
            if data["status"] != "open":
                return self._as_session(data)
            intent_id = data["payment_intent"] or "pi_test_" + secrets.token_hex(12)  # after a decline, the same
            data.update(status="complete", payment_status="paid", payment_intent=intent_id)
            self.intents[intent_id] = {"id": intent_id, "status": "succeeded", "amount_received": data["amount_total"],
                                       "refunds": [], "session": session_id}
            self._save()
        self.emit("checkout.session.completed", self._event_object(data))
        return self._as_session(data)

    def fail(self, session_id: str, message: str) -> str:
        """A declined card: the intent exists and failed; the session stays open for another try."""
        with self._lock:
            data = self.sessions[session_id]
            intent_id = data["payment_intent"] or "pi_test_" + secrets.token_hex(12)
            data["payment_intent"] = intent_id
            self.intents[intent_id] = {"id": intent_id, "status": "requires_payment_method", "amount_received": 0,
                                       "refunds": [], "last_error": message, "session": session_id}
            self._save()
        self.emit("payment_intent.payment_failed", {"id": intent_id, "object": "payment_intent",
                                                    "metadata": data["metadata"],
                                                    "last_payment_error": {"message": message}})
        return intent_id

    def expire(self, session_id: str) -> CheckoutSession:
        with self._lock:
            data = self.sessions[session_id]
            if data["status"] != "open":
                return self._as_session(data)
            data["status"] = "expired"
            self._save()
        self.emit("checkout.session.expired", self._event_object(data))
        return self._as_session(data)

    def cancel_checkout(self, session_id: str) -> None:
        self.calls.append("cancel_checkout")
        if session_id in self.sessions:
            self.expire(session_id)

    def raw(self, session_id: str) -> dict[str, Any] | None:
        return self.sessions.get(session_id)

    @staticmethod
    def _event_object(data: dict[str, Any]) -> dict[str, Any]:
        keys = ("id", "status", "payment_status", "amount_total", "currency", "payment_intent", "metadata")
        return {"object": "checkout.session", **{key: data[key] for key in keys}}

    @staticmethod
    def _as_session(data: dict[str, Any]) -> CheckoutSession:
        url = f"/payments/test-checkout/{data['id']}"
        return CheckoutSession(id=data["id"], url=url, status=data["status"], payment_status=data["payment_status"],
                               amount_total=data["amount_total"], currency=data["currency"],
                               payment_intent=data["payment_intent"], expires_at=data["expires_at"],
                               metadata=dict(data["metadata"]))

    def _load(self) -> None:
        if self._file and self._file.exists():
            state = json.loads(self._file.read_text())
            self.sessions, self.intents, self.keys = state["sessions"], state["intents"], state["keys"]

    def _save(self) -> None:
        if self._file:
            self._file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._file.with_suffix(".tmp")
            tmp.write_text(json.dumps({"sessions": self.sessions, "intents": self.intents, "keys": self.keys}))
            tmp.replace(self._file)


def init_app(app: Flask) -> None:
    """The platform's Stripe gateway (or its fake), and, outside production, the fake payOS that stands in
    for organisations that chose payOS without entering credentials (``payments.payos``)."""
    choice = app.config.get("PAYMENT_GATEWAY")
    development = app.debug or app.testing or app.config["ENV_NAME"] == "development"
    if choice in (None, "payos"):  # payOS is chosen per organisation; Stripe stays as configured
        choice = "stripe" if app.config.get("STRIPE_SECRET_KEY") else ("fake" if development else "")
    gateway: Gateway | None = None
    if choice == "stripe":
        gateway = StripeGateway(app.config["STRIPE_SECRET_KEY"], app.config.get("STRIPE_API_BASE"))
    elif choice == "fake":
        from incubator.payments.webhooks import fake_emitter

        gateway = FakeGateway(app.config.get("FAKE_STRIPE_STATE_FILE"), emit=fake_emitter(app))
    app.extensions["payment_gateway"] = gateway
    if app.config["ENV_NAME"] != "production":
        from incubator.payments.payos import FakePayOSStore
        from incubator.payments.webhooks import payos_fake_emitter

        app.extensions["payos_fake"] = FakePayOSStore(app.config["PAYOS_FAKE_CHECKSUM_KEY"],
                                                      app.config.get("FAKE_PAYOS_STATE_FILE"),
                                                      emit=payos_fake_emitter(app))


def gateway() -> Gateway | None:
    """The platform's Stripe gateway (or its fake): ``services.gateway_for`` answers an organisation's."""
    return current_app.extensions.get("payment_gateway")
