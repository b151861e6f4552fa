"""The JSON API under /api/v1: bearer-token auth, OpenAPI 3 document, one module per domain.

Errors are JSON ``{"code", "message", "fields"}`` (see ``core.errors``). Every org route lives
under ``/api/v1/orgs/<org>`` and answers 404 to anyone who is not a member, except the applicant's
operations (marked ``@signed_in``: calls, their own applications, the fee's checkout).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, render_template, request, send_from_directory
from flask_smorest import Api as _Api
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from incubator.api import idempotency
from incubator.core.errors import json_error


class ErrorSchema(Schema):
    code = fields.String(required=True, metadata={"description": "Stable machine-readable error code"})
    message = fields.String(required=True)
    fields_ = fields.Dict(data_key="fields", keys=fields.String(),
                          metadata={"description": "Per-field messages for validation errors"})


class Api(_Api):
    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:
        """The app's own handlers (core.errors) answer in our error format."""


SCOPES_DOC = (
    "Tokens carry scopes: `read` and `write` for every domain, or `<domain>:read` and `<domain>:write` "
    "for one of cohorts, mentoring, booking, intake, payments, reporting, orgs (`write` implies `read`). "
    "A GET or HEAD needs a read scope of the operation's domain, anything else a write scope (each "
    "operation names them in `x-scopes`); without one the answer is 403 `insufficient_scope`. Operations "
    "outside those domains (`/me`, `/admin`) need `read` or `write`. An expired token answers 401 `token_expired`."
)
API_DESCRIPTION = (
    "Personal API tokens from Account → API tokens, or an organisation's service tokens (Organisation → "
    "Service tokens), sent as `Authorization: Bearer`. " + SCOPES_DOC + " POSTs accept an `Idempotency-Key` "
    "header: a repeat with the same key and request answers the first answer again "
    "(`Idempotent-Replayed: true`) for 24 hours."
)

api = Api(spec_kwargs={
    "security": [{"bearerAuth": []}],
    "info": {"description": API_DESCRIPTION},
})


def error_responses(bp: Blueprint, *codes: tuple[int, str]) -> Any:
    """Document an operation's error answers (401 always), in the shared error format."""

    def decorator(view: Any) -> Any:
        for code, description in reversed(((401, "Missing or invalid token"), *codes)):
            view = bp.alt_response(code, schema=ErrorSchema, description=description)(view)
        return view

    return decorator


def authenticate() -> Any:
    """Bearer token or 401; the token's scopes must cover the operation (403 ``insufficient_scope``)
    and a person's address must be verified (403 ``email_unverified``). Session cookies are not
    accepted by the API (no CSRF there)."""
    from incubator.accounts.services import TokenRefused, has_scope, required_scopes, token_record
    from incubator.extensions import db

    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return json_error(401, "Missing or invalid API token")
    try:
        record = token_record(db.session, token.strip())
    except TokenRefused as refused:
        return json_error(401, refused.message, refused.code)
    domain, write = operation_domain(), request.method not in ("GET", "HEAD", "OPTIONS")
    if not has_scope(record, domain, write):
        needed = " or ".join(required_scopes(domain, write))
        return json_error(403, f"This token lacks the scope this operation needs: {needed}", "insufficient_scope",
                          fields={"scope": needed})
    user = record.user
    if not user.is_service and not user.is_verified:
        return json_error(403, "Confirm your email address (the link mailed to it) before using the API",
                          "email_unverified")
    g._login_user = user  # flask-login's current_user for this request, without a session
    g.api_user = user
    g.api_token = record
    return None


def domain_of(blueprint: str) -> str | None:
    """The domain whose scopes guard a blueprint's operations: ``api_<domain>`` or ``api_<domain>_<part>``
    (``api_mentoring_sessions`` is mentoring's)."""
    if not blueprint.startswith("api_"):
        return None
    return blueprint.removeprefix("api_").split("_", 1)[0]


def operation_domain() -> str | None:
    """The domain of the current API operation (``domain_of`` its blueprint)."""
    return domain_of(request.blueprint or "")


def _no_service_principal() -> Any:
    """Routes outside any organisation (``/me``) are personal: a service token has none."""
    if g.api_user.is_service:
        return json_error(404, "Not found")
    return None


