"""Accounts: passwords (argon2id), registration, authentication, reset tokens, API tokens."""

from __future__ import annotations

import contextlib
from collections.abc import Set as AbstractSet
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, render_template, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from incubator.accounts.models import ApiToken, User
from incubator.core.db import utcnow
from incubator.core.errors import DomainError, NotAllowed
from incubator.core.mail import send_mail
from incubator.core.timezones import is_valid_timezone
from incubator.core.tokens import hash_token, new_token
from incubator.extensions import db

MIN_PASSWORD_LENGTH = 12


def hasher() -> PasswordHasher:
    """argon2id with the configured cost (the library's RFC 9106 profile by default)."""
    found = current_app.extensions.get("argon2")
    if found is None:
        cfg = current_app.config
        found = PasswordHasher(time_cost=cfg["ARGON2_TIME_COST"], memory_cost=cfg["ARGON2_MEMORY_COST"],
                               parallelism=cfg["ARGON2_PARALLELISM"])
        current_app.extensions["argon2"] = found
        current_app.extensions["argon2_dummy"] = found.hash("not a real password, only for timing")
    return found


def normalise_email(email: str) -> str:
    return email.strip().lower()


def hash_password(password: str) -> str:
    check_password_rules(password)
    return hasher().hash(password)


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(
            _("The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
            code="weak_password",
            fields={"password": _("At least %(n)d characters.", n=MIN_PASSWORD_LENGTH)},
        )


def verify_password(user: User, password: str) -> bool:
    try:
        return hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def get_user_by_email(session: Session, email: str) -> User | None:
    return session.execute(select(User).where(func.lower(User.email) == normalise_email(email))).scalar_one_or_none()


def register_user(session: Session, email: str, name: str, password: str, locale: str | None = None,
                  *, verified: bool = False) -> User:
    """A new account (``email_taken`` if the address has one). ``verified``: the address is known to be
    the person's (an administrator's command, the demo); otherwise it must be verified by mail."""
    email = normalise_email(email)
    if get_user_by_email(session, email) is not None:
        raise DomainError(_("An account with this email already exists."), code="email_taken",
                          fields={"email": _("An account with this email already exists.")}, status=409)
    user = User(email=email, name=name.strip(), password_hash=hash_password(password), locale=locale,
                email_verified_at=utcnow() if verified else None)
    session.add(user)
    session.flush()
    return user


def sign_up(session: Session, email: str, name: str, password: str, locale: str | None = None,
            next_url: str | None = None) -> User | None:
    """The registration form: a new, unverified account and a mail with the link that verifies it, or,
    when the address already has an account, nothing created or changed and a mail telling its owner
    that someone tried. The caller answers both the same way; both hash the password, so they take
    about as long. Answers the new account, or None."""
    check_password_rules(password)
    existing = get_user_by_email(session, email)
    password_hash = hasher().hash(password)  # before any branch: both paths spend the same work
    if existing is not None:
        if existing.active and not existing.is_service:
            send_registration_attempt_mail(session, existing)
        return None
    user = User(email=normalise_email(email), name=name.strip(), password_hash=password_hash, locale=locale)
    try:
        with session.begin_nested():
            session.add(user)
    except IntegrityError:  # the same address registered by a request at the same moment: it has an account
        return None
    send_verification_mail(session, user, next_url=next_url)
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    user = get_user_by_email(session, email)
    if user is None:
        _spend_time(password)
        return None
    if not user.active or user.is_service or not verify_password(user, password):
        return None
    if hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hasher().hash(password)
    user.last_login_at = utcnow()
    return user


def _spend_time(password: str) -> None:
    """Verify against a dummy hash so that unknown emails take as long as wrong passwords."""
    with contextlib.suppress(VerificationError):
        hasher().verify(current_app.extensions["argon2_dummy"], password)


def set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    user.session_version += 1  # log out every other session and remember cookie


def change_password(user: User, current: str, new: str) -> None:
    if not verify_password(user, current):
        raise DomainError(_("The current password is wrong."), code="wrong_password",
                          fields={"current_password": _("The current password is wrong.")})
    set_password(user, new)


# Password reset: a signed, timed token bound to the current password hash, so it works once.

MAX_NAME_LENGTH = 120


def update_profile(user: User, *, name: str | None = None, locale: str | None = None,
                   timezone: str | None = None) -> None:
    """The account settings a person changes (the settings page and ``PATCH /api/v1/me``): None keeps
    a value, an empty ``timezone`` goes back to each organisation's. Nothing changes unless every given
    value is valid."""
    errors: dict[str, str] = {}
    if name is not None:
        name = name.strip()
        if not name:
            errors["name"] = _("This field is required.")
        elif len(name) > MAX_NAME_LENGTH:
            errors["name"] = _("At most %(n)d characters.", n=MAX_NAME_LENGTH)
    if locale is not None and locale not in current_app.config["LANGUAGES"]:
        errors["locale"] = _("Unsupported language.")
    if timezone and not is_valid_timezone(timezone):
        errors["timezone"] = _("Unknown time zone.")
    if errors:
        raise DomainError(_("Please correct the highlighted fields."), fields=errors)
    if name is not None:
        user.name = name
    if locale is not None:
        user.locale = locale
    if timezone is not None:
        user.timezone = timezone or None


def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-reset")


def make_reset_token(user: User) -> str:
    return _reset_serializer().dumps({"id": user.id, "h": user.password_hash[-16:]})


def send_reset_mail(session: Session, user: User) -> None:
    """Mail ``user`` a link to choose a new password, in the language they read (the forgotten-password
    page, and a platform admin's "reset access")."""
    link = url_for("accounts.reset_password", token=make_reset_token(user), _external=True)
    with force_locale(user.locale or str(get_locale())):
        body = render_template("accounts/email/reset.txt", user=user, link=link)
        subject = _("Reset your Incubator password")
    send_mail(session, user.email, subject, body)


def reset_password(user: User, password: str) -> None:
    """A new password chosen through the mailed reset link: opening the link proves the address too."""
    set_password(user, password)
    user.mark_verified()


def send_registration_attempt_mail(session: Session, user: User) -> None:
    """Tell the owner of an address that someone tried to register with it, and how to get in."""
    with force_locale(user.locale or str(get_locale())):
        body = render_template("accounts/email/registration_attempt.txt", user=user,
                               login=url_for("accounts.login", _external=True),
                               forgot=url_for("accounts.forgot_password", _external=True))
        subject = _("Someone tried to register with your address")
    send_mail(session, user.email, subject, body)


# Email verification: a signed, timed token naming the account and its address; once the account is
# verified, the token has done its work and is refused.

class VerificationRefused(DomainError):
    """The verification link is tampered with, expired, already used, or for an address since changed."""

    code = "invalid_verification"


def _verification_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="email-verification")


