"""Organisations, memberships and invitations."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, g, has_request_context, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, contains_eager

from incubator.accounts.models import ApiToken, User
from incubator.accounts.services import create_api_token, normalise_email, revoke_api_token
from incubator.core.db import utcnow
from incubator.core.errors import Conflict, DomainError, NotAllowed
from incubator.core.mail import send_mail
from incubator.core.permissions import Permission, Role
from incubator.core.tenancy import all_orgs, lock_row, set_current_org
from incubator.core.timezones import is_valid_timezone
from incubator.core.tokens import hash_token, new_token
from incubator.orgs.models import Invitation, Membership, Organisation, OrgKind

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
RESERVED_SLUGS = {"admin", "api", "auth", "static", "new"}


def create_org(session: Session, *, slug: str, name: str, kind: OrgKind | str = OrgKind.INCUBATOR,
               timezone: str = "Asia/Ho_Chi_Minh", currency: str = "VND", default_locale: str = "vi") -> Organisation:
    slug = slug.strip().lower()
    if not SLUG_RE.match(slug) or slug in RESERVED_SLUGS:
        raise DomainError(_("Use 1 to 40 lowercase letters, digits and dashes."), code="invalid_slug",
                          fields={"slug": _("Use 1 to 40 lowercase letters, digits and dashes.")})
    if session.execute(select(Organisation.id).where(Organisation.slug == slug)).first():
        raise DomainError(_("This address is taken."), code="slug_taken", fields={"slug": _("This address is taken.")},
                          status=409)
    org = Organisation(slug=slug, name=name.strip(), kind=OrgKind(kind))
    update_settings(org, name=name, timezone=timezone, currency=currency, default_locale=default_locale)
    session.add(org)
    session.flush()
    return org


def update_settings(org: Organisation, *, name: str, timezone: str, currency: str, default_locale: str) -> None:
    errors = {}
    if not name.strip():
        errors["name"] = _("This field is required.")
    elif len(name.strip()) > 255:
        errors["name"] = _("At most %(n)d characters.", n=255)
    if not is_valid_timezone(timezone):
        errors["timezone"] = _("Unknown time zone.")
    if not re.fullmatch(r"[A-Za-z]{3}", currency or ""):
        errors["currency"] = _("Use a three-letter ISO 4217 code, e.g. VND.")
    if default_locale not in current_app.config["LANGUAGES"]:
        errors["default_locale"] = _("Unsupported language.")
    if errors:
        raise DomainError(_("Please correct the highlighted fields."), fields=errors)
    org.name, org.timezone, org.currency, org.default_locale = name.strip(), timezone, currency.upper(), default_locale


def ensure_member(session: Session, org: Organisation, user: User, role: Role) -> Membership:
    """The user's membership of ``org``, made with ``role`` when they have none (an existing role stays)."""
    membership = session.execute(select(Membership).where(Membership.org_id == org.id,
                                                          Membership.user_id == user.id)).scalar_one_or_none()
    return membership or add_member(session, org, user, role)


def add_member(session: Session, org: Organisation, user: User, role: Role | str) -> Membership:
    membership = session.execute(
        select(Membership).where(Membership.org_id == org.id, Membership.user_id == user.id)
    ).scalar_one_or_none()
    if membership is None:
        membership = Membership(org=org, user=user, role=Role(role))
        session.add(membership)
        forget_memberships()
    else:
        membership.role = Role(role)
    session.flush()
    return membership


def find_org(slug: str, user: User | None = None) -> Organisation | None:
    """The organisation of ``slug``. For a signed-in ``user`` who is a member, it is the one among their
    memberships (``memberships_of``, read for the page's menu anyway), so a member's page reads no row
    for it; anyone else's request reads it by slug."""
    from incubator.extensions import db

    if user is not None and getattr(user, "is_authenticated", False):
        found = next((m.org for m in memberships_of(db.session, user) if m.org.slug == slug), None)
        if found is not None:
            return found
    return db.session.execute(select(Organisation).where(Organisation.slug == slug,
                                                         Organisation.deleted_at.is_(None))).scalar_one_or_none()


def find_membership(user: User, org: Organisation) -> Membership | None:
    """The user's membership of ``org``, found among all their memberships (``memberships_of``): a page
    needs those for its organisation menu anyway, so a request reads memberships once."""
    from incubator.extensions import db

    return next((m for m in memberships_of(db.session, user) if m.org_id == org.id), None)


