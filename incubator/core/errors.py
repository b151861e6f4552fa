"""Domain errors raised by services, and the error responses (HTML pages and JSON for the API)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, flash, g, jsonify, redirect, render_template, request
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

# The database cannot be reached (down, restarting, refusing connections): answered 503, retry later.
DATABASE_DOWN = (OperationalError, InterfaceError, DisconnectionError)
# Redis (the job queue, the rate limits' store) cannot be reached: answered 503 too, the request rolled back.
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError)
RETRY_AFTER_SECONDS = 30


class DomainError(Exception):
    """A business rule said no. The HTML view flashes ``message``; the API answers JSON."""

    status = 422
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, fields: dict[str, Any] | None = None,
                 status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.fields = fields or {}
        if status is not None:
            self.status = status


class NotAllowed(DomainError):
    status = 403
    code = "not_allowed"


class OrgSuspended(NotAllowed):
    """The organisation is suspended by a platform admin: nobody may use it until it is lifted."""

    code = "org_suspended"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class NotFound(DomainError):
    """A row the caller needs is not there (or belongs to another organisation): answered 404."""

    status = 404
    code = "not_found"


HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "stale",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    500: "server_error",
    503: "unavailable",
}


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def json_error(status: int, message: str, code: str | None = None, fields: dict[str, Any] | None = None,
               headers: dict[str, str] | None = None) -> Any:
    body = {"code": code or HTTP_CODES.get(status, "error"), "message": message, "fields": fields or {}}
    return jsonify(body), status, headers or {}


def unavailable_response() -> Any:
    """503 while the database is unreachable, from a page that needs no database: no current user,
    no organisation menu, no context processors (``render_template`` would load the signed-in user)."""
    g.database_unavailable = True  # the locale selector must not load the user either
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if wants_json():
        return json_error(503, "The service is temporarily unavailable. Try again later.", "unavailable",
                          headers=headers)
    from flask_babel import get_locale

    page = current_app.jinja_env.get_template("errors/unavailable.html")
    return page.render(retry_after=RETRY_AFTER_SECONDS, lang=str(get_locale())), 503, headers


def redis_unavailable(exc: Exception) -> Any:
    """503 while Redis is down. Nothing of the request is kept: its transaction is rolled back first (a
    commit that would have queued a job does not happen, see ``core.jobs``)."""
    from incubator.extensions import db

    current_app.logger.error("redis unavailable: %s", exc)
    db.session.rollback()
    return unavailable_response()


def _register_outage_handlers(app: Flask) -> None:
    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(DisconnectionError)
    def _database_down(exc: Exception) -> Any:
        app.logger.error("database unavailable: %s", exc)
        return unavailable_response()

    app.register_error_handler(RedisConnectionError, redis_unavailable)
    app.register_error_handler(RedisTimeoutError, redis_unavailable)


def _validation_fields(data: Any) -> dict[str, Any]:
    """webargs puts {location: {field: [messages]}} on the exception; answer {field: message}."""
    messages = (data or {}).get("messages") if isinstance(data, dict) else None
    fields: dict[str, Any] = {}
    for by_field in (messages or {}).values():
        if isinstance(by_field, dict):
            for name, problems in by_field.items():
                fields[str(name)] = problems[0] if isinstance(problems, list) and problems else problems
    return fields


def _form_page() -> str | None:
    """The page of this site that sent the request (its form), if the browser said so."""
    referrer = request.referrer
    if not referrer:
        return None
    here, there = urlsplit(request.host_url), urlsplit(referrer)
    return referrer if (there.scheme, there.netloc) == (here.scheme, here.netloc) else None


def _too_large(render: Callable[[int], Any]) -> Any:
    """A request over MAX_CONTENT_LENGTH: the form it came from says so (nothing of it was read, so
    nothing was saved); the API answers 413 ``payload_too_large`` with the limit."""
    from flask_babel import format_decimal
    from flask_babel import gettext as _

    from incubator.core.uploads import upload_limit_bytes

    limit = upload_limit_bytes()
    if wants_json():
        return json_error(413, "The upload is larger than the limit allowed", "payload_too_large",
                          fields={"file": f"At most {limit} bytes"})
    back = _form_page()
    if back is None:
        return render(413)
    flash(_("The upload is larger than the limit allowed (at most %(size)s MB). Nothing was saved.",
            size=format_decimal(round(limit / 1048576, 1))), "danger")
    return redirect(back, 303)


def _suspended(exc: OrgSuspended) -> Any:
    """A suspended organisation: a page that says so (its name, and that nothing was lost); 403 JSON
    ``org_suspended`` in the API."""
    if wants_json():
        return json_error(exc.status, exc.message, exc.code, exc.fields)
    return render_template("errors/suspended.html", org=g.get("suspended_org")), 403


def register_error_handlers(app: Flask) -> None:
    from flask_babel import lazy_gettext as _

    pages = {
        400: (_("Bad request"), _("The request could not be understood. Reload the page and try again.")),
        403: (_("Not allowed"), _("Your role in this organisation does not allow this.")),
        404: (_("Not found"), _("There is nothing at this address.")),
        405: (_("Method not allowed"), _("This address does not accept this kind of request.")),
        412: (_("Changed meanwhile"), _("Someone else changed this since you opened it. Reload to see their "
                                        "changes, then edit again.")),
        413: (_("File too large"), _("The upload is larger than the limit allowed.")),
        429: (_("Too many attempts"), _("Please wait a moment before trying again.")),
        500: (_("Something went wrong"), _("The error has been logged. Please try again later.")),
    }

    def render(status: int, headers: dict[str, str] | None = None) -> Any:
        title, text = pages.get(status, pages[400] if status < 500 else pages[500])
        return render_template("errors/error.html", status=status, title=title, text=text), status, headers or {}

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        status = exc.code or 500
        original = getattr(exc, "original_exception", None)
        if isinstance(original, DATABASE_DOWN):  # raised after the view
            app.logger.error("database unavailable: %s", original)
            return unavailable_response()
        if isinstance(original, REDIS_DOWN):
            return redis_unavailable(original)
        # 405 says which methods the address accepts (RFC 9110), on pages and in the API.
        headers = {k: v for k, v in exc.get_headers() if k == "Allow"}
        if wants_json():
            fields = _validation_fields(getattr(exc, "data", None))
            message = "Invalid request" if fields else exc.description or HTTP_CODES.get(status, "error")
            return json_error(status, message, fields=fields, headers=headers)
        return render(status, headers)

    app.register_error_handler(RequestEntityTooLarge, lambda _exc: _too_large(render))
    app.register_error_handler(OrgSuspended, _suspended)

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError) -> Any:
        if wants_json():
            return json_error(exc.status, exc.message, exc.code, exc.fields)
        return render(exc.status if exc.status in pages else 400)

    @app.errorhandler(StaleDataError)
    def _stale(_exc: StaleDataError) -> Any:
        """Two edits of a ``Versioned`` row raced and this one lost: nothing of it was saved."""
        from incubator.extensions import db

        db.session.rollback()
        if wants_json():
            return json_error(412, "The row changed since it was read; read it again and retry.", "stale")
        return render(412)

    _register_outage_handlers(app)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        app.logger.exception("unhandled error", exc_info=exc)
        if wants_json():
            return json_error(500, "Internal server error")
        return render(500)
