"""The ledger: every movement of money and of included lab credit, and the payments it records.

Booking writes credit rows, payments writes money rows and the payments themselves, intake and
reporting read them. It sits below all of them and imports none of them: references to bookings,
startups, cohorts and applications are by table name. What happens to a payment (settled, refunded,
expired) reaches the domains that care through the signals in ``incubator.ledger.signals``.

Money is an integer in the currency's minor unit (VND has none).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from incubator.accounts.models import User
from incubator.core.db import Base, OrgScoped, intpk, utcnow


class PaymentStatus(StrEnum):
    PENDING = "pending"  # a checkout session is open
    PAID = "paid"
    EXPIRED = "expired"  # the session ran out unpaid
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


class PaymentPurpose(StrEnum):
    BOOKING = "booking"
    APPLICATION_FEE = "application_fee"


class LedgerKind(StrEnum):
    CREDIT_USE = "credit_use"  # included lab minutes spent on a booking (minutes < 0)
    CREDIT_RETURN = "credit_return"  # minutes given back (minutes > 0)
    PAYMENT = "payment"  # money received (amount > 0)
    REFUND = "refund"  # money given back (amount < 0)


MONEY_KINDS = (LedgerKind.PAYMENT, LedgerKind.REFUND)


class Payment(OrgScoped, Base):
    """One checkout for one thing to pay: a booking (at most one payment, a unique index) or an
    application's fee (one open or paid payment at a time, checked by the service)."""

    __tablename__ = "payments"
    __table_args__ = (CheckConstraint("amount > 0", name="positive"),
                      CheckConstraint("amount_refunded >= 0 AND amount_refunded <= amount", name="refunded"),
                      Index("ix_payments_org_created", "org_id", "created_at"))

    id: Mapped[intpk]
    purpose: Mapped[PaymentPurpose] = mapped_column(String(20), default=PaymentPurpose.BOOKING)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"), unique=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)  # who pays
    startup_id: Mapped[int | None] = mapped_column(ForeignKey("startups.id", ondelete="SET NULL"), index=True)
    description: Mapped[str] = mapped_column(String(255))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    platform_fee: Mapped[int] = mapped_column(BigInteger, default=0)
    amount_refunded: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[PaymentStatus] = mapped_column(String(20), default=PaymentStatus.PENDING)
    destination_account: Mapped[str] = mapped_column(String(64))
    gateway: Mapped[str] = mapped_column(String(10), default="stripe", server_default="stripe")  # stripe | payos
    # A refund the gateway cannot make (payOS): owed, paid by bank transfer, then confirmed by a manager
    refund_owed: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    checkout_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    checkout_url: Mapped[str | None] = mapped_column(String(1000))
    payment_intent_id: Mapped[str | None] = mapped_column(String(255), index=True)
    failure_message: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    paid_at: Mapped[datetime | None]
    # The buyer on the receipt, as typed at checkout (a company gives its tax code and address)
    buyer_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    buyer_company: Mapped[str] = mapped_column(String(200), default="", server_default="")
    buyer_tax_code: Mapped[str] = mapped_column(String(14), default="", server_default="")
    buyer_address: Mapped[str] = mapped_column(String(300), default="", server_default="")
    # The seller's VAT rate when the checkout opened (percent, VAT-inclusive price); None: not charged
    vat_rate: Mapped[int | None] = mapped_column(SmallInteger)

    user: Mapped[User] = relationship()

    @property
    def receipt_number(self) -> str:
        return f"R{self.org_id:03d}-{self.id:06d}"

    @property
    def is_settled(self) -> bool:
        return self.status in (PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)


class LedgerEntry(OrgScoped, Base):
    """Every payment, refund and credit movement, in one table.

    Credit rows count minutes of a startup's included lab time (``credit_balance`` sums them); money
    rows count minor units. ``reference`` names the gateway object a money row records (a payment
    intent or a refund) and is unique, so no webhook delivery can record the same money twice.
    """

    __tablename__ = "ledger_entries"
    __table_args__ = (Index("ix_ledger_entries_startup_kind", "startup_id", "resource_kind"),
                      CheckConstraint("kind NOT IN ('payment', 'refund') OR currency IS NOT NULL", name="currency"))

    id: Mapped[intpk]
    kind: Mapped[LedgerKind] = mapped_column(String(16))
    startup_id: Mapped[int | None] = mapped_column(ForeignKey("startups.id", ondelete="SET NULL"))
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id", ondelete="SET NULL"), index=True)
    resource_kind: Mapped[str | None] = mapped_column(String(12))
    minutes: Mapped[int] = mapped_column(default=0)  # credit rows: negative used, positive returned
    amount: Mapped[int] = mapped_column(BigInteger, default=0)  # money rows: positive in, negative out
    currency: Mapped[str | None] = mapped_column(String(3))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), index=True)
    reference: Mapped[str | None] = mapped_column(String(255), unique=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)  # a manager's hand
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    payment: Mapped[Payment | None] = relationship()
