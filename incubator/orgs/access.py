"""Who and what the organisation's member pages and their API twins may load: one place for both doors.

Rows come from the current organisation only (``g.org``); another organisation's id, and a service
principal's membership on the member routes, answer 404. The rules of changing them (only owners hand
out the owner role, the last owner stays, ...) are in ``orgs.services``.
"""

from __future__ import annotations

from typing import Any

from flask import abort, g
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from incubator.accounts.models import ApiToken, User
from incubator.core.db import utcnow
from incubator.core.pagination import text_filter
from incubator.core.permissions import Role
from incubator.core.tenancy import get_or_404
from incubator.extensions import db
from incubator.orgs.models import Invitation, Membership


def _valid_id(ident: int) -> None:
    if not 0 < ident < 2**31:
        abort(404)


def members_query(q: str | None = None, role: str | None = None) -> Select[Any]:
    """The organisation's members, people only (service principals are listed with their tokens),
    optionally those whose name or email contains ``q`` and who hold ``role``."""
    stmt = (select(Membership).options(joinedload(Membership.user)).join(Membership.user)
            .where(Membership.org_id == g.org.id, User.is_service.is_(False)))
    found = text_filter(q, User.name, User.email)
    if found is not None:
        stmt = stmt.where(found)
    if role:
        stmt = stmt.where(Membership.role == Role(role))
    return stmt.order_by(Membership.role, User.name, Membership.id)


def member_or_404(membership_id: int) -> Membership:
    _valid_id(membership_id)
    membership = db.session.execute(
        select(Membership).join(Membership.user).where(Membership.id == membership_id, Membership.org_id == g.org.id,
                                                       User.is_service.is_(False))).scalar_one_or_none()
    if membership is None:
        abort(404)
    return membership


def pending_invitations() -> Select[Any]:
    """Invitations neither accepted nor revoked (expired ones too: the page shows them as expired)."""
    return (select(Invitation).where(Invitation.org_id == g.org.id, Invitation.accepted_at.is_(None),
                                     Invitation.revoked_at.is_(None)).order_by(Invitation.created_at.desc(),
                                                                                Invitation.id.desc()))


def invitation_or_404(invitation_id: int) -> Invitation:
    return get_or_404(Invitation, invitation_id)


def service_tokens_query() -> Select[Any]:
    """The organisation's service tokens (each its service principal's one token), newest first."""
    return (select(ApiToken).join(ApiToken.user)
            .options(joinedload(ApiToken.user), joinedload(ApiToken.created_by))
            .where(User.is_service.is_(True), ApiToken.org_id == g.org.id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc()))


def service_token_or_404(api_token_id: int) -> ApiToken:
    _valid_id(api_token_id)
    record = db.session.execute(service_tokens_query().where(ApiToken.id == api_token_id)).unique().scalar_one_or_none()
    if record is None:
        abort(404)
    return record


def service_role(record: ApiToken) -> Role:
    """The role a service token acts with in the current organisation."""
    membership = db.session.execute(select(Membership).where(Membership.user_id == record.user_id,
                                                             Membership.org_id == g.org.id)).scalar_one()
    return Role(membership.role)


def is_expired(record: ApiToken) -> bool:
    return record.is_expired(utcnow())
