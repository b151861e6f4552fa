"""Shared labs, seen from the partner organisation: what others share with us, and booking it.

The resource and its bookings belong to the owner organisation, so these pages step outside the
current organisation on purpose: only through a ``ResourceShare`` naming this organisation as the
partner, and every booking rule runs as for the owner's own members (at the partner rate).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from incubator.booking import services, sharing
from incubator.booking.access import require_booking, shared_or_404
from incubator.booking.forms import TimedSlotForm, form_error
from incubator.core.actions import attempt
from incubator.core.permissions import Permission, require
from incubator.core.tenancy import all_orgs, org_blueprint
from incubator.extensions import db

bp = org_blueprint("shared", __name__)


@bp.route("/shared-resources")
@require(Permission.BOOK_RESOURCES)
@require_booking
def index() -> Any:
    rows = sharing.shared_with(db.session, g.org)
    return render_template("booking/shared.html", rows=rows)


@bp.route("/shared-resources/<int:resource_id>", methods=["GET", "POST"])
@require(Permission.BOOK_RESOURCES)
@require_booking
def book(resource_id: int) -> Any:
    share, resource, owner = shared_or_404(resource_id)
    error = None
    form = TimedSlotForm(default_minutes=resource.min_minutes, zone=ZoneInfo(owner.timezone))
    if form.is_submitted() and not form.validate() and not form.csrf_token.errors:
        error = form_error(form)
    elif form.is_submitted() and not form.errors:
        start = form.start.value
        with attempt() as outcome, all_orgs(db.session):  # a shared resource's bookings belong to its owner
            booking = services.create_booking(db.session, owner, resource, current_user, start,
                                              start + timedelta(minutes=form.minutes.value), share=share)
        if outcome.error is not None:
            error = outcome.error
        else:
            from incubator.booking.views import booking_status_label

            flash(_("Booked at %(owner)s: %(status)s.", owner=owner.name,
                    status=booking_status_label(booking.status)), "success")
            return redirect(url_for("shared.index"))
    return render_template("booking/shared_book.html", share=share, resource=resource, owner=owner, form=form,
                           error=error, choices=list(range(resource.min_minutes, resource.max_minutes + 1,
                                                           resource.slot_minutes))[:24]), 422 if error else 200
