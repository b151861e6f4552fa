"""The organisation over the API: settings, members, invitations and service tokens (the same rules and
loaders as the pages: ``orgs.services`` and ``orgs.access``)."""

from __future__ import annotations

from functools import wraps
from typing import Any

from flask import g, url_for
from flask_smorest.pagination import PaginationParameters
from marshmallow import Schema, fields, validate

from incubator.accounts.services import ALL_SCOPES, DEFAULT_SCOPES, EXPIRY_DAYS, expiry_after
from incubator.api import ErrorSchema, api_blueprint, error_responses
from incubator.api.accounts import TokenOut
from incubator.api.paging import api_page
from incubator.api.schemas import OrgOut
from incubator.core.permissions import Permission, Role, require
from incubator.extensions import db
from incubator.orgs import access, services

bp = api_blueprint("api_orgs", __name__, org=True, description="Organisations")
NOT_FOUND = (404, "Not found, or the caller is not a member")
FORBIDDEN = (403, "The caller's role does not allow this")
ROLES = [r.value for r in Role]


def _org_out() -> dict[str, Any]:
    org = g.org
    return {"slug": org.slug, "name": org.name, "kind": str(org.kind), "timezone": org.timezone,
            "currency": org.currency, "default_locale": org.default_locale, "role": str(g.membership.role)}


@bp.route("")
@bp.response(200, OrgOut)
@bp.alt_response(401, schema=ErrorSchema, description="Missing or invalid token")
@bp.alt_response(404, schema=ErrorSchema, description="No such organisation, or the caller is not a member")
def get_org() -> Any:
    return _org_out()


class OrgSettingsIn(Schema):
    name = fields.String(validate=validate.Length(min=1, max=255))
    timezone = fields.String(metadata={"description": "An IANA time zone, e.g. Asia/Ho_Chi_Minh"})
    currency = fields.String(metadata={"description": "ISO 4217 code, e.g. VND"})
    default_locale = fields.String(metadata={"description": "vi or en"})


@bp.route("", methods=["PATCH"])
@require(Permission.MANAGE_ORG)
@bp.arguments(OrgSettingsIn)
@bp.response(200, OrgOut)
@error_responses(bp, NOT_FOUND, FORBIDDEN, (422, "A field is invalid: `fields` says which"))
def update_org(data: dict[str, Any]) -> Any:
    """Change the organisation's settings; fields left out keep their value (the settings page's rules)."""
    org = g.org
    merged = {"name": org.name, "timezone": org.timezone, "currency": org.currency,
              "default_locale": org.default_locale, **data}
    services.update_settings(org, **merged)
    return _org_out()


# -- members -------------------------------------------------------------------------------------------

class MemberOut(Schema):
    id = fields.Integer(required=True, metadata={"description": "The membership's id"})
    user_id = fields.Integer(required=True)
    name = fields.String(required=True)
    email = fields.String(required=True)
    role = fields.String(required=True)


class MembersQuery(Schema):
    q = fields.String(load_default=None, validate=validate.Length(max=120),
                      metadata={"description": "Part of the name or email"})
    role = fields.String(load_default=None, validate=validate.OneOf(ROLES))


class RoleIn(Schema):
    role = fields.String(required=True, validate=validate.OneOf(ROLES))


def with_member(view: Any) -> Any:
    """Load ``membership_id`` (404 if not a person of this organisation) before the body is read."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.target_member = access.member_or_404(kwargs["membership_id"])
        return view(*args, **kwargs)

    return wrapper


def _member_out(m: Any) -> dict[str, Any]:
    return {"id": m.id, "user_id": m.user_id, "name": m.user.name, "email": m.user.email, "role": str(m.role)}


@bp.route("/members")
@require(Permission.MANAGE_MEMBERS)
@bp.arguments(MembersQuery, location="query")
@bp.response(200, MemberOut(many=True))
@bp.paginate()
@error_responses(bp, NOT_FOUND, FORBIDDEN)
def list_members(query: dict[str, Any], pagination_parameters: PaginationParameters) -> Any:
    """The organisation's members (people; service tokens are listed under /service-tokens)."""
    return [_member_out(m) for m in api_page(access.members_query(query["q"], query["role"]), pagination_parameters)]


@bp.route("/members/<int:membership_id>", methods=["PATCH"])
@require(Permission.MANAGE_MEMBERS)
@with_member
@bp.arguments(RoleIn)
@bp.response(200, MemberOut)
@error_responses(bp, NOT_FOUND, (403, "The caller's role does not allow this; only owners give or take the owner "
                                      "role"), (422, "`last_owner`: an organisation keeps at least one owner"))
def change_role(data: dict[str, Any], membership_id: int) -> Any:
    target = g.target_member
    services.change_role(db.session, g.membership, target, data["role"])
    return _member_out(target)


@bp.route("/members/<int:membership_id>", methods=["DELETE"])
@require(Permission.MANAGE_MEMBERS)
@bp.response(204)
@error_responses(bp, NOT_FOUND, (403, "The caller's role does not allow this; only owners remove an owner"),
                 (422, "`last_owner`: an organisation keeps at least one owner"))
def remove_member(membership_id: int) -> Any:
    target = access.member_or_404(membership_id)
    services.remove_member(db.session, g.membership, target)
    return ""


# -- invitations ---------------------------------------------------------------------------------------

class InvitationOut(Schema):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    role = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    expires_at = fields.DateTime(required=True)
    expired = fields.Boolean(required=True)


class InvitationIn(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=255))
    role = fields.String(load_default=Role.FOUNDER.value, validate=validate.OneOf(ROLES))


