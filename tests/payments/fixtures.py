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
        return client.open(f"/api/v1/orgs/bbi{url}", method=method, headers={"Authorization": f"Bearer {token}"},
                           **kwargs)

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
