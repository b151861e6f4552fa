"""Incubator: the application factory."""

from __future__ import annotations

import logging
import re
import time
import uuid
from pathlib import Path
from typing import Any

from flask import Flask, g, request, session
from flask_babel import get_locale
from flask_login import current_user

import config as config_module
from incubator.core import jobs
from incubator.core.db import _immediate
from incubator.extensions import babel, csrf, db, limiter, login_manager

ROOT = Path(__file__).resolve().parent.parent
BLUEPRINTS = (
    "incubator.views",
    "incubator.accounts.views",
    "incubator.orgs.views",
    "incubator.orgs.views_invitations",
    "incubator.orgs.views_tokens",
    "incubator.admin.views",
    "incubator.cohorts.views",
    "incubator.cohorts.views_startups",
    "incubator.mentoring.views",
    "incubator.mentoring.views:feeds",
    "incubator.booking.views",
    "incubator.booking.views_feeds",
    "incubator.booking.views_shared",
    "incubator.payments.views",
    "incubator.payments.webhooks",
    "incubator.reporting.views",
    "incubator.intake.views",
    "incubator.intake.views:platform",
    "incubator.webhooks.views",
)
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def create_app(config: type[config_module.Config] | dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, template_folder=str(ROOT / "templates"), instance_path=str(config_module.INSTANCE_DIR))
    _load_config(app, config)
    _configure_logging(app)

    db.init_app(app)
    _init_login(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale, timezone_selector=_select_timezone)
    _install_gettext(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    limiter.init_app(app)
    _init_security_headers(app)
    jobs.init_app(app)
    from incubator.core import metrics

    metrics.init_app(app)

    from importlib import import_module

    from incubator.core import tenancy
    from incubator.orgs.services import find_membership, find_org

    tenancy.init_app(app, find_org=find_org, find_membership=find_membership)

    for path in BLUEPRINTS:
        module, _sep, attribute = path.partition(":")
        app.register_blueprint(getattr(import_module(module), attribute or "bp"))
    from incubator import api
    from incubator.booking import panels as booking_panels
    from incubator.orgs.panels import PANEL_PROVIDERS
    from incubator.payments import gateway

    if booking_panels.dashboard_panels not in PANEL_PROVIDERS:  # the booking panels of the dashboard
        PANEL_PROVIDERS.append(booking_panels.dashboard_panels)
    from incubator import inbox

    inbox.init_app(app)  # the to-do inbox: a dashboard panel and the navigation's count

    gateway.init_app(app)
    api.init_app(app)
    # Load balancers probe over plain HTTP: the health and readiness checks are never redirected to HTTPS.
    for probe in ("main.healthz", "main.readyz", "main.metrics"):
        app.view_functions[probe] = app.extensions["talisman"](force_https=False)(app.view_functions[probe])
    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        # Flask's documented way to wrap the WSGI app; mypy objects to assigning over a method.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    from incubator.core.errors import register_error_handlers

    register_error_handlers(app)
    _init_request_hooks(app)
    _init_templates(app)

    from incubator.cli import register_cli

    register_cli(app)
    return app


def after_fork(app: Flask) -> None:
    """In a process forked from one that had created the app (``gunicorn --preload``): start its own pool.

    The engine is created before the fork and its pool would be shared: ``dispose(close=False)`` drops the
    parent's connections from this process's pool without closing them (they are the parent's to close), so
    the worker opens its own on first use. Nothing else needs it: Huey's SQLite storage opens its connection
    when a job is queued (and closes the one that made its tables), redis-py's pools and the limiter's
    memory storage notice a new process id, and Python's ``random`` is reseeded in every child.
    """
    app.extensions["db_engine"].dispose(close=False)


def _load_config(app: Flask, config: type[config_module.Config] | dict[str, Any] | None) -> None:
    base = config if isinstance(config, type) else config_module.config_from_env()
    app.config.from_object(base)
    if isinstance(config, dict):
        app.config.update(config)
    base.validate(app.config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)


class _RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        from flask import has_request_context

        if not hasattr(record, "request_id"):
            record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


def log_formatter(json_lines: bool) -> logging.Formatter:
    if json_lines:
        from pythonjsonlogger.json import JsonFormatter

        return JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                             rename_fields={"asctime": "time", "levelname": "level"})
    return logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s")