def memberships_of(session: Session, user: User) -> list[Membership]:
    """The user's memberships with their organisations, by organisation name. Read once per request
    (kept on ``g`` until the request ends or a membership is added or removed)."""
    known: dict[int, list[Membership]] | None = g.setdefault("_memberships", {}) if has_request_context() else None
    if known is not None and user.id in known:
        return known[user.id]
    stmt = (select(Membership).join(Membership.org).options(contains_eager(Membership.org))
            .where(Membership.user_id == user.id, Organisation.deleted_at.is_(None)).order_by(Organisation.name))
    memberships = list(session.execute(stmt).scalars())
    if known is not None:
        known[user.id] = memberships
    return memberships


def forget_memberships() -> None:
    """Memberships changed: the next lookup of this request reads them again. Also called at the start of
    every request (``incubator._init_request_hooks``), whose application context a test may share."""
    if has_request_context():
        g.pop("_memberships", None)


def member_home(session: Session, user: User) -> str | None:
    """A member lands on the dashboard of the organisation they used last, else of their first one."""
    from flask import session as browser

    memberships = memberships_of(session, user)
    last = browser.get("last_org")
    for membership in memberships:
        if membership.org.slug == last:
            return url_for("orgs.dashboard", org_slug=last)
    return url_for("orgs.dashboard", org_slug=memberships[0].org.slug) if memberships else None


def _owner_count(session: Session, org: Organisation) -> int:
    return session.execute(
        select(func.count()).select_from(Membership).where(Membership.org_id == org.id, Membership.role == Role.OWNER)
    ).scalar_one()


def change_role(session: Session, actor: Membership, target: Membership, role: Role | str) -> None:
    role = Role(role)
    if Role.OWNER in (role, target.role) and not actor.has(Permission.ASSIGN_OWNER):
        raise NotAllowed(_("Only an owner can give or take the owner role."))
    if target.role == Role.OWNER and role != Role.OWNER and _owner_count(session, target.org) <= 1:
        raise DomainError(_("An organisation keeps at least one owner."), code="last_owner")
    target.role = role


def remove_member(session: Session, actor: Membership, target: Membership) -> None:
    if target.role == Role.OWNER:
        if not actor.has(Permission.ASSIGN_OWNER):
            raise NotAllowed(_("Only an owner can remove an owner."))
        if _owner_count(session, target.org) <= 1:
            raise DomainError(_("An organisation keeps at least one owner."), code="last_owner")
    session.delete(target)
    forget_memberships()


def invite(session: Session, org: Organisation, email: str, role: Role | str, invited_by: User | None,
           actor: Membership | None = None) -> Invitation:
    email = normalise_email(email)
    role = Role(role)
    if role == Role.OWNER and actor is not None and not actor.has(Permission.ASSIGN_OWNER):
        raise NotAllowed(_("Only an owner can give or take the owner role."))
    existing = session.execute(
        select(Membership).join(Membership.user).where(Membership.org_id == org.id, func.lower(User.email) == email)
    ).scalar_one_or_none()
    if existing is not None:
        raise DomainError(_("This person is already a member."), code="already_member",
                          fields={"email": _("This person is already a member.")}, status=409)
    token = new_token(32)
    invitation = Invitation(org_id=org.id, email=email, role=role, token_hash=hash_token(token),
                            invited_by=invited_by,
                            expires_at=utcnow() + timedelta(days=current_app.config["INVITATION_MAX_AGE_DAYS"]))
    session.add(invitation)
    session.flush()
    link = url_for("invitations.invitation", token=token, _external=True)
    with force_locale(org.default_locale):
        subject = _("You are invited to join %(org)s on Incubator", org=org.name)
        body = render_template("orgs/email/invitation.txt", org=org, role=Role(role), link=link,
                               inviter=invited_by, days=current_app.config["INVITATION_MAX_AGE_DAYS"])
    send_mail(session, email, subject, body)
    return invitation


def find_invitation(session: Session, token: str) -> Invitation | None:
    with all_orgs(session):  # an invitation link is opened outside any organisation
        invitation = session.execute(
            select(Invitation).where(Invitation.token_hash == hash_token(token))
        ).scalar_one_or_none()
    if invitation is None or not invitation.is_pending():
        return None
    return invitation


