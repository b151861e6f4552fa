"""Accepting an invitation to an organisation: the page the invitation mail links to.

It lives outside any organisation's address (the invitee is not a member yet), under /auth/ with the
sign-in pages, but the rules are the organisation's (``orgs.services``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from incubator.accounts import services as account_services
from incubator.accounts.forms import CSRFOnlyForm
from incubator.core.actions import attempt
from incubator.extensions import db
from incubator.orgs import services

bp = Blueprint("invitations", __name__)


@bp.route("/auth/invitations/<token>", methods=["GET", "POST"])
def invitation(token: str) -> Any:
    found = services.find_invitation(db.session, token)
    if found is None:
        flash(_("This invitation is invalid, expired or already used."), "danger")
        return redirect(url_for("accounts.login"))
    form = CSRFOnlyForm()
    if not current_user.is_authenticated:
        session["invitation_email"] = found.email
        has_account = account_services.get_user_by_email(db.session, found.email) is not None
        return render_template("orgs/invitation.html", invitation=found, form=form, has_account=has_account,
                               token=token)
    if form.validate_on_submit():
        with attempt(flash_error=True) as outcome:
            membership = services.accept_invitation(db.session, found, current_user, by_link=True)
        if not outcome.ok:
            return redirect(url_for("invitations.invitation", token=token))
        session.pop("invitation_email", None)
        flash(_("You joined %(org)s.", org=membership.org.name), "success")
        return redirect(url_for("orgs.dashboard", org_slug=membership.org.slug))
    return render_template("orgs/invitation.html", invitation=found, form=form, has_account=True, token=token)


@bp.route("/auth/invitations/mine")
@login_required
def mine_list() -> Any:
    """The invitations open for the signed-in person's address: the link in the mail is not the only way in."""
    invitations = db.session.execute(services.invitations_for_stmt(current_user)).scalars().all()
    return render_template("orgs/my_invitations.html", invitations=invitations)


@bp.route("/auth/invitations/mine/<int:invitation_id>", methods=["GET", "POST"])
@login_required
def mine(invitation_id: int) -> Any:
    """Accept an invitation sent to the signed-in person's address (anyone else's answers 404)."""
    found = services.own_invitation(db.session, invitation_id, current_user)
    if found is None:
        abort(404)
    form = CSRFOnlyForm()
    if form.validate_on_submit():
        with attempt(flash_error=True) as outcome:
            membership = services.accept_invitation(db.session, found, current_user)
        if outcome.ok:
            flash(_("You joined %(org)s.", org=membership.org.name), "success")
            return redirect(url_for("orgs.dashboard", org_slug=membership.org.slug))
    return render_template("orgs/invitation.html", invitation=found, form=form, has_account=True, token=None)
