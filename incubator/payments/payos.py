"""payOS (VietQR bank transfers, NAPAS 247) behind the same ``Gateway`` interface as Stripe, and its fake.

payOS issues a payment link per order code (our payment's id: unique, below 2**53) with a VietQR code
for the organisation's own bank account, and confirms it with a webhook signed with the organisation's
checksum key (HMAC-SHA256 of the ``data`` object's sorted ``key=value`` pairs joined by ``&``). The
official SDK (``payos``) makes the requests, checks the signatures of its answers and of the webhooks.

payOS cannot send money back: ``refund`` raises ``RefundNotSupported``, and the payments service records
the refund as owed, to be made by bank transfer and confirmed by a manager.

Without credentials (development, tests) ``FakePayOS`` stands in: its test page
(``payments_hooks.payos_checkout``) shows the VietQR code the customer would scan, and paying there
sends the webhook payOS would send, signed with ``PAYOS_FAKE_CHECKSUM_KEY``.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from incubator.payments.gateway import CheckoutSession, GatewayError, PaymentInfo, RefundInfo
from incubator.payments.vietqr import payload as vietqr_payload

CLOSED = {"CANCELLED": "expired", "EXPIRED": "expired"}


class RefundNotSupported(GatewayError):
    """The gateway cannot send money back: the refund is made by bank transfer."""


def reference(order_code: int) -> str:
    """The transfer's message: what identifies the payment on the bank statement (payOS: at most 25
    characters; some banks keep only 9, so it stays short)."""
    return f"INC{order_code}"


def order_code_of(session_id: str) -> int:
    if not session_id.isdigit() or int(session_id) >= 2**53:
        raise GatewayError("No such payment link")
    return int(session_id)


def intent_id(order_code: int) -> str:
    """What the ledger's reference names once the link is paid (unique across organisations)."""
    return f"payos_{order_code}"


def _session(order_code: int, status: str, amount: int, amount_paid: int, url: str, expires_at: int,
             metadata: dict[str, str]) -> CheckoutSession:
    paid = status == "PAID"
    return CheckoutSession(id=str(order_code), url=url, status="complete" if paid else CLOSED.get(status, "open"),
                           payment_status="paid" if paid else "unpaid", amount_total=amount_paid if paid else amount,
                           currency="vnd", payment_intent=intent_id(order_code) if paid else None,
                           expires_at=expires_at, metadata=metadata)


class PayOSGateway:
    """An organisation's payOS channel, with its own credentials. ``base_url`` or ``http_client`` point
    the SDK at a test server (``PAYOS_API_BASE``), as ``STRIPE_API_BASE`` does for Stripe."""

    name = "payos"

    def __init__(self, client_id: str, api_key: str, checksum_key: str, *, base_url: str | None = None,
                 http_client: Any = None) -> None:
        from payos import PayOS  # loaded only where payOS is used

        self.client = PayOS(client_id, api_key, checksum_key, base_url=base_url, timeout=20, max_retries=2,
                            http_client=http_client)

    def create_checkout(self, *, amount: int, currency: str, description: str, metadata: dict[str, str],
                        success_url: str, cancel_url: str, expires_at: int, destination: str,
                        application_fee: int, idempotency_key: str, customer_email: str) -> CheckoutSession:
        from payos import APIError
        from payos.types import CreatePaymentLinkRequest, ItemData

        order_code = int(metadata["payment_id"])
        request = CreatePaymentLinkRequest(
            order_code=order_code, amount=amount, description=reference(order_code), cancel_url=cancel_url,
            return_url=success_url.replace("{CHECKOUT_SESSION_ID}", str(order_code)), expired_at=expires_at,
            buyer_email=customer_email or None, items=[ItemData(name=description[:255], quantity=1, price=amount)])
        try:
            link = self._call(lambda: self.client.payment_requests.create(request))
        except GatewayError as exc:
            cause = exc.__cause__
            if not (isinstance(cause, APIError) and cause.error_code == "231"):  # 231: the order code exists
                raise
            return self.get_checkout(str(order_code))  # a retry of the same payment: the link it opened
        return _session(order_code, link.status, amount, 0, link.checkout_url, expires_at, metadata)

    def get_checkout(self, session_id: str) -> CheckoutSession:
        order_code = order_code_of(session_id)
        link = self._call(lambda: self.client.payment_requests.get(order_code))
        return _session(order_code, link.status, link.amount, link.amount_paid, "", 0, {})

    def get_payment(self, payment_intent_id: str) -> PaymentInfo:
        order_code = order_code_of(payment_intent_id.removeprefix("payos_"))
        link = self._call(lambda: self.client.payment_requests.get(order_code))
        return PaymentInfo(id=payment_intent_id, status=link.status.lower(), amount_received=link.amount_paid,
                           last_error="", refunds=[])

    def refund(self, payment_intent_id: str, amount: int, idempotency_key: str) -> RefundInfo:
        raise RefundNotSupported("payOS cannot refund: the money goes back by bank transfer")

    def cancel_checkout(self, session_id: str) -> None:
        order_code = order_code_of(session_id)
        self._call(lambda: self.client.payment_requests.cancel(order_code, "cancelled"))

    def verify_webhook(self, body: bytes) -> dict[str, Any]:
        """The ``data`` of a webhook whose signature is the organisation's (raises GatewayError otherwise)."""
        return dict(self._call(lambda: self.client.webhooks.verify(body)).model_dump_camel_case())

    @staticmethod
    def _call(request: Any) -> Any:
        from payos import PayOSError

        try:
            return request()
        except PayOSError as exc:
            raise GatewayError(str(exc) or type(exc).__name__) from exc


