from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
import stripe

from incubator.accounts.services import create_api_token
from incubator.payments.models import PaymentAccount
from tests.booking.fixtures import next_weekday_at

SECRET = "whsec_test_secret"


@pytest.fixture()
def fake(app):
    gateway = app.extensions["payment_gateway"]
    for state in (gateway.sent, gateway.calls, gateway.sessions, gateway.intents, gateway.keys):
        state.clear()
    return gateway


@pytest.fixture()
def paying(world, fablab, session):
    """bbi takes payments into its connected account; the meeting room has no credits, so it is paid."""
    session.add(PaymentAccount(org_id=world.org.id, stripe_account_id="acct_1TestBBI"))
    session.flush()
    return world


@pytest.fixture()
def pay_api(client, session):
    def _call(user, method, url, **kwargs):
        token, _record = create_api_token(session, user, "t")
        session.flush()
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        return client.open(f"/api/v1/orgs/bbi{url}", method=method, headers=headers, **kwargs)

    return _call


def book_room(api, user, resource, hour=10, minutes=90):
    starts = next_weekday_at(1, hour)
    response = api(user, "POST", "/bookings", json={"resource_id": resource.id, "starts_at": starts.isoformat(),
                                                    "ends_at": (starts + timedelta(minutes=minutes)).isoformat()})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def signed(payload: str, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    """Headers as Stripe signs them, made by the stripe library's own helper."""
    return {"Stripe-Signature": stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp),
            "Content-Type": "application/json"}


def event(event_type: str, obj: dict, event_id: str | None = None) -> str:
    return json.dumps({"id": event_id or f"evt_{time.time_ns()}", "object": "event", "type": event_type,
                       "data": {"object": obj}})


def deliver(client, fake, *, twice: bool = False) -> list:
    """Post the webhooks the fake gateway sent, as Stripe would."""
    answers = []
    sent, fake.sent[:] = list(fake.sent), []
    for body, header in sent:
        for _round in range(2 if twice else 1):
            answers.append(client.post("/stripe/webhook", data=body, headers={
                "Stripe-Signature": header, "Content-Type": "application/json"}))
    return answers


# -- payOS ----------------------------------------------------------------------------------------------

@pytest.fixture()
def payos_fake(app):
    """The fake payOS of the test settings (no credentials entered): its links and its webhook outbox."""
    store = app.extensions["payos_fake"]
    for state in (store.links, store.sent, store.calls):
        state.clear()
    return store


@pytest.fixture()
def on_payos(world, fablab, session):
    """bbi chose payOS, into its Vietcombank account, and entered no credentials: the fake stands in."""
    session.add(PaymentAccount(org_id=world.org.id, gateway="payos", bank_bin="970436", bank_account="0123456789",
                               bank_account_name="CONG TY BBI"))
    session.flush()
    return world


def deliver_payos(client, store, *, twice: bool = False) -> list:
    """Post the webhooks the fake payOS sent, as payOS would."""
    answers = []
    sent, store.sent[:] = list(store.sent), []
    for body in sent:
        for _round in range(2 if twice else 1):
            answers.append(client.post("/payos/webhook", data=body, headers={"Content-Type": "application/json"}))
    return answers


def payos_signed(data: dict, key: str) -> bytes:
    """A webhook body as payOS signs it: HMAC-SHA256 of the sorted key=value pairs of ``data`` joined by &,
    computed here independently of the SDK."""
    import hashlib
    import hmac

    text = "&".join(f"{k}={'' if data[k] is None else data[k]}" for k in sorted(data))
    signature = hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()
    return json.dumps({"code": "00", "desc": "success", "success": True, "data": data,
                       "signature": signature}).encode()