def invitations_for_stmt(user: User, now: datetime | None = None) -> Select[Any]:
    """The invitations sent to ``user``'s address that are still open (not accepted, revoked or expired),
    in any organisation, the soonest to expire first: what they may accept while signed in."""
    now = now or utcnow()
    return (select(Invitation).where(Invitation.email == normalise_email(user.email), Invitation.accepted_at.is_(None),
                                     Invitation.revoked_at.is_(None), Invitation.expires_at > now)
            .order_by(Invitation.expires_at, Invitation.id)
            .execution_options(all_orgs=True))  # an invitation is to join another organisation


def own_invitation(session: Session, invitation_id: int, user: User) -> Invitation | None:
    """An open invitation sent to ``user``'s address, by its id; None for anyone else's (or a closed one)."""
    if not 0 < invitation_id < 2**31:
        return None
    return session.execute(invitations_for_stmt(user).where(Invitation.id == invitation_id)).scalar_one_or_none()


def accept_invitation(session: Session, invitation: Invitation, user: User, *, by_link: bool = False) -> Membership:
    """``user`` joins with the invitation's role. The invitation's row is locked first: of two clicks at
    once, the second waits and finds it accepted (409 ``already_accepted``) rather than a second membership.
    ``by_link``: accepted through the link mailed to the address, which proves the address is ``user``'s."""
    if normalise_email(user.email) != invitation.email:
        raise NotAllowed(_("This invitation was sent to %(email)s. Sign in with that address.",
                           email=invitation.email))
    set_current_org(session, invitation.org)  # joining is work inside the inviting organisation (core.rls)
    lock_row(session, invitation)
    if invitation.accepted_at is not None:
        raise Conflict(_("This invitation was already accepted."), code="already_accepted")
    membership = session.execute(
        select(Membership).where(Membership.org_id == invitation.org_id, Membership.user_id == user.id)
    ).scalar_one_or_none()
    if membership is None:
        membership = add_member(session, invitation.org, user, invitation.role)
    invitation.accepted_at = utcnow()
    if by_link:
        user.mark_verified()
    return membership


# -- service tokens -------------------------------------------------------------------------------

SERVICE_EMAIL_DOMAIN = "service.invalid"  # reserved (RFC 2606): core.mail never sends to it
UNUSABLE_PASSWORD = "!"  # noqa: S105 (not a hash: no password ever verifies against it)


def create_service_token(session: Session, org: Organisation, actor: Membership, *, name: str, role: Role | str,
                         scopes: list[str] | tuple[str, ...] | str, expires_at: datetime | None
                         ) -> tuple[str, ApiToken]:
    """A token not tied to a person: a service principal (a user row with ``is_service``, no password,
    an address that receives no mail) with one membership of ``org`` in ``role``, and its token, made
    by ``actor``. Every permission check then works as for a member with that role."""
    if actor.user.is_service:
        raise NotAllowed(_("A service token cannot make service tokens."))
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = _("This field is required.")
    elif len(name.strip()) > 120:
        errors["name"] = _("At most %(n)d characters.", n=120)
    try:
        role = Role(role)
    except ValueError:
        errors["role"] = _("Not a valid choice.")
    else:
        if role == Role.OWNER:
            errors["role"] = _("A service token cannot act as an owner.")
    if errors:
        raise DomainError(_("Please correct the highlighted fields."), fields=errors)
    principal = User(email=f"service-{new_token(12).lower()}@{SERVICE_EMAIL_DOMAIN}", name=name.strip(),
                     password_hash=UNUSABLE_PASSWORD, is_service=True, locale=org.default_locale)
    session.add(principal)
    session.flush()
    add_member(session, org, principal, role)
    return create_api_token(session, principal, name, scopes=scopes, expires_at=expires_at, created_by=actor.user,
                            org_id=org.id)


def revoke_service_token(record: ApiToken) -> None:
    """The token stops working, and so does its principal (kept: what it did stays attributed)."""
    revoke_api_token(record)
    record.user.active = False


def revoke_invitation(invitation: Invitation) -> None:
    if invitation.accepted_at is not None:
        raise DomainError(_("This invitation was already accepted."), code="already_accepted")
    invitation.revoked_at = utcnow()
