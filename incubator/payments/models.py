"""Payments' own tables: how each organisation takes payments (its gateway, its Stripe account or its
payOS credentials and bank account) and the webhook events handled.

The payments and the ledger rows live in ``incubator.ledger.models`` (booking and intake read them too).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from incubator.core.db import Base, OrgScoped, intpk, utcnow


class GatewayChoice(StrEnum):
    DEFAULT = ""  # the platform's PAYMENT_GATEWAY
    STRIPE = "stripe"
    PAYOS = "payos"
    TRANSFER = "transfer"  # no gateway: the organisation's VietQR code, marked received by a manager


class PaymentAccount(OrgScoped, Base):
    """How the organisation is paid: its own Stripe account (Connect), or its payOS channel (VietQR
    into its own bank account). The payOS API key and checksum key are stored encrypted
    (``payments.credentials``) and never shown again."""

    __tablename__ = "payment_accounts"

    id: Mapped[intpk]
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), unique=True)
    gateway: Mapped[GatewayChoice] = mapped_column(String(10), default=GatewayChoice.DEFAULT, server_default="")
    stripe_account_id: Mapped[str] = mapped_column(String(64), default="")
    payos_client_id: Mapped[str] = mapped_column(String(64), default="", server_default="")
    payos_api_key: Mapped[str] = mapped_column(String(500), default="", server_default="")  # encrypted
    payos_checksum_key: Mapped[str] = mapped_column(String(500), default="", server_default="")  # encrypted
    bank_bin: Mapped[str] = mapped_column(String(8), default="", server_default="")  # NAPAS bank id, 6 digits
    bank_account: Mapped[str] = mapped_column(String(19), default="", server_default="")
    bank_account_name: Mapped[str] = mapped_column(String(100), default="", server_default="")
    connected_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The seller on receipts and in the e-invoice export (``services.configure_seller``)
    legal_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    legal_address: Mapped[str] = mapped_column(String(300), default="", server_default="")
    tax_code: Mapped[str] = mapped_column(String(14), default="", server_default="")  # mã số thuế
    vat_rate: Mapped[int | None] = mapped_column(SmallInteger)  # 0, 5, 8 or 10 %; None: VAT not charged

    @property
    def has_payos_credentials(self) -> bool:
        return bool(self.payos_client_id and self.payos_api_key and self.payos_checksum_key)


class WebhookEvent(Base):
    """A gateway event already handled: stored in the same transaction as its effect."""

    __tablename__ = "webhook_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
