"""Platform administration over the API: organisations and people across the platform (what /admin
does, with the same services). Only platform admins; anyone else gets 403."""

from __future__ import annotations

from typing import Any

from flask import g, url_for
from flask_smorest.pagination import PaginationParameters
from marshmallow import RAISE, Schema, fields, validate

from incubator.admin import services as admin_services
from incubator.api import api_blueprint, error_responses
from incubator.api.paging import api_page
from incubator.api.schemas import MembershipOut, OrgSummaryOut
from incubator.core.errors import NotAllowed
from incubator.core.permissions import Role
from incubator.core.tenancy import ALL_ORGS
from incubator.extensions import db
from incubator.orgs import services as org_services
from incubator.orgs.models import Organisation, OrgKind

bp = api_blueprint("api_admin", __name__, url_prefix="/admin", description="Platform administration")
FORBIDDEN = (403, "Only platform admins")


@bp.before_request
def _admins_only() -> Any:
    if not g.api_user.is_admin:
        raise NotAllowed("Only platform admins may do this")
    db.session.info[ALL_ORGS] = True  # the platform's admin sees every organisation (also under core.rls)
    return None


class AdminOrgOut(OrgSummaryOut):
    """An organisation in the platform admin's list."""

    suspended_at = fields.DateTime(allow_none=True, metadata={"description": "Set while it is suspended"})


class AdminOrgPatch(Schema):
    class Meta:
        unknown = RAISE

    slug = fields.String(validate=validate.Length(min=1, max=40))
    name = fields.String(validate=validate.Length(min=1, max=255))
    kind = fields.String(validate=validate.OneOf([k.value for k in OrgKind]))
    timezone = fields.String()
    currency = fields.String()
    default_locale = fields.String()


class AdminOrgDeleteIn(Schema):
    confirm = fields.String(required=True, metadata={"description": "The organisation's slug, typed to confirm"})


class AdminUserOut(Schema):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    name = fields.String(required=True)
    is_admin = fields.Boolean(required=True)
    email_verified_at = fields.DateTime(required=True, allow_none=True,
                                        metadata={"description": "When they proved their address; null: not yet"})
    memberships = fields.List(fields.Nested(MembershipOut), required=True)


class AdminUserQuery(Schema):
    q = fields.String(load_default="", validate=validate.Length(max=255),
                      metadata={"description": "Part of a name or email"})


class ResetAccessOut(Schema):
    revoked_tokens = fields.Integer(required=True)
    mail_sent = fields.Boolean(required=True)


class AdminOrgIn(Schema):
    slug = fields.String(required=True, validate=validate.Length(min=1, max=40),
                         metadata={"description": "Lowercase letters, digits and dashes; used in /o/<slug>/"})
    name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    kind = fields.String(load_default=OrgKind.INCUBATOR.value, validate=validate.OneOf([k.value for k in OrgKind]))
    timezone = fields.String(load_default="Asia/Ho_Chi_Minh", metadata={"description": "An IANA time zone"})
    currency = fields.String(load_default="VND", metadata={"description": "ISO 4217 code"})
    default_locale = fields.String(load_default="vi", metadata={"description": "vi or en"})
    owner_email = fields.Email(required=True, validate=validate.Length(max=255),
                               metadata={"description": "Receives an invitation as owner"})


def _org_out(org: Organisation) -> dict[str, Any]:
    return {"slug": org.slug, "name": org.name, "kind": str(org.kind), "timezone": org.timezone,
            "currency": org.currency, "default_locale": org.default_locale, "suspended_at": org.suspended_at}


def _user_out(user: Any) -> dict[str, Any]:
    return {"id": user.id, "email": user.email, "name": user.name, "is_admin": user.is_admin,
            "email_verified_at": user.email_verified_at,
            "memberships": [{"org": m.org.slug, "org_name": m.org.name, "role": str(m.role)}
                            for m in user.memberships if m.org.deleted_at is None]}


@bp.route("/orgs")
@bp.response(200, AdminOrgOut(many=True))
@bp.paginate()
@error_responses(bp, FORBIDDEN)
def list_orgs(pagination_parameters: PaginationParameters) -> Any:
    """Every organisation on the platform, by name."""
    return [_org_out(o) for o in api_page(admin_services.orgs_query(), pagination_parameters)]


