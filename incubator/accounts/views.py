"""Sign in and out, registration, password reset, invitations, account settings, API tokens."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user

from incubator.accounts import services, throttle
from incubator.accounts.forms import (
    ApiTokenForm,
    ChangePasswordForm,
    CSRFOnlyForm,
    ForgotPasswordForm,
    LanguageForm,
    LoginForm,
    RegisterForm,
    ResetPasswordForm,
    SettingsForm,
)
from incubator.accounts.landing import home_for
from incubator.accounts.models import User
from incubator.core.actions import attempt
from incubator.core.db import utcnow
from incubator.extensions import db, limiter, login_manager

bp = Blueprint("accounts", __name__)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    ident, _sep, version = user_id.partition(":")
    if not ident.isdigit():
        return None
    user = db.session.get(User, int(ident))
    if user is None or str(user.session_version) != version:
        return None  # password changed or reset since this session was opened
    if user.is_service:
        return None  # a service principal acts through its token only, never in a browser
    return user


def safe_next(target: str | None) -> str | None:
    """Only same-site relative paths are followed after sign-in."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


PREFERENCES = ("locale", "last_org")


def fresh_session() -> None:
    """Rotate the session (a new CSRF token, nothing planted before survives) but keep preferences."""
    kept = {key: session[key] for key in PREFERENCES if key in session}
    session.clear()
    session.update(kept)


@bp.route("/auth/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"])
def login() -> Any:
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data
        known = throttle.is_known_device(request, email)
        wait = 0 if known else throttle.wait_seconds(email)
        if wait:  # a stranger's failures slow down unknown browsers only, and never for good
            form.password.errors = [_too_many_failures(wait)]
            return render_template("accounts/login.html", form=form), 429, {"Retry-After": str(wait)}
        user = services.authenticate(db.session, form.email.data, form.password.data)
        if user is not None:
            throttle.forget_failures(email)
            fresh_session()  # nothing from before sign-in carries over but the preferences
            login_user(user, remember=form.remember.data)
            response = redirect(safe_next(request.args.get("next")) or home_for(user))
            throttle.remember_device(request, response, email)
            return response
        wait = throttle.record_failure(email)
        form.password.errors = [_("Wrong email or password.")]
        if wait and not known:
            form.password.errors.append(_too_many_failures(wait))
        return render_template("accounts/login.html", form=form), 200
    return render_template("accounts/login.html", form=form)


def _too_many_failures(wait: int) -> str:
    return ngettext("Too many failed sign-ins to this account. Try again in %(num)d second.",
                    "Too many failed sign-ins to this account. Try again in %(num)d seconds.", wait)


