"""Platform administration: organisations across the platform. Only platform admins: anyone else who
is signed in gets 403, as the API's /api/v1/admin does, and a visitor is sent to sign in."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from incubator.core.actions import attempt
from incubator.core.permissions import Role
from incubator.core.tenancy import set_current_org
from incubator.extensions import db, login_manager
from incubator.orgs import services as org_services
from incubator.orgs.forms import OrgCreateForm
from incubator.orgs.models import Membership, Organisation

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def _admins_only() -> Any:
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_admin:
        abort(403)
    return None


@bp.route("/")
def index() -> Any:
    rows = db.session.execute(
        select(Organisation, func.count(Membership.id))
        .outerjoin(Membership, Membership.org_id == Organisation.id)
        .group_by(Organisation.id)
        .order_by(Organisation.name)
    ).all()
    return render_template("admin/index.html", rows=rows)


@bp.route("/orgs/new", methods=["GET", "POST"])
def create_org() -> Any:
    form = OrgCreateForm(data={"timezone": "Asia/Ho_Chi_Minh", "currency": "VND", "default_locale": "vi"})
    if form.validate_on_submit():
        with attempt(form=form) as outcome:
            org = org_services.create_org(db.session, slug=form.slug.data, name=form.name.data, kind=form.kind.data,
                                          timezone=form.timezone.data, currency=form.currency.data,
                                          default_locale=form.default_locale.data)
            set_current_org(db.session, org)  # the owner's invitation is the new organisation's row (core.rls)
            org_services.invite(db.session, org, form.owner_email.data, Role.OWNER, current_user)
        if outcome.ok:
            flash(_("%(name)s is created and its owner invited.", name=org.name), "success")
            return redirect(url_for("admin.index"))
    return render_template("admin/create_org.html", form=form)
