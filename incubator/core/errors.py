"""Domain errors raised by services, and the error responses (HTML pages and JSON for the API)."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException


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


class Conflict(DomainError):
    status = 409
    code = "conflict"


HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    500: "server_error",
}


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def json_error(status: int, message: str, code: str | None = None, fields: dict[str, Any] | None = None) -> Any:
    body = {"code": code or HTTP_CODES.get(status, "error"), "message": message, "fields": fields or {}}
    return jsonify(body), status


def _validation_fields(data: Any) -> dict[str, Any]:
    """webargs puts {location: {field: [messages]}} on the exception; answer {field: message}."""
    messages = (data or {}).get("messages") if isinstance(data, dict) else None
    fields: dict[str, Any] = {}
    for by_field in (messages or {}).values():
        if isinstance(by_field, dict):
            for name, problems in by_field.items():
                fields[str(name)] = problems[0] if isinstance(problems, list) and problems else problems
    return fields


def register_error_handlers(app: Flask) -> None:
    from flask_babel import lazy_gettext as _

    pages = {
        400: (_("Bad request"), _("The request could not be understood. Reload the page and try again.")),
        403: (_("Not allowed"), _("Your role in this organisation does not allow this.")),
        404: (_("Not found"), _("There is nothing at this address.")),
        413: (_("File too large"), _("The upload is larger than the limit allowed.")),
        429: (_("Too many attempts"), _("Please wait a moment before trying again.")),
        500: (_("Something went wrong"), _("The error has been logged. Please try again later.")),
    }

    def render(status: int, description: str | None = None) -> Any:
        title, text = pages.get(status, pages[400] if status < 500 else pages[500])
        return render_template("errors/error.html", status=status, title=title, text=text), status

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        status = exc.code or 500
        if wants_json():
            fields = _validation_fields(getattr(exc, "data", None))
            message = "Invalid request" if fields else exc.description or HTTP_CODES.get(status, "error")
            return json_error(status, message, fields=fields)
        if status in (405,):
            return render(400)
        return render(status)

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError) -> Any:
        if wants_json():
            return json_error(exc.status, exc.message, exc.code, exc.fields)
        return render(exc.status if exc.status in pages else 400)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        app.logger.exception("unhandled error", exc_info=exc)
        if wants_json():
            return json_error(500, "Internal server error")
        return render(500)
