"""An organisation's service tokens: API tokens not tied to a person, made and revoked by its managers.

Managing them takes ``MANAGE_MEMBERS``, not ``MANAGE_ORG``: a service token is a member of the
organisation acting with a role, so whoever may hand out roles to people (invite, change roles,
remove) is who may hand one to a program. The token is shown once.
"""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, url_for
from flask_babel import gettext as _

from incubator.accounts import services as account_services
from incubator.accounts.forms import CSRFOnlyForm
from incubator.core.actions import attempt
from incubator.core.db import utcnow
from incubator.core.permissions import Permission, require
from incubator.core.tenancy import org_blueprint
from incubator.extensions import db
from incubator.orgs import access, services
from incubator.orgs.forms import ServiceTokenForm

bp = org_blueprint("service_tokens", __name__, "/service-tokens")


def _page(form: ServiceTokenForm, new_token: str | None = None, status: int = 200) -> Any:
    records = db.session.execute(access.service_tokens_query()).unique().scalars().all()
    return render_template("orgs/service_tokens.html", form=form, tokens=records, new_token=new_token,
                           roles={r.id: access.service_role(r) for r in records}, revoke_form=CSRFOnlyForm(),
                           now=utcnow()), status


@bp.route("", methods=["GET", "POST"])
@require(Permission.MANAGE_MEMBERS)
def index() -> Any:
    form = ServiceTokenForm()
    if form.validate_on_submit():
        with attempt(form=form) as outcome:
            token, _record = services.create_service_token(
                db.session, g.org, g.membership, name=form.name.data, role=form.role.data, scopes=form.scopes.data,
                expires_at=account_services.expiry_after(form.expiry_days()))
        if outcome.ok:
            return _page(ServiceTokenForm(formdata=None), new_token=token)
    return _page(form, status=422 if form.errors else 200)


@bp.route("/<int:api_token_id>/revoke", methods=["POST"])
@require(Permission.MANAGE_MEMBERS)
def revoke(api_token_id: int) -> Any:
    record = access.service_token_or_404(api_token_id)
    if CSRFOnlyForm().validate_on_submit():
        services.revoke_service_token(record)
        flash(_("The token is revoked."), "success")
    return redirect(url_for("service_tokens.index"))
