"""Platform administration: organisations and people across the platform. Only platform admins: anyone
else who is signed in gets 403, as the API's /api/v1/admin does, and a visitor is sent to sign in."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from incubator.accounts.forms import CSRFOnlyForm
from incubator.admin import services
from incubator.core.actions import attempt
from incubator.core.pagination import paginate
from incubator.core.permissions import Role
from incubator.core.tenancy import ALL_ORGS, set_current_org
from incubator.extensions import db, login_manager
from incubator.orgs import services as org_services
from incubator.orgs.forms import OrgAdminForm, OrgCreateForm, OrgDeleteForm
from incubator.orgs.models import Membership, Organisation

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def _admins_only() -> Any:
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_admin:
        abort(403)
    db.session.info[ALL_ORGS] = True  # the platform's admin sees every organisation (also under core.rls)
    return None


@bp.route("/")
def index() -> Any:
    rows = db.session.execute(
        select(Organisation, func.count(Membership.id))
        .outerjoin(Membership, Membership.org_id == Organisation.id)
        .where(Organisation.deleted_at.is_(None))
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


@bp.route("/orgs/<slug>", methods=["GET", "POST"])
def org(slug: str) -> Any:
    """One organisation: edit it, suspend or lift the suspension, delete it."""
    org = services.org_by_slug(db.session, slug)
    form = OrgAdminForm(obj=org, data={"kind": str(org.kind)} if request.method == "GET" else None)
    if form.validate_on_submit():
        with attempt(form=form) as outcome:
            services.update_org(db.session, org, slug=form.slug.data, name=form.name.data, kind=form.kind.data,
                                timezone=form.timezone.data, currency=form.currency.data,
                                default_locale=form.default_locale.data)
        if outcome.ok:
            flash(_("%(name)s is saved.", name=org.name), "success")
            return redirect(url_for("admin.org", slug=org.slug))
    status = 422 if form.errors else 200
    members = db.session.execute(select(func.count(Membership.id)).where(Membership.org_id == org.id)).scalar_one()
    return render_template("admin/org.html", org=org, form=form, members=members, action_form=CSRFOnlyForm(),
                           delete_form=OrgDeleteForm(prefix="delete")), status


@bp.route("/orgs/<slug>/suspend", methods=["POST"])
def suspend_org(slug: str) -> Any:
    return _suspend(slug, True)


@bp.route("/orgs/<slug>/unsuspend", methods=["POST"])
def unsuspend_org(slug: str) -> Any:
    return _suspend(slug, False)


def _suspend(slug: str, suspended: bool) -> Any:
    org = services.org_by_slug(db.session, slug)
    if not CSRFOnlyForm().validate_on_submit():
        abort(400)
    services.set_suspended(org, suspended)
    flash(_("%(name)s is suspended: its members cannot use it.", name=org.name) if suspended
          else _("%(name)s can be used again.", name=org.name), "success")
    return redirect(url_for("admin.org", slug=org.slug))


@bp.route("/orgs/<slug>/delete", methods=["POST"])
def delete_org(slug: str) -> Any:
    org = services.org_by_slug(db.session, slug)
    delete_form = OrgDeleteForm(prefix="delete")
    if delete_form.validate_on_submit():
        with attempt(form=delete_form) as outcome:
            services.delete_org(db.session, org, delete_form.confirm.data)
        if outcome.ok:
            flash(_("%(name)s is deleted.", name=org.name), "success")
            return redirect(url_for("admin.index"))
    form = OrgAdminForm(obj=org, data={"kind": str(org.kind)})
    members = db.session.execute(select(func.count(Membership.id)).where(Membership.org_id == org.id)).scalar_one()
    return render_template("admin/org.html", org=org, form=form, members=members, action_form=CSRFOnlyForm(),
                           delete_form=delete_form), 422


@bp.route("/users")
def users() -> Any:
    query = request.args.get("q", "")
    page = paginate(db.session, services.users_query(query), per_page=25)
    return render_template("admin/users.html", page=page, query=query, action_form=CSRFOnlyForm())


@bp.route("/users/<int:user_id>/reset-access", methods=["POST"])
def reset_access(user_id: int) -> Any:
    user = services.user_by_id(db.session, user_id)
    if not CSRFOnlyForm().validate_on_submit():
        abort(400)
    services.reset_access(db.session, user)
    flash(_("%(email)s is signed out everywhere, their tokens are revoked and a password reset link is sent.",
            email=user.email), "success")
    return redirect(request.referrer if request.referrer and request.referrer.startswith(request.host_url)
                    else url_for("admin.users"))
