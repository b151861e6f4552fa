"""Organisation pages: the dashboard, members and invitations, settings."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from incubator.accounts import landing
from incubator.accounts.forms import CSRFOnlyForm
from incubator.core.actions import attempt
from incubator.core.db import utcnow
from incubator.core.pagination import paginate
from incubator.core.permissions import Permission, Role, require
from incubator.core.tenancy import org_blueprint
from incubator.extensions import db
from incubator.orgs import access, services
from incubator.orgs.forms import InviteForm, OrgSettingsForm, RoleForm
from incubator.orgs.models import Invitation, Membership
from incubator.orgs.panels import PANEL_PROVIDERS

bp = org_blueprint("orgs", __name__)
landing.add_home_finder(landing.MEMBER, services.member_home)



@bp.route("/")
@require(Permission.VIEW_DASHBOARD)
def dashboard() -> Any:
    session["last_org"] = g.org.slug
    role = Role(g.membership.role)
    stats: dict[str, Any] = {}
    if g.membership.has(Permission.MANAGE_MEMBERS):
        rows = db.session.execute(
            select(Membership.role, func.count()).where(Membership.org_id == g.org.id).group_by(Membership.role)
        ).all()
        stats["members_by_role"] = {Role(r): n for r, n in rows}
        stats["pending_invitations"] = db.session.execute(
            select(func.count()).select_from(Invitation).where(
                Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None), Invitation.expires_at > utcnow()
            )
        ).scalar_one()
    panels: dict[str, Any] = {}
    for provider in PANEL_PROVIDERS:
        panels.update(provider(db.session, g.org, g.membership))
    return render_template("orgs/dashboard.html", role=role, stats=stats, panels=panels)


def _members_page(invite_form: InviteForm, status: int = 200) -> Any:
    q = (request.args.get("q") or "").strip()[:120] or None
    role = request.args.get("role") if request.args.get("role") in set(Role) else None  # unknown: no filter
    members_page = paginate(db.session, access.members_query(q, role), per_page=50)
    invitations = db.session.execute(access.pending_invitations()).scalars().all()
    return render_template("orgs/members.html", members_page=members_page, invitations=invitations,
                           invite_form=invite_form, role_form=RoleForm(formdata=None), q=q, role=role,
                           button_form=CSRFOnlyForm(formdata=None), now=utcnow()), status


@bp.route("/members")
@require(Permission.MANAGE_MEMBERS)
def members() -> Any:
    return _members_page(InviteForm(formdata=None))


@bp.route("/members/invite", methods=["POST"])
@require(Permission.MANAGE_MEMBERS)
def invite() -> Any:
    form = InviteForm()
    if form.validate_on_submit():
        with attempt(form=form) as outcome:
            services.invite(db.session, g.org, form.email.data, form.role.data, current_user, actor=g.membership)
        if outcome.ok:
            flash(_("Invitation sent to %(email)s.", email=form.email.data), "success")
            return redirect(url_for("orgs.members"))
    return _members_page(form, 422)


@bp.route("/members/<int:membership_id>/role", methods=["POST"])
@require(Permission.MANAGE_MEMBERS)
def change_role(membership_id: int) -> Any:
    target = access.member_or_404(membership_id)
    form = RoleForm()
    if form.validate_on_submit():
        with attempt(flash_error=True) as outcome:
            services.change_role(db.session, g.membership, target, form.role.data)
        if outcome.ok:
            flash(_("%(name)s is now %(role)s.", name=target.user.name, role=Role(target.role).label), "success")
    return redirect(url_for("orgs.members"))


@bp.route("/members/<int:membership_id>/remove", methods=["POST"])
@require(Permission.MANAGE_MEMBERS)
def remove_member(membership_id: int) -> Any:
    target = access.member_or_404(membership_id)
    form = CSRFOnlyForm()
    if form.validate_on_submit():
        with attempt(flash_error=True) as outcome:
            services.remove_member(db.session, g.membership, target)
        if outcome.ok:
            flash(_("%(name)s no longer belongs to this organisation.", name=target.user.name), "success")
    return redirect(url_for("orgs.members"))


@bp.route("/invitations/<int:invitation_id>/revoke", methods=["POST"])
@require(Permission.MANAGE_MEMBERS)
def revoke_invitation(invitation_id: int) -> Any:
    invitation = access.invitation_or_404(invitation_id)
    form = CSRFOnlyForm()
    if form.validate_on_submit():
        with attempt(flash_error=True) as outcome:
            services.revoke_invitation(invitation)
        if outcome.ok:
            flash(_("The invitation is revoked."), "success")
    return redirect(url_for("orgs.members"))


@bp.route("/settings", methods=["GET", "POST"])
@require(Permission.MANAGE_ORG)
def settings() -> Any:
    form = OrgSettingsForm(obj=g.org)
    if form.validate_on_submit():
        with attempt(form=form) as outcome:
            services.update_settings(g.org, name=form.name.data, timezone=form.timezone.data,
                                     currency=form.currency.data, default_locale=form.default_locale.data)
        if outcome.ok:
            flash(_("The organisation's settings are saved."), "success")
            return redirect(url_for("orgs.settings"))
    return render_template("orgs/settings.html", form=form)
