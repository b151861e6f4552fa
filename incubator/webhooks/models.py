"""Webhook subscriptions, the event outbox, and the deliveries with their attempts.

* ``WebhookSubscription``: an organisation's endpoint, the events it wants, and its signing secret.
  The secret must sign every delivery, so it cannot be hashed: it is stored encrypted (Fernet, see
  ``crypto``), shown once when created, and never answered again.
* ``OutboxEvent``: one event, written in the transaction of the change it reports, with the exact body
  every delivery sends (so a retry sends the same bytes).
* ``WebhookDelivery``: the outbox row per subscription (written in the same transaction): pending
  until an attempt gets a 2xx, retried with backoff for 24 hours, then failed. The worker claims a
  delivery (``claimed_until``) before it sends, so two workers never send it at the same time.
* ``DeliveryAttempt``: every HTTP try with its status code, the start of the response, the error and
  the duration: the delivery log.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from incubator.core.db import Base, OrgScoped, TimestampMixin, intpk, utcnow
from incubator.core.versioning import Versioned


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its next attempt (or being sent)
    SUCCEEDED = "succeeded"  # an attempt got a 2xx answer
    FAILED = "failed"  # 24 hours of attempts without a 2xx


class WebhookSubscription(OrgScoped, Versioned, TimestampMixin, Base):
    __tablename__ = "webhook_subscriptions"
    # One webhook per URL and organisation (two clicks on "create" make one); the hash keeps the index small.
    __table_args__ = (UniqueConstraint("org_id", "url_hash"),)

    id: Mapped[intpk]
    url: Mapped[str] = mapped_column(String(2000))
    url_hash: Mapped[str] = mapped_column(String(64))  # sha256 of the URL
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(String(255), default="")
    secret_encrypted: Mapped[str] = mapped_column(Text)
    secret_hint: Mapped[str] = mapped_column(String(16))  # the secret's first characters, to recognise it
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)

    def wants(self, event_type: str) -> bool:
        return not self.paused and event_type in (self.events or [])


class OutboxEvent(OrgScoped, Base):
    __tablename__ = "webhook_outbox"
    __table_args__ = (Index("ix_webhook_outbox_org_created", "org_id", "created_at"),)

    id: Mapped[intpk]
    public_id: Mapped[str] = mapped_column(String(40), unique=True)  # evt_...: the body's "id"
    type: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)  # the exact JSON every delivery of the event sends
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def data(self) -> Any:
        import json

        return json.loads(self.body).get("data")


class WebhookDelivery(OrgScoped, Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("event_id", "subscription_id"),
                      Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
                      Index("ix_webhook_deliveries_subscription_created", "subscription_id", "created_at"))

    id: Mapped[intpk]
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("webhook_outbox.id", ondelete="CASCADE"), index=True)
    status: Mapped[DeliveryStatus] = mapped_column(String(12), default=DeliveryStatus.PENDING)
    attempt_count: Mapped[int] = mapped_column(default=0)  # every attempt, "send again" included
    round_tries: Mapped[int] = mapped_column(default=0)  # attempts since the round started (backoff)
    round_started_at: Mapped[datetime] = mapped_column(default=utcnow)  # retries last 24 h from here
    round_manual: Mapped[bool] = mapped_column(Boolean, default=False)  # the round was started by "send again"
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime | None]  # a worker is sending it until then
    last_status_code: Mapped[int | None]
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    event: Mapped[OutboxEvent] = relationship(lazy="selectin")
    subscription: Mapped[WebhookSubscription] = relationship()
    attempts: Mapped[list[DeliveryAttempt]] = relationship(
        order_by="DeliveryAttempt.id", cascade="all, delete-orphan", passive_deletes=True,
        back_populates="delivery")


class DeliveryAttempt(OrgScoped, Base):
    __tablename__ = "webhook_attempts"

    id: Mapped[intpk]
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]  # 1, 2, ... within the delivery
    manual: Mapped[bool] = mapped_column(Boolean, default=False)  # started by "send again"
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)
    status_code: Mapped[int | None]
    response_body: Mapped[str] = mapped_column(String(500), default="")  # its first characters
    error: Mapped[str] = mapped_column(String(300), default="")
    duration_ms: Mapped[int] = mapped_column(default=0)

    delivery: Mapped[WebhookDelivery] = relationship(back_populates="attempts")

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