def _invitation_out(i: Any) -> dict[str, Any]:
    return {"id": i.id, "email": i.email, "role": str(i.role), "created_at": i.created_at,
            "expires_at": i.expires_at, "expired": not i.is_pending()}


@bp.route("/invitations")
@require(Permission.MANAGE_MEMBERS)
@bp.response(200, InvitationOut(many=True))
@bp.paginate()
@error_responses(bp, NOT_FOUND, FORBIDDEN)
def list_invitations(pagination_parameters: PaginationParameters) -> Any:
    """Invitations not accepted or revoked yet (expired ones say so)."""
    return [_invitation_out(i) for i in api_page(access.pending_invitations(), pagination_parameters)]


@bp.route("/invitations/<int:invitation_id>")
@require(Permission.MANAGE_MEMBERS)
@bp.response(200, InvitationOut)
@error_responses(bp, NOT_FOUND, FORBIDDEN)
def get_invitation(invitation_id: int) -> Any:
    return _invitation_out(access.invitation_or_404(invitation_id))


@bp.route("/invitations", methods=["POST"])
@require(Permission.MANAGE_MEMBERS)
@bp.arguments(InvitationIn)
@bp.response(201, InvitationOut)
@error_responses(bp, NOT_FOUND, (403, "Only owners invite owners"), (409, "`already_member`"),
                 (422, "A field is invalid"))
def invite(data: dict[str, Any]) -> Any:
    """Email an invitation to join with a role (founder unless said otherwise)."""
    invitation = services.invite(db.session, g.org, data["email"], data["role"], g.api_user, actor=g.membership)
    location = url_for("api_orgs.get_invitation", org=g.org.slug, invitation_id=invitation.id)
    return _invitation_out(invitation), {"Location": location}


@bp.route("/invitations/<int:invitation_id>", methods=["DELETE"])
@require(Permission.MANAGE_MEMBERS)
@bp.response(204)
@error_responses(bp, NOT_FOUND, FORBIDDEN, (422, "`already_accepted`"))
def revoke_invitation(invitation_id: int) -> Any:
    services.revoke_invitation(access.invitation_or_404(invitation_id))
    return ""


# -- service tokens --------------------------------------------------------------------------------------

class ServiceTokenOut(TokenOut):
    """A personal token's fields, and the role and author of an organisation's token."""

    role = fields.String(required=True, metadata={"description": "The role it acts with in this organisation"})
    created_by = fields.String(allow_none=True, metadata={"description": "The name of who made it"})


class NewServiceTokenOut(ServiceTokenOut):
    token = fields.String(required=True, metadata={"description": "The token itself: shown this once only"})


class ServiceTokenIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    role = fields.String(required=True, validate=validate.OneOf([r for r in ROLES if r != Role.OWNER]),
                         metadata={"description": "Any role but owner"})
    scopes = fields.List(fields.String(validate=validate.OneOf(ALL_SCOPES)), load_default=list(DEFAULT_SCOPES),
                         validate=validate.Length(min=1))
    expires_in_days = fields.Integer(load_default=None, allow_none=True, validate=validate.OneOf(EXPIRY_DAYS),
                                     metadata={"description": "30, 90 or 365; null: never expires"})


def _token_out(record: Any) -> dict[str, Any]:
    return {"id": record.id, "name": record.name, "prefix": record.prefix, "role": str(access.service_role(record)),
            "scopes": record.scopes.split(), "created_at": record.created_at,
            "created_by": record.created_by.name if record.created_by else None, "expires_at": record.expires_at,
            "last_used_at": record.last_used_at, "revoked_at": record.revoked_at}


@bp.route("/service-tokens")
@require(Permission.MANAGE_MEMBERS)
@bp.response(200, ServiceTokenOut(many=True))
@bp.paginate()
@error_responses(bp, NOT_FOUND, FORBIDDEN)
def list_service_tokens(pagination_parameters: PaginationParameters) -> Any:
    return [_token_out(r) for r in api_page(access.service_tokens_query(), pagination_parameters)]


@bp.route("/service-tokens/<int:api_token_id>")
@require(Permission.MANAGE_MEMBERS)
@bp.response(200, ServiceTokenOut)
@error_responses(bp, NOT_FOUND, FORBIDDEN)
def get_service_token(api_token_id: int) -> Any:
    return _token_out(access.service_token_or_404(api_token_id))


@bp.route("/service-tokens", methods=["POST"])
@require(Permission.MANAGE_MEMBERS)
@bp.arguments(ServiceTokenIn)
@bp.response(201, NewServiceTokenOut)
@error_responses(bp, NOT_FOUND, FORBIDDEN, (422, "A field is invalid"))
def create_service_token(data: dict[str, Any]) -> Any:
    """A token not tied to a person, acting with ``role`` in this organisation only."""
    token, record = services.create_service_token(
        db.session, g.org, g.membership, name=data["name"], role=data["role"], scopes=data["scopes"],
        expires_at=expiry_after(data["expires_in_days"]))
    location = url_for("api_orgs.get_service_token", org=g.org.slug, api_token_id=record.id)
    return {**_token_out(record), "token": token}, {"Location": location}


@bp.route("/service-tokens/<int:api_token_id>", methods=["DELETE"])
@require(Permission.MANAGE_MEMBERS)
@bp.response(204)
@error_responses(bp, NOT_FOUND, FORBIDDEN)
def revoke_service_token(api_token_id: int) -> Any:
    services.revoke_service_token(access.service_token_or_404(api_token_id))
    return ""