def make_verification_token(user: User, next_url: str | None = None) -> str:
    data: dict[str, Any] = {"id": user.id, "e": user.email}
    if next_url:
        data["n"] = next_url
    return _verification_serializer().dumps(data)


def send_verification_mail(session: Session, user: User, next_url: str | None = None) -> None:
    """Mail ``user`` the link that verifies their address, in the language they read."""
    link = url_for("accounts.verify_email", token=make_verification_token(user, next_url), _external=True)
    hours = current_app.config["EMAIL_VERIFICATION_MAX_AGE"] // 3600
    with force_locale(user.locale or str(get_locale())):
        body = render_template("accounts/email/verify.txt", user=user, link=link, hours=hours)
        subject = _("Confirm your email address for Incubator")
    send_mail(session, user.email, subject, body)


def read_verification_token(session: Session, token: str) -> tuple[User, str | None]:
    """The account a verification link is for and where it goes next, or ``VerificationRefused``."""
    try:
        data = _verification_serializer().loads(token, max_age=current_app.config["EMAIL_VERIFICATION_MAX_AGE"])
    except SignatureExpired as exc:
        raise VerificationRefused(_("This link has expired."), code="verification_expired") from exc
    except BadSignature as exc:
        raise VerificationRefused(_("This link is not valid.")) from exc
    user_id = data.get("id") if isinstance(data, dict) else None
    user = session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.active or user.is_service or user.email != data.get("e"):
        raise VerificationRefused(_("This link is not valid."))
    if user.is_verified:
        raise VerificationRefused(_("This link was already used."), code="verification_used")
    next_url = data.get("n")
    return user, next_url if isinstance(next_url, str) else None