def _configure_logging(app: Flask) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(log_formatter(app.config["LOG_JSON"]))
    handler.addFilter(_RequestContextFilter())
    logger = logging.getLogger("incubator")
    logger.handlers[:] = [handler]
    logger.setLevel(app.config["LOG_LEVEL"])
    logger.propagate = False
    app.logger.handlers[:] = [handler]
    app.logger.setLevel(app.config["LOG_LEVEL"])


def _init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"  # "strong" would drop remember-me on IP changes
    from flask_babel import lazy_gettext

    login_manager.login_message = lazy_gettext("Please sign in to open this page.")


def _select_locale() -> str | None:
    """The person's own choice (account setting, then the language switcher), then the browser's
    language if we have it, then, for a member inside their organisation, the organisation's language;
    else English (a Korean or Japanese visitor reads English better than Vietnamese)."""
    from flask import has_request_context

    languages = app_languages()
    if not has_request_context():  # a job or a command: the default language
        return languages[0]
    # While the database is down (the 503 page), the signed-in user cannot be loaded: not asked.
    if not g.get("database_unavailable") and current_user and current_user.is_authenticated \
            and current_user.locale in languages:
        return current_user.locale
    if session.get("locale") in languages:
        return session["locale"]
    best = request.accept_languages.best_match(languages)
    if best:
        return best
    org = g.get("org")
    if org is not None and g.get("membership") is not None and org.default_locale in languages:
        return org.default_locale
    return FALLBACK_LOCALE


FALLBACK_LOCALE = "en"


def app_languages() -> list[str]:
    from flask import current_app

    return list(current_app.config["LANGUAGES"])


def _translations() -> Any:
    """flask-babel's translations for the locale in force, looked up once per locale and application
    context: a page asks for dozens of strings, and flask-babel finds the catalogue anew for each. The
    memo is keyed by the locale object itself, so ``force_locale`` (mail in its reader's language) and
    ``flask_babel.refresh`` (a new locale object) are obeyed."""
    from flask_babel import get_translations

    locale = get_locale()
    if locale is None:  # no application context: flask-babel's own answer (no translation)
        return get_translations()
    memo = g.get("_translations_memo")
    if memo is None or memo[0] is not locale:
        memo = g._translations_memo = (locale, get_translations())
    return memo[1]


def _install_gettext(app: Flask) -> None:
    """The templates' ``_``, ``gettext``, ``ngettext``, ``pgettext`` and ``npgettext``: flask-babel's
    (newstyle, as it installs them), on the memoised catalogue."""
    # The method comes with jinja2.ext.i18n, which flask-babel added to the environment.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
    )


def _select_timezone() -> str | None:
    """The reader's own time zone when they set one, else the organisation's (``core.formatting``)."""
    from incubator.core.formatting import viewer_timezone

    return viewer_timezone()


def _init_security_headers(app: Flask) -> None:
    csp = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": ["'self'", "data:"],
        "font-src": "'self'",
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    from flask_talisman import Talisman

    app.extensions["talisman"] = Talisman(
        app,
        force_https=app.config["FORCE_HTTPS"],
        strict_transport_security=app.config["HSTS"],
        strict_transport_security_max_age=31536000,
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_http_only=True,
        frame_options="DENY",
        referrer_policy="strict-origin-when-cross-origin",
        content_security_policy=csp,
        x_content_type_options=True,
    )