class ApiBlueprint(Blueprint):
    """Lists are paginated 25 to a page by default, at most 100 (see ``incubator.api.paging``)."""

    DEFAULT_PAGINATION_PARAMETERS = {"page": 1, "page_size": 25, "max_page_size": 100}  # noqa: RUF012

    def _document_pagination_metadata(self, spec: Any, resp_doc: dict[str, Any]) -> None:
        """``X-Pagination`` is one JSON text (``{"total": ..., "total_pages": ...}``): documented as a
        string, since an OpenAPI header of type object means comma-separated keys and values."""
        resp_doc.setdefault("headers", {})[self.PAGINATION_HEADER_NAME] = {
            "description": "Pagination metadata as JSON: total, total_pages, first_page, last_page, page, "
                           "previous_page, next_page",
            "schema": {"type": "string"},
        }


def api_blueprint(name: str, import_name: str, url_prefix: str = "", org: bool = False,
                  description: str = "") -> Blueprint:
    """A blueprint of the API; with ``org=True`` its routes live under /api/v1/orgs/<org>."""
    prefix = "/api/v1" + ("/orgs/<org>" if org else "") + url_prefix
    bp = ApiBlueprint(name, import_name, url_prefix=prefix, description=description)
    bp.before_request(authenticate)
    if not org:
        bp.before_request(_no_service_principal)
    if org:
        from incubator.core.tenancy import enter_org, load_org

        @bp.url_value_preprocessor
        def _pull_org(_endpoint: str | None, values: dict[str, Any] | None) -> None:
            g.org_slug = values.pop("org", None) if values else None

        @bp.before_request
        def _member_only() -> Any:
            org = load_org(g.org_slug, g.api_user)
            view = current_app.view_functions.get(request.endpoint or "")
            membership = enter_org(org, g.api_user)
            # A service token reaches its own organisation only, even where non-members may go.
            if membership is None and (g.api_user.is_service or not getattr(view, "_signed_in", False)):
                return json_error(404, "Not found")
            return None

    idempotency.install(bp)
    return bp


def document_operations(spec: Any) -> None:
    """Each operation names the scopes that let a token call it (``x-scopes``); every POST takes the
    reusable ``Idempotency-Key`` header parameter."""
    from incubator.accounts.services import required_scopes

    spec.components.parameter("IdempotencyKey", "header", {
        "name": "Idempotency-Key", "required": False, "schema": {"type": "string", "minLength": 1, "maxLength": 255},
        "description": idempotency.HEADER_DOC})
    for operations in spec._paths.values():  # apispec keeps the registered paths here
        for method, operation in operations.items():
            if method not in ("get", "head", "post", "put", "patch", "delete"):
                continue
            domain = domain_of((operation.get("tags") or [""])[0])  # the tag is the blueprint's name
            operation["x-scopes"] = list(required_scopes(domain, method not in ("get", "head")))
            if method == "post":
                operation.setdefault("parameters", []).append({"$ref": "#/components/parameters/IdempotencyKey"})


def init_app(app: Flask) -> None:
    from incubator.api import (
        accounts,
        admin,
        booking,
        booking_feeds,  # noqa: F401  (its operations join api.booking's blueprint)
        cohorts,
        inbox,  # noqa: F401  (its operation joins api.accounts' blueprint)
        intake,
        mentoring,
        mentoring_matching,
        mentoring_sessions,
        orgs,
        payments,
        reporting,
        webhooks,
    )
    from incubator.extensions import csrf

    api.init_app(app)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer",
                                                        "description": SCOPES_DOC})
    for module in (accounts, admin, orgs, cohorts, mentoring, mentoring_matching, mentoring_sessions, booking, intake,
                   payments, reporting, webhooks):
        csrf.exempt(module.bp)
        api.register_blueprint(module.bp)
    document_operations(api.spec)

    import swagger_ui_bundle

    talisman = app.extensions["talisman"]

    @app.route("/api/v1/docs")
    @talisman(content_security_policy={"default-src": "'self'", "img-src": ["'self'", "data:"],
                                       "style-src": ["'self'", "'unsafe-inline'"], "frame-ancestors": "'none'"})
    def api_docs() -> Any:
        return render_template("api/docs.html")

    @app.route("/api/v1/docs/assets/<path:filename>")
    def api_docs_assets(filename: str) -> Any:
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename, max_age=86400)
