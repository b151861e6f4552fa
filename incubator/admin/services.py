"""What a platform admin does to organisations and people across the platform: edit, suspend and
delete an organisation; find a user and reset their access. The rules, without commits (the pages
under /admin and the API's /api/v1/admin call these)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from incubator.accounts import services as account_services
from incubator.accounts.models import ApiToken, User
from incubator.core.db import utcnow
from incubator.core.errors import DomainError, NotFound
from incubator.core.pagination import text_filter
from incubator.orgs import services as org_services
from incubator.orgs.models import Membership, Organisation, OrgKind


def org_by_slug(session: Session, slug: str) -> Organisation:
    """An organisation not deleted, suspended or not (a platform admin sees both): else 404."""
    org = session.execute(select(Organisation).where(Organisation.slug == slug,
                                                     Organisation.deleted_at.is_(None))).scalar_one_or_none()
    if org is None:
        raise NotFound(_("There is nothing at this address."))
    return org


def orgs_query() -> Select[Any]:
    return (select(Organisation).where(Organisation.deleted_at.is_(None))
            .order_by(Organisation.name, Organisation.id))  # not org-scoped: all of them


def update_org(session: Session, org: Organisation, *, slug: str, name: str, kind: str, timezone: str,
               currency: str, default_locale: str) -> None:
    """The admin's edit: the owner's settings plus the address and the kind. A deleted organisation
    keeps its address taken (its rows still name it)."""
    errors: dict[str, str] = {}
    slug = (slug or "").strip().lower()
    if not org_services.SLUG_RE.match(slug) or slug in org_services.RESERVED_SLUGS:
        errors["slug"] = _("Use 1 to 40 lowercase letters, digits and dashes.")
    elif slug != org.slug and session.execute(select(Organisation.id).where(Organisation.slug == slug)).first():
        raise DomainError(_("This address is taken."), code="slug_taken", fields={"slug": _("This address is taken.")},
                          status=409)
    if kind not in {k.value for k in OrgKind}:
        errors["kind"] = _("Not a valid choice.")
    try:
        org_services.update_settings(org, name=name or "", timezone=timezone or "", currency=currency or "",
                                     default_locale=default_locale or "")
    except DomainError as error:
        errors = {**error.fields, **errors}
    if errors:
        raise DomainError(_("Please correct the highlighted fields."), fields=errors)
    org.slug, org.kind = slug, OrgKind(kind)
    session.flush()


def set_suspended(org: Organisation, suspended: bool) -> None:
    if suspended and org.suspended_at is None:
        org.suspended_at = utcnow()
    elif not suspended:
        org.suspended_at = None


def delete_org(session: Session, org: Organisation, confirm: str | None) -> None:
    """Soft delete: the organisation leaves every address and list, and nobody can enter it again; its
    rows stay (payments and ledger entries are accounting records that must be kept). The admin
    confirms by typing its address."""
    if (confirm or "").strip().lower() != org.slug:
        raise DomainError(_("Type the organisation's address to confirm."), code="confirm_mismatch",
                          fields={"confirm": _("Type %(slug)s to confirm.", slug=org.slug)})
    org.deleted_at = utcnow()
    session.flush()


def users_query(search: str | None = None) -> Select[Any]:
    """People (not organisations' service principals) by email, with their memberships."""
    stmt = (select(User).where(User.is_service.is_(False)).options(
        selectinload(User.memberships).selectinload(Membership.org))
        .order_by(User.email, User.id))
    matches = text_filter(search, User.email, User.name)
    return stmt if matches is None else stmt.where(matches)


def user_by_id(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or user.is_service:
        raise NotFound(_("There is nothing at this address."))
    return user


def reset_access(session: Session, user: User) -> int:
    """Sign the person out everywhere (every session and remember cookie), revoke their personal API
    tokens and mail them a link to choose a new password. Answers how many tokens were revoked."""
    user.session_version += 1
    tokens = session.execute(select(ApiToken).where(ApiToken.user_id == user.id,
                                                    ApiToken.revoked_at.is_(None))).scalars().all()
    for token in tokens:
        account_services.revoke_api_token(token)
    account_services.send_reset_mail(session, user)
    session.flush()
    return len(tokens)