def _init_request_hooks(app: Flask) -> None:
    from incubator.core.errors import DATABASE_DOWN, REDIS_DOWN, unavailable_response
    from incubator.orgs.services import forget_memberships

    UNAVAILABLE = (*DATABASE_DOWN, *REDIS_DOWN)  # noqa: N806 (a tuple of exception classes)

    log = logging.getLogger("incubator.request")

    @app.before_request
    def _start() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        g.started = time.perf_counter()
        # SQLite: reads begin a deferred transaction, writes take the lock up front.
        g._immediate_token = _immediate.set(request.method not in ("GET", "HEAD", "OPTIONS"))
        forget_memberships()  # read once per request (orgs.services.memberships_of)

    @app.after_request
    def _commit(response: Any) -> Any:
        # The one commit point of a request: success commits, any error status rolls back.
        if db.has_session():
            if response.status_code < 400:
                try:
                    db.session.commit()
                except UNAVAILABLE as exc:  # not committed (the database, or the job queue, is down)
                    app.logger.error("commit failed, service unavailable: %s", exc)
                    db.session.rollback()
                    response = app.make_response(unavailable_response())
            else:
                db.session.rollback()
        db.run_after_request_transaction()
        response.headers["X-Request-ID"] = g.get("request_id", "")
        if _is_private(response):
            response.headers["Cache-Control"] = "no-store"
        if "started" in g:
            log.info("%s %s %s", request.method, request.path, response.status_code, extra={
                "request_id": g.request_id, "method": request.method, "path": request.path,
                "status": response.status_code, "duration_ms": round((time.perf_counter() - g.started) * 1000, 1),
                "user_id": _loaded_user_id(),
                "org": g.org.slug if g.get("org") is not None else None})
        return response

    @app.teardown_request
    def _reset(_exc: BaseException | None) -> None:
        token = g.pop("_immediate_token", None)
        if token is not None:
            _immediate.reset(token)


PUBLIC_API_PATHS = ("/api/v1/openapi.json", "/api/v1/docs")


def _is_private(response: Any) -> bool:
    """Pages for a signed-in user and API answers (personal data) are never stored by a browser or proxy;
    public pages, the API's description and static files keep their caching."""
    if request.endpoint == "static" or request.path.startswith(PUBLIC_API_PATHS):
        return False
    if request.path.startswith("/api/"):
        return True
    user = g.get("_login_user")
    return user is not None and user.is_authenticated


def _loaded_user_id() -> int | None:
    """The signed-in user's id if the request loaded them (logging never queries: the database may be down)."""
    user = g.get("_login_user")
    return user.id if user is not None and user.is_authenticated else None


def _csrf_field(form: Any) -> Any:
    """The form's CSRF field as WTForms renders it (markup), or nothing when CSRF is off."""
    return form.csrf_token() if hasattr(form, "csrf_token") else ""


def _init_templates(app: Flask) -> None:
    from incubator.accounts.forms import LOCALE_CHOICES, CSRFOnlyForm
    from incubator.core import formatting
    from incubator.core.permissions import Permission, Role, can, runs_the_org
    from incubator.core.uploads import accept_label, upload_limit_bytes
    from incubator.orgs.models import OrgKind

    formatting.register(app)
    app.add_template_filter(accept_label, "accept_label")
    app.add_template_global(upload_limit_bytes, "upload_limit_bytes")

    @app.template_filter("mail_datetime")
    def _mail_datetime(value: Any, user: Any = None, org: Any = None, zone: bool = True) -> str:
        """For mail: in the recipient's time zone (their own, else the org's) and the language the mail
        is rendered in (the sender wraps it in ``force_locale``)."""
        return formatting.datetime_(value, "long", tz=formatting.zone_of(user, org), zone=zone)

    @app.template_filter("mail_date")
    def _mail_date(value: Any) -> str:
        return formatting.date_(value, "long")

    @app.template_filter("role_label")
    def _role_label(value: str) -> str:
        return Role(value).label

    @app.template_filter("org_kind_label")
    def _org_kind_label(value: str) -> str:
        return OrgKind(value).label

    @app.context_processor
    def _globals() -> dict[str, Any]:
        from flask import has_request_context

        if not has_request_context():  # mail rendered by a job
            return {}
        memberships = []
        if current_user.is_authenticated:
            from incubator.orgs.services import memberships_of

            memberships = memberships_of(db.session, current_user)
        return {
            "current_org": g.get("org"),
            "current_membership": g.get("membership"),
            "my_memberships": memberships,
            "can": can,
            "side_nav": runs_the_org(),
            "Permission": Permission,
            # The language switcher and the sign-out button post the request's one CSRF token: its field is
            # rendered once for both (an empty string when CSRF is off, as the form would render it).
            "csrf_field": _csrf_field(CSRFOnlyForm(formdata=None)),
            "locale_choices": LOCALE_CHOICES,
            "current_locale": str(get_locale()),
        }
