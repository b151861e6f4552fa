"""Payments' own tables: the organisations' connected Stripe accounts and the webhook events handled.

The payments and the ledger rows live in ``incubator.ledger.models`` (booking and intake read them too).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from incubator.core.db import Base, OrgScoped, intpk, utcnow


class PaymentAccount(OrgScoped, Base):
    """The organisation's own Stripe account (Connect), which receives its payments."""

    __tablename__ = "payment_accounts"

    id: Mapped[intpk]
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), unique=True)
    stripe_account_id: Mapped[str] = mapped_column(String(64))
    connected_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookEvent(Base):
    """A gateway event already handled: stored in the same transaction as its effect."""

    __tablename__ = "webhook_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
