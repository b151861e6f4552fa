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


api = Api(spec_kwargs={
    "security": [{"bearerAuth": []}],
    "info": {"description": "Personal API tokens from Account → API tokens, sent as `Authorization: Bearer`."},
})


def error_responses(bp: Blueprint, *codes: tuple[int, str]) -> Any:
    """Document an operation's error answers (401 always), in the shared error format."""

    def decorator(view: Any) -> Any:
        for code, description in reversed(((401, "Missing or invalid token"), *codes)):
            view = bp.alt_response(code, schema=ErrorSchema, description=description)(view)
        return view

    return decorator


def authenticate() -> Any:
    """Bearer token or 401. Session cookies are not accepted by the API (no CSRF there)."""
    from incubator.accounts.services import user_for_api_token
    from incubator.extensions import db

    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    user = user_for_api_token(db.session, token.strip()) if scheme.lower() == "bearer" and token else None
    if user is None:
        return json_error(401, "Missing or invalid API token")
    g._login_user = user  # flask-login's current_user for this request, without a session
    g.api_user = user
    return None


class ApiBlueprint(Blueprint):
    """Lists are paginated 25 to a page by default, at most 100 (see ``incubator.api.paging``)."""

    DEFAULT_PAGINATION_PARAMETERS = {"page": 1, "page_size": 25, "max_page_size": 100}  # noqa: RUF012

    def _document_pagination_metadata(self, spec: Any, resp_doc: dict[str, Any]) -> None:
        """The header is one string holding JSON (flask-smorest documents it as an object, which
        clients and schemathesis read as the comma-separated form of a header object)."""
        resp_doc.setdefault("headers", {})[self.PAGINATION_HEADER_NAME] = {
            "description": "Pagination metadata as JSON: total, total_pages, first_page, last_page, page, "
                           "previous_page, next_page",
            "schema": {"type": "string"}}


def api_blueprint(name: str, import_name: str, url_prefix: str = "", org: bool = False,
                  description: str = "") -> Blueprint:
    """A blueprint of the API; with ``org=True`` its routes live under /api/v1/orgs/<org>."""
    prefix = "/api/v1" + ("/orgs/<org>" if org else "") + url_prefix
    bp = ApiBlueprint(name, import_name, url_prefix=prefix, description=description)
    bp.before_request(authenticate)
    if org:
        from incubator.core.tenancy import enter_org, load_org

        @bp.url_value_preprocessor
        def _pull_org(_endpoint: str | None, values: dict[str, Any] | None) -> None:
            g.org_slug = values.pop("org", None) if values else None

        @bp.before_request
        def _member_only() -> Any:
            org = load_org(g.org_slug)
            view = current_app.view_functions.get(request.endpoint or "")
            if enter_org(org, g.api_user) is None and not getattr(view, "_signed_in", False):
                return json_error(404, "Not found")
            return None

    return bp


def init_app(app: Flask) -> None:
    from incubator.api import accounts, booking, cohorts, intake, mentoring, orgs, payments, reporting
    from incubator.extensions import csrf

    api.init_app(app)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    for module in (accounts, orgs, cohorts, mentoring, booking, intake, payments, reporting):
        csrf.exempt(module.bp)
        api.register_blueprint(module.bp)

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
