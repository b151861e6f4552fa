"""The payOS implementation with an organisation's own credentials, through the official SDK talking HTTP
to an in-process fake payOS server (``PAYOS_API_BASE``): what it sends, how it checks the answers'
signatures, and the webhook signed with the organisation's checksum key. Never the network. The
credentials are entered on the payments page, stored encrypted, and never shown again."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from incubator.ledger.models import LedgerEntry, Payment
from incubator.payments.models import PaymentAccount
from tests import conftest
from tests.conftest import csrf_token
from tests.payments.fixtures import book_room, payos_signed

CLIENT_ID, API_KEY, CHECKSUM = "client-bbi-1", "api-key-bbi-secret", "checksum-bbi-secret"


def _sign(data: dict, key: str) -> str:
    """payOS's signature of an object, computed here apart from the SDK (lists as compact JSON)."""
    def text(value):
        return "" if value is None else json.dumps(value, separators=(",", ":")) if isinstance(value, list) \
            else str(value)
    return hmac.new(key.encode(), "&".join(f"{k}={text(data[k])}" for k in sorted(data)).encode(),
                    hashlib.sha256).hexdigest()


class FakePayOSServer:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict, dict]] = []
        self.links: dict[int, dict] = {}
        self.sign_with = CHECKSUM

    def __call__(self, environ, start_response):
        request = Request(environ)
        body = json.loads(request.get_data() or b"{}")
        self.requests.append((request.method, request.path, body, dict(request.headers)))
        answer = self.answer(request.method, request.path, body)
        return Response(json.dumps(answer), mimetype="application/json")(environ, start_response)

    def _ok(self, data: dict) -> dict:
        return {"code": "00", "desc": "success", "data": data, "signature": _sign(data, self.sign_with)}

    def answer(self, method: str, path: str, body: dict) -> dict:
        if method == "POST" and path == "/v2/payment-requests":
            if body["orderCode"] in self.links:
                return {"code": "231", "desc": "Đơn thanh toán đã tồn tại", "data": None}
            self.links[body["orderCode"]] = {**body, "status": "PENDING", "amountPaid": 0}
            return self._ok({"bin": "970436", "accountNumber": "0123456789", "accountName": "CONG TY BBI",
                             "amount": body["amount"], "description": body["description"],
                             "orderCode": body["orderCode"], "currency": "VND", "paymentLinkId": "pl1",
                             "status": "PENDING", "expiredAt": body["expiredAt"],
                             "checkoutUrl": f"https://pay.payos.vn/web/pl{body['orderCode']}", "qrCode": "000201"})
        order_code = int(path.split("/")[3]) if path.startswith("/v2/payment-requests/") else 0
        link = self.links.get(order_code)
        if link is None:
            return {"code": "101", "desc": "Không tìm thấy", "data": None}
        if method == "POST" and path.endswith("/cancel"):
            link["status"] = "CANCELLED"
        return self._ok({"id": "pl1", "orderCode": order_code, "amount": link["amount"],
                         "amountPaid": link["amountPaid"], "amountRemaining": link["amount"] - link["amountPaid"],
                         "status": link["status"], "createdAt": "2026-12-01T20:00:00+07:00", "transactions": [],
                         "cancellationReason": None, "canceledAt": None})


