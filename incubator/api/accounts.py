from __future__ import annotations

from typing import Any

from flask import g

from incubator.api import ErrorSchema, api_blueprint
from incubator.api.schemas import MeOut
from incubator.extensions import db
from incubator.orgs.services import memberships_of

bp = api_blueprint("api_accounts", __name__, description="The caller's account")


@bp.route("/me")
@bp.response(200, MeOut)
@bp.alt_response(401, schema=ErrorSchema, description="Missing or invalid token")
def me() -> Any:
    user = g.api_user
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "locale": user.locale,
        "is_admin": user.is_admin,
        "memberships": [
            {"org": m.org.slug, "org_name": m.org.name, "role": str(m.role)} for m in memberships_of(db.session, user)
        ],
    }
