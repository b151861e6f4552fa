from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from incubator.core.db import Base, TimestampMixin, intpk, str120, str255, utcnow


class User(UserMixin, TimestampMixin, Base):
    __tablename__ = "users"

    id: Mapped[intpk]
    email: Mapped[str255] = mapped_column(unique=True)
    name: Mapped[str120]
    password_hash: Mapped[str255]
    locale: Mapped[str | None] = mapped_column(String(8))
    # The person's own time zone (an IANA name); None reads times in each organisation's.
    timezone: Mapped[str | None] = mapped_column(String(64))
    is_admin: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped on password change/reset: every other session and remember cookie stops working.
    session_version: Mapped[int] = mapped_column(default=1)
    last_login_at: Mapped[datetime | None]
    # When the person proved the address is theirs (the link mailed at registration, an invitation's
    # link, a password reset's). None: signed in, they see only the page that asks them to.
    email_verified_at: Mapped[datetime | None]
    # A service principal (an organisation's service token acts as it): one membership, no password,
    # no sign-in on the web, no mail (its address is under the reserved .invalid domain).
    is_service: Mapped[bool] = mapped_column(default=False, server_default="0")

    # ``user.memberships`` is declared by orgs (Membership.user's backref): accounts sits below orgs.
    api_tokens: Mapped[list[ApiToken]] = relationship(back_populates="user", cascade="all, delete-orphan",
                                                      foreign_keys="ApiToken.user_id")

    @property
    def is_active(self) -> bool:  # flask-login (a service principal is refused by the user loader)
        return self.active

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    def mark_verified(self) -> None:
        if self.email_verified_at is None:
            self.email_verified_at = utcnow()

    def get_id(self) -> str:  # flask-login: the session carries the version too
        return f"{self.id}:{self.session_version}"


class ApiToken(Base):
    """An API token: a person's, or a service principal's (``user.is_service``: an organisation's
    service token). Only its SHA-256 is stored; the token is shown once.

    ``scopes`` is a space-separated set (``read``, ``write``, ``<domain>:read``, ``<domain>:write``);
    ``expires_at`` None means it never expires."""

    __tablename__ = "api_tokens"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str120]
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    scopes: Mapped[str] = mapped_column(String(255), default="read write", server_default="read write")
    expires_at: Mapped[datetime | None]
    # A service token: the organisation it belongs to (its principal's one membership) and who made it
    # (a manager there). Both None for a personal token.
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)

    user: Mapped[User] = relationship(back_populates="api_tokens", foreign_keys=[user_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or utcnow())


class IdempotencyKey(Base):
    """The stored outcome of a POST sent with an ``Idempotency-Key`` (``incubator.api.idempotency``).

    One row per (principal, key): the unique constraint means two first requests cannot both be
    recorded. ``fingerprint`` is the SHA-256 of method, path and body; a 2xx or 4xx answer is kept
    (status, the Location/ETag/Content-Type headers, body) until ``expires_at`` (24 hours)."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("owner_id", "key"),)

    id: Mapped[intpk]
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str255]
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int]
    headers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
