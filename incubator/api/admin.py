"""Platform administration over the API: organisations across the platform (what /admin does, with
the same services). Only platform admins; anyone else gets 403."""

from __future__ import annotations

from typing import Any

from flask import g, url_for
from flask_smorest.pagination import PaginationParameters
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from incubator.api import api_blueprint, error_responses
from incubator.api.paging import api_page
from incubator.api.schemas import OrgSummaryOut
from incubator.core.errors import NotAllowed
from incubator.core.permissions import Role
from incubator.extensions import db
from incubator.orgs import services as org_services
from incubator.orgs.models import Organisation, OrgKind

bp = api_blueprint("api_admin", __name__, url_prefix="/admin", description="Platform administration")
FORBIDDEN = (403, "Only platform admins")


@bp.before_request
def _admins_only() -> Any:
    if not g.api_user.is_admin:
        raise NotAllowed("Only platform admins may do this")
    return None


class AdminOrgOut(OrgSummaryOut):
    """An organisation in the platform admin's list."""


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
            "currency": org.currency, "default_locale": org.default_locale}


@bp.route("/orgs")
@bp.response(200, AdminOrgOut(many=True))
@bp.paginate()
@error_responses(bp, FORBIDDEN)
def list_orgs(pagination_parameters: PaginationParameters) -> Any:
    """Every organisation on the platform, by name."""
    stmt = select(Organisation).order_by(Organisation.name, Organisation.id)  # not org-scoped: all of them
    return [_org_out(o) for o in api_page(stmt, pagination_parameters)]


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