@pytest.fixture()
def payos_server(app, monkeypatch):
    fake = FakePayOSServer()
    server = make_server("127.0.0.1", 0, fake)
    monkeypatch.setattr(conftest, "ALLOWED_PORTS", conftest.ALLOWED_PORTS | {server.server_port})
    monkeypatch.setitem(app.config, "PAYOS_API_BASE", f"http://127.0.0.1:{server.server_port}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    server.shutdown()


def _enter_credentials(client, sign_in, world, **extra):
    sign_in(world.manager)
    data = {"csrf_token": csrf_token(client, "/o/bbi/manage/payments"), "gateway": "payos",
            "payos_client_id": CLIENT_ID, "payos_api_key": API_KEY, "payos_checksum_key": CHECKSUM,
            "bank_bin": "970436", "bank_account": "0123456789", "bank_account_name": "CONG TY BBI", **extra}
    return client.post("/o/bbi/manage/payments/gateway", data=data)


def _account(session, world):
    session.expire_all()
    return session.scalar(select(PaymentAccount).where(PaymentAccount.org_id == world.org.id))


def test_credentials_are_stored_encrypted_and_never_shown(app, client, sign_in, session, world):
    assert _enter_credentials(client, sign_in, world).status_code == 302
    account = _account(session, world)
    assert account.gateway == "payos" and account.payos_client_id == CLIENT_ID
    assert API_KEY not in account.payos_api_key and CHECKSUM not in account.payos_checksum_key
    from incubator.payments import credentials

    with app.app_context():
        assert (credentials.decrypt(account.payos_api_key), credentials.decrypt(account.payos_checksum_key)) == (
            API_KEY, CHECKSUM)
    page = client.get("/o/bbi/manage/payments").get_data(as_text=True)
    assert 'data-gateway="payos"' in page and API_KEY not in page and CHECKSUM not in page
    # Saving again with the keys left blank keeps them.
    stored = account.payos_api_key
    assert _enter_credentials(client, sign_in, world, payos_api_key="", payos_checksum_key="",
                              payos_client_id="").status_code == 302
    assert _account(session, world).payos_api_key == stored


def test_bad_settings_are_a_form_error_and_nothing_is_saved(client, sign_in, session, world, pay_api):
    answer = _enter_credentials(client, sign_in, world, bank_bin="9704", payos_checksum_key="")
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert 'data-field="bank_bin"' in page and 'data-field="payos_checksum_key"' in page
    assert _account(session, world) is None  # nothing half-saved
    api = pay_api(world.manager, "PUT", "/payment-gateway", json={"gateway": "payos", "bank_account": "12-34",
                                                                   "bank_bin": "970436"})
    assert api.status_code == 422 and api.get_json()["code"] == "invalid_gateway"
    assert set(api.get_json()["fields"]) == {"bank_account"}
    assert pay_api(world.manager, "PUT", "/payment-gateway", json={"gateway": "paypal"}).status_code == 422
    assert pay_api(world.founder, "PUT", "/payment-gateway", json={"gateway": "payos"}).status_code in (403, 404)
    ok = pay_api(world.manager, "PUT", "/payment-gateway", json={
        "gateway": "payos", "payos_client_id": CLIENT_ID, "payos_api_key": API_KEY, "payos_checksum_key": CHECKSUM})
    assert ok.status_code == 200 and ok.get_json()["has_payos_credentials"] is True
    assert API_KEY not in ok.get_data(as_text=True) and CHECKSUM not in ok.get_data(as_text=True)


def test_checkout_and_webhook_with_the_organisations_own_credentials(client, sign_in, session, world, fablab,
                                                                     pay_api, payos_server):
    _enter_credentials(client, sign_in, world)
    booking = book_room(pay_api, world.founder, fablab.room)
    answer = pay_api(world.founder, "POST", f"/bookings/{booking['id']}/checkout")
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["checkout_url"] == f"https://pay.payos.vn/web/pl{body['payment_id']}"
    method, path, sent, headers = payos_server.requests[0]
    assert (method, path, headers["X-Client-Id"], headers["X-Api-Key"]) == (
        "POST", "/v2/payment-requests", CLIENT_ID, API_KEY)
    payment = session.get(Payment, body["payment_id"])
    assert (sent["orderCode"], sent["amount"], sent["description"]) == (payment.id, 150_000, f"INC{payment.id}")
    assert sent["expiredAt"] == int(payment.expires_at.timestamp())  # the link lasts as long as the hold
    signed = "&".join(f"{k}={sent[k]}" for k in ("amount", "cancelUrl", "description", "orderCode", "returnUrl"))
    assert sent["signature"] == hmac.new(CHECKSUM.encode(), signed.encode(), hashlib.sha256).hexdigest()
    # The transfer arrives; payOS signs its webhook with the organisation's checksum key.
    payos_server.links[payment.id].update(status="PAID", amountPaid=150_000)
    data = {"orderCode": payment.id, "amount": 150_000, "description": f"INC{payment.id}",
            "accountNumber": "0123456789", "reference": "FT123", "transactionDateTime": "2026-12-01 20:01:00",
            "currency": "VND", "paymentLinkId": "pl1", "code": "00", "desc": "success", "counterAccountBankId": None,
            "counterAccountBankName": None, "counterAccountName": None, "counterAccountNumber": None,
            "virtualAccountName": None, "virtualAccountNumber": None}
    forged = client.post("/payos/webhook", data=payos_signed(data, "payos-development-checksum-key"))
    assert forged.status_code == 400  # the fake's key is not this organisation's
    genuine = client.post("/payos/webhook", data=payos_signed(data, CHECKSUM))
    assert genuine.status_code == 200 and genuine.get_json()["changes"] == ["paid"]
    assert payos_server.requests[-1][:2] == ("GET", f"/v2/payment-requests/{payment.id}")  # read back
    assert session.scalar(select(LedgerEntry.amount).where(LedgerEntry.payment_id == payment.id)) == 150_000
    # payOS cannot refund: a manager's refund is owed, to be sent by bank transfer.
    refund = pay_api(world.manager, "POST", f"/payments/{payment.id}/refund")
    assert refund.status_code == 200 and refund.get_json()["refund_owed"] == 150_000


def test_an_answer_with_a_bad_signature_is_refused_and_keeps_nothing(client, sign_in, session, world, fablab,
                                                                     pay_api, payos_server):
    _enter_credentials(client, sign_in, world)
    payos_server.sign_with = "not-the-checksum-key"
    booking = book_room(pay_api, world.founder, fablab.room)
    answer = pay_api(world.founder, "POST", f"/bookings/{booking['id']}/checkout")
    assert answer.status_code == 502 and answer.get_json()["code"] == "gateway_error"
    assert session.scalar(select(Payment.id)) is None


def test_a_retried_order_code_reads_the_link_back(app, payos_server):
    from incubator.payments.payos import PayOSGateway

    gateway = PayOSGateway(CLIENT_ID, API_KEY, CHECKSUM, base_url=app.config["PAYOS_API_BASE"])
    ask = {"amount": 50_000, "currency": "VND", "description": "Room", "metadata": {"payment_id": "42"},
           "success_url": "https://app/r?session_id={CHECKOUT_SESSION_ID}", "cancel_url": "https://app/c",
           "expires_at": 1900000000, "destination": "payos", "application_fee": 0, "idempotency_key": "k",
           "customer_email": "a@b.vn"}
    first = gateway.create_checkout(**ask)
    again = gateway.create_checkout(**ask)  # payOS answers 231: the order code exists
    assert (first.id, first.status, again.id, again.status) == ("42", "open", "42", "open")
    assert payos_server.requests[0][2]["returnUrl"] == "https://app/r?session_id=42"
    gateway.cancel_checkout("42")
    assert gateway.get_checkout("42").status == "expired"


def test_production_refuses_payos_without_an_encryption_key(app, monkeypatch):
    import config
    from incubator.core.errors import DomainError
    from incubator.payments import credentials

    settings = {"SECRET_KEY": "x" * 40, "DATABASE_URL": "postgresql://db/x", "REDIS_URL": "redis://cache:6379/0",
                "PAYMENT_GATEWAY": "payos"}
    with pytest.raises(config.ConfigError, match="PAYMENT_SECRET_KEYS"):
        config.Production.validate(settings)
    config.Production.validate({**settings, "PAYMENT_SECRET_KEYS": "k"})  # accepted with a key
    with app.app_context():
        monkeypatch.setitem(app.config, "ENV_NAME", "production")
        with pytest.raises(DomainError) as refused:
            credentials.encrypt(API_KEY)  # a platform with Stripe as default stores no payOS keys without one
        assert refused.value.code == "no_encryption_key"
        from cryptography.fernet import Fernet

        monkeypatch.setitem(app.config, "PAYMENT_SECRET_KEYS", Fernet.generate_key().decode())
        assert credentials.decrypt(credentials.encrypt(API_KEY)) == API_KEY