@bp.route("/orgs", methods=["POST"])
@bp.arguments(AdminOrgIn)
@bp.response(201, AdminOrgOut)
@error_responses(bp, FORBIDDEN, (409, "`slug_taken`: the address is taken"), (422, "A field is invalid"))
def create_org(data: dict[str, Any]) -> Any:
    """Create an organisation and invite its owner (the /admin/orgs/new page's rules)."""
    org = org_services.create_org(db.session, slug=data["slug"], name=data["name"], kind=data["kind"],
                                  timezone=data["timezone"], currency=data["currency"],
                                  default_locale=data["default_locale"])
    org_services.invite(db.session, org, data["owner_email"], Role.OWNER, g.api_user)
    return _org_out(org), {"Location": url_for("api_orgs.get_org", org=org.slug)}


NOT_FOUND = (404, "No such organisation or user")


@bp.route("/orgs/<slug>")
@bp.response(200, AdminOrgOut)
@error_responses(bp, FORBIDDEN, NOT_FOUND)
def get_org(slug: str) -> Any:
    """One organisation, suspended or not."""
    return _org_out(admin_services.org_by_slug(db.session, slug))


@bp.route("/orgs/<slug>", methods=["PATCH"])
@bp.arguments(AdminOrgPatch)
@bp.response(200, AdminOrgOut)
@error_responses(bp, FORBIDDEN, NOT_FOUND, (409, "`slug_taken`: the address is taken"), (422, "A field is invalid"))
def update_org(data: dict[str, Any], slug: str) -> Any:
    """Change the given fields (the /admin/orgs/<slug> page's rules)."""
    org = admin_services.org_by_slug(db.session, slug)
    current = {**_org_out(org), **data}
    admin_services.update_org(db.session, org, slug=current["slug"], name=current["name"], kind=current["kind"],
                              timezone=current["timezone"], currency=current["currency"],
                              default_locale=current["default_locale"])
    return _org_out(org)


@bp.route("/orgs/<slug>/suspend", methods=["POST"])
@bp.response(200, AdminOrgOut)
@error_responses(bp, FORBIDDEN, NOT_FOUND)
def suspend_org(slug: str) -> Any:
    """Suspend it: its pages and API answer 403 `org_suspended` to everyone until lifted."""
    org = admin_services.org_by_slug(db.session, slug)
    admin_services.set_suspended(org, True)
    return _org_out(org)


@bp.route("/orgs/<slug>/unsuspend", methods=["POST"])
@bp.response(200, AdminOrgOut)
@error_responses(bp, FORBIDDEN, NOT_FOUND)
def unsuspend_org(slug: str) -> Any:
    """Lift the suspension."""
    org = admin_services.org_by_slug(db.session, slug)
    admin_services.set_suspended(org, False)
    return _org_out(org)


@bp.route("/orgs/<slug>", methods=["DELETE"])
@bp.arguments(AdminOrgDeleteIn, location="query")
@bp.response(204)
@error_responses(bp, FORBIDDEN, NOT_FOUND, (422, "`confirm_mismatch`: `confirm` is not the slug"))
def delete_org(query: dict[str, Any], slug: str) -> Any:
    """Soft delete: gone from every address and list; payments and ledger entries are kept."""
    admin_services.delete_org(db.session, admin_services.org_by_slug(db.session, slug), query["confirm"])
    return None


@bp.route("/users")
@bp.arguments(AdminUserQuery, location="query")
@bp.response(200, AdminUserOut(many=True))
@bp.paginate()
@error_responses(bp, FORBIDDEN)
def list_users(query: dict[str, Any], pagination_parameters: PaginationParameters) -> Any:
    """People on the platform by email, with their memberships; `q` searches names and emails."""
    return [_user_out(u) for u in api_page(admin_services.users_query(query["q"]), pagination_parameters)]


@bp.route("/users/<int:user_id>/reset-access", methods=["POST"])
@bp.response(200, ResetAccessOut)
@error_responses(bp, FORBIDDEN, NOT_FOUND)
def reset_access(user_id: int) -> Any:
    """Sign the person out everywhere, revoke their tokens and mail them a password reset link."""
    revoked = admin_services.reset_access(db.session, admin_services.user_by_id(db.session, user_id))
    return {"revoked_tokens": revoked, "mail_sent": True}