@bp.route("/auth/logout", methods=["POST"])
def logout() -> Any:
    form = CSRFOnlyForm()
    if form.validate_on_submit():
        logout_user()
        fresh_session()
        flash(_("You are signed out."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/auth/register", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def register() -> Any:
    form = RegisterForm()
    invitation_email = session.get("invitation_email")
    if request.method == "GET" and invitation_email:
        form.email.data = invitation_email
    if form.validate_on_submit():
        pending = session_pending_invitation()
        # Registering on the way to somewhere (e.g. applying to a call) goes back there once verified.
        onward = pending or safe_next(request.args.get("next"))
        with attempt(form=form) as outcome:
            services.sign_up(db.session, form.email.data, form.name.data, form.password.data,
                             locale=session.get("locale"), next_url=onward)
        if outcome.ok:
            # The same answer whether or not the address already had an account (the mail tells which).
            flash(_("Check your mail: we sent a link to %(email)s to finish creating your account.",
                    email=services.normalise_email(form.email.data)), "info")
            return redirect(url_for("accounts.login", next=pending) if pending else url_for("accounts.login"))
    return render_template("accounts/register.html", form=form)


def session_pending_invitation() -> str | None:
    token = request.args.get("invitation")
    return url_for("invitations.invitation", token=token) if token else None


@bp.route("/auth/forgot", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def forgot_password() -> Any:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        user = services.get_user_by_email(db.session, form.email.data)
        if user is not None and user.active and not user.is_service:
            services.send_reset_mail(db.session, user)
        # The same answer whether or not the address has an account.
        flash(_("If an account exists for this address, we have sent a link to reset the password."), "info")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/forgot.html", form=form)


@bp.route("/auth/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Any:
    user = services.user_for_reset_token(db.session, token)
    if user is None:
        flash(_("This reset link is invalid or has expired. Ask for a new one."), "danger")
        return redirect(url_for("accounts.forgot_password"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        services.reset_password(user, form.password.data)
        fresh_session()
        flash(_("Your password has been changed. Sign in with the new one."), "success")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/reset.html", form=form)


# -- email verification ----------------------------------------------------------------------------

# What an account whose address is not verified yet may still open: the verification pages, signing
# out, the language switch, the probes, static files, the payment gateways' webhooks, and an
# invitation's page (its link was mailed to the address, so accepting it verifies the address).
UNVERIFIED_ALLOWED = frozenset({
    "static", "accounts.verify", "accounts.verify_email", "accounts.resend_verification", "accounts.logout",
    "accounts.set_language", "main.healthz", "main.readyz", "main.metrics",
    "payments_hooks.webhook", "payments_hooks.payos_webhook", "invitations.invitation",
})


@bp.before_app_request
def _verified_accounts_only() -> Any:
    """A signed-in account whose address is not verified sees only the page that asks for it (the API
    answers 403 ``email_unverified`` itself, in ``incubator.api``)."""
    if request.endpoint is None or request.endpoint in UNVERIFIED_ALLOWED or request.path.startswith("/api/"):
        return None
    if current_user.is_authenticated and not current_user.is_verified:
        return redirect(url_for("accounts.verify"))
    return None


@bp.route("/auth/verify")
@login_required
def verify() -> Any:
    if current_user.is_verified:
        return redirect(home_for(current_user))
    return render_template("accounts/verify.html", form=CSRFOnlyForm())


def _per_user() -> str:
    return f"user:{current_user.get_id()}" if current_user.is_authenticated else get_remote_address()


@bp.route("/auth/verify/resend", methods=["POST"])
@login_required
@limiter.limit("3 per hour", key_func=_per_user)
def resend_verification() -> Any:
    form = CSRFOnlyForm()
    if form.validate_on_submit() and not current_user.is_verified:
        services.send_verification_mail(db.session, current_user)
        flash(_("We sent a new link to %(email)s.", email=current_user.email), "info")
    return redirect(url_for("accounts.verify"))


@bp.route("/auth/verify/<token>", methods=["GET", "POST"])
def verify_email(token: str) -> Any:
    """The mailed link: a page with one button (a mail scanner opening the link changes nothing), whose
    press verifies the address once and signs its owner in."""
    form = CSRFOnlyForm()
    try:
        user, next_url = services.read_verification_token(db.session, token)
        if not form.validate_on_submit():
            return render_template("accounts/verify_confirm.html", form=form, user=user)
        user, next_url = services.verify_email(db.session, token)
    except services.VerificationRefused as refused:
        return render_template("accounts/verify_failed.html", form=form, message=refused.message), 400
    if not current_user.is_authenticated or current_user.id != user.id:
        fresh_session()
        login_user(user)
    flash(_("Your email address is confirmed. Welcome, %(name)s.", name=user.name), "success")
    return redirect(safe_next(next_url) or home_for(user))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def settings() -> Any:
    form = SettingsForm(obj=current_user, prefix="profile")
    password_form = ChangePasswordForm(prefix="password")
    if request.method == "POST" and "profile-name" in request.form and form.validate_on_submit():
        with attempt(form=form) as outcome:
            services.update_profile(current_user, name=form.name.data, locale=form.locale.data,
                                    timezone=form.timezone.data or "")
        if outcome.ok:
            session["locale"] = form.locale.data
            flash(_("Your settings are saved."), "success")
            return redirect(url_for("accounts.settings"))
    if request.method == "POST" and "password-current_password" in request.form and password_form.validate_on_submit():
        with attempt(form=password_form) as outcome:
            services.change_password(current_user, password_form.current_password.data, password_form.password.data)
        if outcome.ok:
            login_user(current_user._get_current_object())  # keep this session valid (new session version)
            flash(_("Your password has been changed. Other sessions are signed out."), "success")
            return redirect(url_for("accounts.settings"))
    memberships = sorted(current_user.memberships, key=lambda m: m.org.name)  # (declared by orgs)
    return render_template("accounts/settings.html", form=form, password_form=password_form, memberships=memberships)


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def tokens() -> Any:
    form = ApiTokenForm()
    new_token = None
    if form.validate_on_submit():
        with attempt(form=form) as outcome:
            new_token, _record = services.create_personal_token(
                db.session, current_user, form.name.data, scopes=form.scopes.data,
                expires_in_days=form.expiry_days())
        if outcome.ok:
            form = ApiTokenForm(formdata=None)
    status = 422 if form.errors else 200
    records = db.session.execute(services.personal_tokens_query(current_user)).scalars().all()
    return render_template("accounts/tokens.html", form=form, tokens=records, new_token=new_token,
                           revoke_form=CSRFOnlyForm(), now=utcnow()), status


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int) -> Any:
    form = CSRFOnlyForm()
    record = services.own_token(db.session, current_user, token_id)
    if record is None:
        abort(404)
    if form.validate_on_submit():
        services.revoke_api_token(record)
        flash(_("The token is revoked."), "success")
    return redirect(url_for("accounts.tokens"))


@bp.route("/language", methods=["POST"])
def set_language() -> Any:
    form = LanguageForm()
    if form.validate_on_submit():
        session["locale"] = form.locale.data
        if current_user.is_authenticated:
            current_user.locale = form.locale.data
    return redirect(safe_next(request.form.get("next")) or url_for("main.index"))


@bp.route("/account/no-organisation")
@login_required
def no_org() -> Any:
    return render_template("accounts/no_org.html")
