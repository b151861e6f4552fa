from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from incubator.accounts.models import User
from incubator.core.db import Base, OrgScoped, TimestampMixin, intpk, str255, utcnow
from incubator.core.permissions import Permission, Role, role_has


class OrgKind(StrEnum):
    INCUBATOR = "incubator"
    UNIVERSITY_LAB = "university_lab"
    ENTERPRISE_LAB = "enterprise_lab"
    STATE_AGENCY = "state_agency"
    FUNDER = "funder"

    @property
    def label(self) -> str:
        return str(ORG_KIND_LABELS[self])


ORG_KIND_LABELS = {
    OrgKind.INCUBATOR: _l("Business incubator"),
    OrgKind.UNIVERSITY_LAB: _l("University lab"),
    OrgKind.ENTERPRISE_LAB: _l("Enterprise lab"),
    OrgKind.STATE_AGENCY: _l("State agency"),
    OrgKind.FUNDER: _l("Funder"),
}


class Organisation(TimestampMixin, Base):
    """A tenant of the platform."""

    __tablename__ = "organisations"

    id: Mapped[intpk]
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str255]
    kind: Mapped[OrgKind] = mapped_column(String(20), default=OrgKind.INCUBATOR)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Ho_Chi_Minh")
    currency: Mapped[str] = mapped_column(String(3), default="VND")
    default_locale: Mapped[str] = mapped_column(String(8), default="vi")
    # A platform admin's decisions: while suspended no one uses it (its pages and API answer 403
    # ``org_suspended``); once deleted it is gone from every address, its rows (payments, ledger) kept.
    suspended_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]

    memberships: Mapped[list[Membership]] = relationship(back_populates="org", cascade="all, delete-orphan")


class Membership(TimestampMixin, Base):
    """A user's role in one organisation.

    It carries ``org_id`` but is not ``OrgScoped``: it is what decides who belongs where, so it is
    always queried explicitly by user and organisation.
    """

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "org_id"),)

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(String(20))

    # Also gives User its ``memberships`` (accounts knows nothing of organisations).
    user: Mapped[User] = relationship(backref=backref("memberships", cascade="all, delete-orphan"))
    org: Mapped[Organisation] = relationship(back_populates="memberships")

    def has(self, permission: Permission) -> bool:
        return role_has(self.role, permission)


class Invitation(OrgScoped, Base):
    """An emailed invitation to join an organisation with a role. Only the token's hash is stored."""

    __tablename__ = "invitations"

    id: Mapped[intpk]
    email: Mapped[str255] = mapped_column(index=True)
    role: Mapped[Role] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    org: Mapped[Organisation] = relationship()
    invited_by: Mapped[User | None] = relationship()

    def is_pending(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > now