def verify_email(session: Session, token: str) -> tuple[User, str | None]:
    """Mark the account a verification link is for as verified (once)."""
    user, next_url = read_verification_token(session, token)
    session.refresh(user, with_for_update=True)  # of two clicks at once, the second finds it verified
    if user.is_verified:
        raise VerificationRefused(_("This link was already used."), code="verification_used")
    user.mark_verified()
    return user, next_url


def user_for_reset_token(session: Session, token: str) -> User | None:
    try:
        data = _reset_serializer().loads(token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"])
    except (BadSignature, SignatureExpired):
        return None
    user = session.get(User, data.get("id"))
    if user is None or not user.active or user.password_hash[-16:] != data.get("h"):
        return None
    return user


# API tokens

TOKEN_PREFIX = "inc_"  # noqa: S105 (a visible prefix, not a secret)

# The domains whose API operations a scope can name (``<domain>:read``, ``<domain>:write``); the
# domain of an operation is its blueprint's (``api_<domain>``). ``write`` implies ``read``.
SCOPE_DOMAINS = ("cohorts", "mentoring", "booking", "intake", "payments", "reporting", "orgs")
ALL_SCOPES = ("read", "write", *(f"{d}:{a}" for d in SCOPE_DOMAINS for a in ("read", "write")))
DEFAULT_SCOPES = ("read", "write")
EXPIRY_DAYS = (30, 90, 365)


class TokenRefused(DomainError):
    """The bearer token is missing, unknown, revoked or expired: answered 401."""

    status = 401
    code = "unauthorized"


def clean_scopes(scopes: list[str] | tuple[str, ...] | set[str] | str) -> str:
    """The scopes as stored (space-separated, in ``ALL_SCOPES`` order), or a ``DomainError``."""
    given = set(scopes.split() if isinstance(scopes, str) else scopes)
    unknown = sorted(given - set(ALL_SCOPES))
    if unknown:
        raise DomainError(_("Unknown scope: %(scopes)s.", scopes=", ".join(unknown)), code="invalid_scope",
                          fields={"scopes": _("Unknown scope: %(scopes)s.", scopes=", ".join(unknown))})
    if not given:
        raise DomainError(_("Choose at least one scope."), code="invalid_scope",
                          fields={"scopes": _("Choose at least one scope.")})
    return " ".join(scope for scope in ALL_SCOPES if scope in given)


def expiry_after(days: int | None, now: datetime | None = None) -> datetime | None:
    """When a token made now for ``days`` days expires (None: never); only the offered lengths."""
    if days is None:
        return None
    if days not in EXPIRY_DAYS:
        raise DomainError(_("Choose one of the offered lengths."), code="invalid_expiry",
                          fields={"expires_in_days": _("Choose one of the offered lengths.")})
    return (now or utcnow()) + timedelta(days=days)


def required_scopes(domain: str | None, write: bool) -> tuple[str, ...]:
    """The scopes any one of which lets a token call an operation of ``domain`` (None: not one of the
    scoped domains, e.g. ``/me``: only the overall scopes) that reads (GET/HEAD) or writes."""
    overall = ("write",) if write else ("read", "write")
    if domain not in SCOPE_DOMAINS:
        return overall
    own = (f"{domain}:write",) if write else (f"{domain}:read", f"{domain}:write")
    return overall + own


def has_scope(record: ApiToken, domain: str | None, write: bool) -> bool:
    return not record.scope_set.isdisjoint(required_scopes(domain, write))


def create_api_token(session: Session, user: User, name: str, *, scopes: list[str] | tuple[str, ...] | str
                     = DEFAULT_SCOPES, expires_at: datetime | None = None,
                     created_by: User | None = None, org_id: int | None = None) -> tuple[str, ApiToken]:
    token = TOKEN_PREFIX + new_token(32)
    record = ApiToken(user=user, name=name.strip() or "token", prefix=token[:10], token_hash=hash_token(token),
                      scopes=clean_scopes(scopes), expires_at=expires_at, created_by=created_by, org_id=org_id)
    session.add(record)
    session.flush()
    return token, record


def grants(held: AbstractSet[str], scope: str) -> bool:
    """Whether a token holding the scopes ``held`` may do what ``scope`` allows (``write`` implies
    ``read``; the overall scopes imply every domain's)."""
    domain, _sep, access = scope.partition(":")
    if not access:  # an overall scope
        return "write" in held or (scope == "read" and "read" in held)
    return bool(held & set(required_scopes(domain, access == "write")))


def create_personal_token(session: Session, user: User, name: str, *, scopes: list[str] | tuple[str, ...],
                          expires_in_days: int | None, via: ApiToken | None = None) -> tuple[str, ApiToken]:
    """A person's own API token (Account → API tokens, ``POST /api/v1/me/tokens``). Made through a
    token (``via``), it may not carry a scope that token does not itself hold."""
    stored = clean_scopes(scopes)
    expires_at = expiry_after(expires_in_days)
    if via is not None:
        missing = [scope for scope in stored.split() if not grants(via.scope_set, scope)]
        if missing:
            # Only the API makes a token through a token: its messages are English.
            raise NotAllowed("A token cannot give a new token scopes it does not hold: " + ", ".join(missing),
                             code="insufficient_scope",
                             fields={"scopes": ", ".join(missing)})
    return create_api_token(session, user, name, scopes=stored, expires_at=expires_at)


def personal_tokens_query(user: User) -> Select[Any]:
    """A person's own tokens, newest first."""
    return select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc(),
                                                                          ApiToken.id.desc())


