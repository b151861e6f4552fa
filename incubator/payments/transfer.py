"""Plain bank transfer, for an organisation with no gateway: the customer scans the organisation's
VietQR code (its bank, account, the amount and a reference naming the payment) and a manager marks the
payment received once it shows on the bank statement (``services.mark_received``, in the ledger with
who did it). Behind the same ``Gateway`` interface: no one else holds its state, so its "session"
carries the payment's id and end, and it can neither refund (refunds are owed, as with payOS) nor confirm."""

from __future__ import annotations

import time
from typing import Any

from flask import url_for

from incubator.payments.gateway import CheckoutSession, GatewayError, PaymentInfo, RefundInfo
from incubator.payments.payos import RefundNotSupported


class TransferGateway:
    name = "transfer"

    def create_checkout(self, *, amount: int, currency: str, description: str, metadata: dict[str, str],
                        success_url: str, cancel_url: str, expires_at: int, destination: str,
                        application_fee: int, idempotency_key: str, customer_email: str) -> CheckoutSession:
        payment_id = int(metadata["payment_id"])
        return CheckoutSession(id=f"transfer-{payment_id}-{expires_at}", status="open", payment_status="unpaid",
                               url=url_for("payments.transfer", payment_id=payment_id), amount_total=amount,
                               currency=currency.lower(), payment_intent=None, expires_at=expires_at,
                               metadata=metadata)

    def get_checkout(self, session_id: str) -> CheckoutSession:
        """Open until its end; what a manager marks received is recorded directly, never read here."""
        parts = session_id.split("-")
        if len(parts) != 3 or not (parts[1].isdigit() and parts[2].isdigit()):
            raise GatewayError("No such transfer")
        expires_at = int(parts[2])
        return CheckoutSession(id=session_id, url="", status="expired" if expires_at <= time.time() else "open",
                               payment_status="unpaid", amount_total=0, currency="vnd", payment_intent=None,
                               expires_at=expires_at)

    def get_payment(self, payment_intent_id: str) -> PaymentInfo:
        return PaymentInfo(id=payment_intent_id, status="succeeded", amount_received=0, last_error="", refunds=[])

    def refund(self, payment_intent_id: str, amount: int, idempotency_key: str) -> RefundInfo:
        raise RefundNotSupported("a bank transfer is refunded by bank transfer")

    def cancel_checkout(self, session_id: str) -> None:
        return None

    def verify_webhook(self, body: bytes) -> dict[str, Any]:
        raise GatewayError("bank transfers send no webhooks")
