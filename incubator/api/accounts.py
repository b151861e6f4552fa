"""The caller's own account over the API: profile settings and personal tokens (the same rules as
Account → Settings and Account → API tokens: ``accounts.services``)."""

from __future__ import annotations

from typing import Any

from flask import g, url_for
from flask_smorest.pagination import PaginationParameters
from marshmallow import Schema, fields, validate

from incubator.accounts import services
from incubator.accounts.services import ALL_SCOPES, DEFAULT_SCOPES, EXPIRY_DAYS, MAX_NAME_LENGTH
from incubator.api import ErrorSchema, api_blueprint, error_responses
from incubator.api.paging import api_page
from incubator.api.schemas import MeOut, TokenOut
from incubator.core.errors import NotFound
from incubator.extensions import db
from incubator.orgs.services import memberships_of

bp = api_blueprint("api_accounts", __name__, description="The caller's account")
NOT_FOUND = (404, "Not found (a service token has no personal account)")


def _me_out() -> dict[str, Any]:
    user = g.api_user
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "locale": user.locale,
        "timezone": user.timezone,
        "is_admin": user.is_admin,
        "memberships": [
            {"org": m.org.slug, "org_name": m.org.name, "role": str(m.role)} for m in memberships_of(db.session, user)
        ],
    }


@bp.route("/me")
@bp.response(200, MeOut)
@bp.alt_response(401, schema=ErrorSchema, description="Missing or invalid token")
def me() -> Any:
    return _me_out()


class MeIn(Schema):
    name = fields.String(validate=validate.Length(min=1, max=MAX_NAME_LENGTH))
    locale = fields.String(metadata={"description": "vi or en (the app's languages)"})
    timezone = fields.String(allow_none=True, metadata={
        "description": "An IANA time zone the caller reads times in; null or \"\" for each organisation's"})


@bp.route("/me", methods=["PATCH"])
@bp.arguments(MeIn)
@bp.response(200, MeOut)
@error_responses(bp, NOT_FOUND, (422, "A field is invalid: `fields` says which"))
def update_me(data: dict[str, Any]) -> Any:
    """Change the caller's name, language or time zone; fields left out keep their value (the settings page's
    rules). The password is changed on the account page only, never over the API."""
    timezone = (data["timezone"] or "") if "timezone" in data else None
    services.update_profile(g.api_user, name=data.get("name"), locale=data.get("locale"), timezone=timezone)
    return _me_out()


# -- personal tokens -------------------------------------------------------------------------------------

class NewTokenOut(TokenOut):
    token = fields.String(required=True, metadata={"description": "The token itself: shown this once only"})


class TokenIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    scopes = fields.List(fields.String(validate=validate.OneOf(ALL_SCOPES)), load_default=list(DEFAULT_SCOPES),
                         validate=validate.Length(min=1),
                         metadata={"description": "Only scopes the calling token itself holds"})
    expires_in_days = fields.Integer(load_default=90, allow_none=True, validate=validate.OneOf(EXPIRY_DAYS),
                                     metadata={"description": "30, 90 (the default) or 365; null: never expires"})


def _token_out(record: Any) -> dict[str, Any]:
    return {"id": record.id, "name": record.name, "prefix": record.prefix, "scopes": record.scopes.split(),
            "created_at": record.created_at, "expires_at": record.expires_at, "last_used_at": record.last_used_at,
            "revoked_at": record.revoked_at}


@bp.route("/me/tokens")
@bp.response(200, TokenOut(many=True))
@bp.paginate()
@error_responses(bp, NOT_FOUND)
def list_tokens(pagination_parameters: PaginationParameters) -> Any:
    """The caller's personal tokens, newest first (revoked ones say so)."""
    return [_token_out(r) for r in api_page(services.personal_tokens_query(g.api_user), pagination_parameters)]


def _own_token_or_404(token_id: int) -> Any:
    record = services.own_token(db.session, g.api_user, token_id)
    if record is None:
        raise NotFound("Not found")
    return record


@bp.route("/me/tokens/<int:token_id>")
@bp.response(200, TokenOut)
@error_responses(bp, NOT_FOUND)
def get_token(token_id: int) -> Any:
    return _token_out(_own_token_or_404(token_id))


@bp.route("/me/tokens", methods=["POST"])
@bp.arguments(TokenIn)
@bp.response(201, NewTokenOut)
@error_responses(bp, NOT_FOUND, (403, "`insufficient_scope`: a scope the calling token does not hold"),
                 (422, "A field is invalid"))
def create_token(data: dict[str, Any]) -> Any:
    """A new personal token (Account → API tokens' rules); the token itself is in this answer only."""
    token, record = services.create_personal_token(db.session, g.api_user, data["name"], scopes=data["scopes"],
                                                   expires_in_days=data["expires_in_days"], via=g.api_token)
    return {**_token_out(record), "token": token}, {"Location": url_for("api_accounts.get_token",
                                                                         token_id=record.id)}


@bp.route("/me/tokens/<int:token_id>", methods=["DELETE"])
@bp.response(204)
@error_responses(bp, NOT_FOUND)
def revoke_token(token_id: int) -> Any:
    """Revoke one of the caller's tokens (another person's answers 404); revoking the calling token is allowed."""
    services.revoke_api_token(_own_token_or_404(token_id))
    return ""