def signature(data: dict[str, Any], checksum_key: str) -> str:
    """payOS's signature of a webhook's ``data``, made by the SDK's own helper."""
    from payos._crypto import CryptoProvider

    return str(CryptoProvider().create_signature_from_object(data, checksum_key))


# -- the fake -----------------------------------------------------------------------------------------

class FakePayOSStore:
    """payOS's side, kept in memory (or in a JSON file, so that development survives restarts), for every
    organisation at once; ``FakePayOS`` is one organisation's view of it."""

    def __init__(self, checksum_key: str, state_file: str | None = None, emit: Any = None) -> None:
        self.checksum_key = checksum_key
        self.emit = emit or (lambda body: None)  # sends the webhook payOS would send
        self.lock = threading.Lock()
        self._file = Path(state_file) if state_file else None
        self.links: dict[str, dict[str, Any]] = {}
        self.calls: list[str] = []  # what was asked, for tests
        self.sent: list[bytes] = []  # webhooks waiting for delivery ("outbox" mode)
        if self._file and self._file.exists():
            self.links = json.loads(self._file.read_text())["links"]

    def save(self) -> None:
        if self._file:
            self._file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._file.with_suffix(".tmp")
            tmp.write_text(json.dumps({"links": self.links}))
            tmp.replace(self._file)

    def link(self, session_id: str) -> dict[str, Any]:
        data = self.links.get(session_id)
        if data is None:
            raise GatewayError("No such payment link")
        if data["status"] == "PENDING" and data["expires_at"] <= time.time():
            data["status"] = "EXPIRED"
        return data

    def pay(self, session_id: str) -> dict[str, Any]:
        """The customer's transfer arrives: the link is paid and the signed webhook goes out."""
        from payos.types import WebhookData

        with self.lock:
            data = self.link(session_id)
            if data["status"] != "PENDING":
                return data
            data.update(status="PAID", amount_paid=data["amount"], paid_at=time.strftime("%Y-%m-%d %H:%M:%S"))
            self.save()
        hook = WebhookData(order_code=int(session_id), amount=data["amount"], description=data["description"],
                           account_number=data["account"], reference=f"FT{time.time_ns() % 10**12:012d}",
                           transaction_date_time=data["paid_at"], currency="VND",
                           payment_link_id=data["link_id"], code="00", desc="success").model_dump_camel_case()
        self.emit(json.dumps({"code": "00", "desc": "success", "success": True, "data": hook,
                              "signature": signature(hook, self.checksum_key)}).encode())
        return data

    def cancel(self, session_id: str) -> dict[str, Any]:
        with self.lock:
            data = self.link(session_id)
            if data["status"] == "PENDING":
                data["status"] = "CANCELLED"
                self.save()
            return data


class FakePayOS:
    """One organisation's fake payOS channel, into its bank account (for the VietQR code)."""

    name = "payos"

    def __init__(self, store: FakePayOSStore, *, bank_bin: str, account: str, account_name: str) -> None:
        self.store, self.bank_bin, self.account, self.account_name = store, bank_bin, account, account_name

    def create_checkout(self, *, amount: int, currency: str, description: str, metadata: dict[str, str],
                        success_url: str, cancel_url: str, expires_at: int, destination: str,
                        application_fee: int, idempotency_key: str, customer_email: str) -> CheckoutSession:
        order_code = int(metadata["payment_id"])
        with self.store.lock:
            self.store.calls.append("create_checkout")
            if str(order_code) not in self.store.links:
                self.store.links[str(order_code)] = {
                    "order_code": order_code, "link_id": f"fake{order_code:08d}", "status": "PENDING",
                    "amount": amount, "amount_paid": 0, "description": reference(order_code), "item": description,
                    "expires_at": expires_at, "bank_bin": self.bank_bin, "account": self.account,
                    "account_name": self.account_name, "return_url": success_url.replace(
                        "{CHECKOUT_SESSION_ID}", str(order_code)), "cancel_url": cancel_url,
                    "qr_code": vietqr_payload(bank_bin=self.bank_bin, account=self.account, amount=amount,
                                              reference=reference(order_code))}
                self.store.save()
            data = self.store.links[str(order_code)]
        return _session(order_code, data["status"], amount, 0, f"/payments/test-payos/{order_code}", expires_at,
                        metadata)

    def get_checkout(self, session_id: str) -> CheckoutSession:
        with self.store.lock:
            self.store.calls.append("get_checkout")
            data = self.store.link(session_id)
            return _session(data["order_code"], data["status"], data["amount"], data["amount_paid"], "",
                            data["expires_at"], {})

    def get_payment(self, payment_intent_id: str) -> PaymentInfo:
        with self.store.lock:
            self.store.calls.append("get_payment")
            data = self.store.link(payment_intent_id.removeprefix("payos_"))
            return PaymentInfo(id=payment_intent_id, status=data["status"].lower(),
                               amount_received=data["amount_paid"], last_error="", refunds=[])

    def refund(self, payment_intent_id: str, amount: int, idempotency_key: str) -> RefundInfo:
        self.store.calls.append("refund")
        raise RefundNotSupported("payOS cannot refund: the money goes back by bank transfer")

    def cancel_checkout(self, session_id: str) -> None:
        self.store.calls.append("cancel_checkout")
        self.store.cancel(session_id)

    def verify_webhook(self, body: bytes) -> dict[str, Any]:
        checker = PayOSGateway("fake", "fake", self.store.checksum_key)  # the SDK's check, with the fake's key
        try:
            return checker.verify_webhook(body)
        finally:
            checker.client.close()