def own_token(session: Session, user: User, token_id: int) -> ApiToken | None:
    """One of the person's own tokens (None for anyone else's)."""
    return session.execute(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id)
    ).scalar_one_or_none()


def token_record(session: Session, token: str) -> ApiToken:
    """The active token record for a bearer token, or ``TokenRefused`` (code ``token_expired`` once
    its expiry has passed). Records its use after the request's transaction."""
    record = None
    if token.startswith(TOKEN_PREFIX):
        # all_orgs: a service token is its organisation's row, read before any organisation is known
        record = session.execute(select(ApiToken).where(ApiToken.token_hash == hash_token(token))
                                 .execution_options(all_orgs=True)).scalar_one_or_none()
    if record is None or not record.is_active or not record.user.active:
        raise TokenRefused("Missing or invalid API token")
    if record.is_expired():
        raise TokenRefused("The API token has expired", code="token_expired")
    # After the request's own transaction has ended and given its connection back: waiting for a
    # second connection while holding SQLite's write lock stalled racing requests.
    last_used, token_id = record.last_used_at, record.id
    db.after_request_transaction(lambda: touch_api_token(token_id, last_used))
    return record


def user_for_api_token(session: Session, token: str) -> User | None:
    try:
        return token_record(session, token).user
    except TokenRefused:
        return None


TOKEN_TOUCH_INTERVAL = timedelta(seconds=60)


def touch_api_token(token_id: int, last_used_at: datetime | None, now: datetime | None = None) -> bool:
    """Record that the token was used, at most once a minute, outside the request's transaction.

    Writing ``last_used_at`` in the request's own transaction held the token's row until the request
    ended, so every request with the same token waited for the one before (a PDF export, say). Here
    a short transaction of its own writes it; a row another transaction holds is skipped, never waited
    for. Answers whether it wrote."""
    now = now or utcnow()
    cutoff = now - TOKEN_TOUCH_INTERVAL
    if last_used_at is not None and last_used_at > cutoff:
        return False
    due = (select(ApiToken.id)
           .where(ApiToken.id == token_id, or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < cutoff))
           .with_for_update(skip_locked=True))
    try:
        with db.side_transaction(wait=False) as conn:
            written = conn.execute(update(ApiToken).where(ApiToken.id.in_(due)).values(last_used_at=now)).rowcount
    except OperationalError as exc:  # SQLite: another connection holds the write lock; next time, then
        current_app.logger.debug("api token %s: last use not recorded (%s)", token_id, exc)
        return False
    return bool(written)


def revoke_api_token(record: ApiToken) -> None:
    if record.revoked_at is None:
        record.revoked_at = utcnow()
