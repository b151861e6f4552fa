"""The Stripe implementation, talking HTTP to an in-process fake Stripe server through the library's
API base setting: what it sends, and how it reads the answers. Never the network."""

from __future__ import annotations

import json
import threading
from urllib.parse import parse_qs

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from incubator.payments.gateway import GatewayError, StripeGateway
from tests import conftest


class FakeStripe:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict, dict]] = []

    def __call__(self, environ, start_response):
        request = Request(environ)
        form = parse_qs(request.get_data(as_text=True))
        self.requests.append((request.method, request.path, {k: v[0] for k, v in form.items()},
                              dict(request.headers)))
        body, status = self.answer(request.method, request.path, {k: v[0] for k, v in form.items()},
                                   request.args)
        return Response(json.dumps(body), status=status, mimetype="application/json")(environ, start_response)

    def answer(self, method, path, form, args):
        session = {"id": "cs_test_1", "object": "checkout.session", "url": "https://checkout.stripe.com/c/pay/cs_test_1",
                   "status": "complete", "payment_status": "paid", "amount_total": 150000, "currency": "vnd",
                   "payment_intent": "pi_1", "expires_at": 1900000000, "metadata": {"booking_id": "7"}}
        if method == "POST" and path == "/v1/checkout/sessions":
            return {**session, "status": "open", "payment_status": "unpaid", "payment_intent": None}, 200
        if path == "/v1/checkout/sessions/cs_test_1":
            return session, 200
        if path == "/v1/payment_intents/pi_1":
            return {"id": "pi_1", "object": "payment_intent", "status": "succeeded", "amount_received": 150000,
                    "last_payment_error": None}, 200
        if method == "GET" and path == "/v1/refunds":
            return {"object": "list", "data": [{"id": "re_1", "object": "refund", "amount": 50000,
                                                "status": "succeeded"}], "has_more": False, "url": "/v1/refunds"}, 200
        if method == "POST" and path == "/v1/refunds":
            if int(form["amount"]) > 100000:
                return {"error": {"type": "invalid_request_error", "message": "Refund is greater than unrefunded"}}, 400
            return {"id": "re_2", "object": "refund", "amount": int(form["amount"]), "status": "succeeded"}, 200
        return {"error": {"type": "invalid_request_error", "message": f"No route {path}"}}, 404


@pytest.fixture()
def stripe_server(monkeypatch):
    app = FakeStripe()
    server = make_server("127.0.0.1", 0, app)
    monkeypatch.setattr(conftest, "ALLOWED_PORTS", conftest.ALLOWED_PORTS | {server.server_port})
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_checkout_sends_what_stripe_needs(stripe_server):
    fake, base = stripe_server
    gateway = StripeGateway("sk_test_123", api_base=base)
    session = gateway.create_checkout(
        amount=150000, currency="VND", description="Meeting room", metadata={"booking_id": "7", "org": "bbi"},
        success_url="https://app/return", cancel_url="https://app/cancel", expires_at=1900000000,
        destination="acct_1TestBBI", application_fee=3000, idempotency_key="booking-7-abc", customer_email="a@b.vn")
    assert (session.id, session.status, session.url) == ("cs_test_1", "open", "https://checkout.stripe.com/c/pay/cs_test_1")
    method, path, form, headers = fake.requests[0]
    assert (method, path) == ("POST", "/v1/checkout/sessions")
    assert headers["Authorization"] == "Bearer sk_test_123" and headers["Idempotency-Key"] == "booking-7-abc"
    assert form["line_items[0][price_data][unit_amount]"] == "150000"  # VND has no minor unit
    assert form["line_items[0][price_data][currency]"] == "vnd"
    assert form["payment_intent_data[transfer_data][destination]"] == "acct_1TestBBI"
    assert form["payment_intent_data[application_fee_amount]"] == "3000"
    assert form["metadata[booking_id]"] == "7" and form["expires_at"] == "1900000000"


def test_reading_back_and_refunding(stripe_server):
    fake, base = stripe_server
    gateway = StripeGateway("sk_test_123", api_base=base)
    session = gateway.get_checkout("cs_test_1")
    assert (session.status, session.payment_status, session.payment_intent, session.amount_total) == (
        "complete", "paid", "pi_1", 150000)
    info = gateway.get_payment("pi_1")
    assert info.amount_received == 150000 and [(r.id, r.amount) for r in info.refunds] == [("re_1", 50000)]
    refund = gateway.refund("pi_1", 100000, idempotency_key="refund-1-50000")
    assert (refund.id, refund.amount) == ("re_2", 100000)
    method, path, form, headers = fake.requests[-1]
    assert form["reverse_transfer"] == "true" and headers["Idempotency-Key"] == "refund-1-50000"
    with pytest.raises(GatewayError):
        gateway.refund("pi_1", 200000, idempotency_key="refund-1-too-much")
