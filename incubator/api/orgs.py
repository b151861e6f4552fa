from __future__ import annotations

from typing import Any

from flask import g

from incubator.api import ErrorSchema, api_blueprint
from incubator.api.schemas import OrgOut

bp = api_blueprint("api_orgs", __name__, org=True, description="Organisations")


@bp.route("")
@bp.response(200, OrgOut)
@bp.alt_response(401, schema=ErrorSchema, description="Missing or invalid token")
@bp.alt_response(404, schema=ErrorSchema, description="No such organisation, or the caller is not a member")
def get_org() -> Any:
    org = g.org
    return {"slug": org.slug, "name": org.name, "kind": str(org.kind), "timezone": org.timezone,
            "currency": org.currency, "default_locale": org.default_locale, "role": str(g.membership.role)}
