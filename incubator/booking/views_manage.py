"""The lab managers' pages: the day's bookings and approvals, certifications and trainings, a
resource's rules, closures and sharing, new labs and resources, partner usage and utilisation.

They live on the booking blueprint (endpoints ``booking.*``); the rules are in ``booking.setup``
and ``booking.services``.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from incubator.accounts.forms import CSRFOnlyForm
from incubator.booking import services, setup, sharing, usage
from incubator.booking.forms import (
    ApprovalForm,
    CertificationForm,
    ClosureForm,
    LabForm,
    NewResourceForm,
    RulesForm,
    ShareForm,
    TrainingForm,
)
from incubator.booking.inputs import HORIZON, row_id
from incubator.booking.models import (
    Booking,
    BookingStatus,
    Certification,
    Closure,
    Lab,
    Resource,
    ResourceShare,
    Training,
)
from incubator.booking.views import bp, zone
from incubator.cohorts.models import Cohort, ResourceKind, Startup
from incubator.core import formatting
from incubator.core.actions import attempt
from incubator.core.db import utcnow
from incubator.core.errors import DomainError
from incubator.core.feeds import FeedKind, issue_feed_token
from incubator.core.pagination import paginate
from incubator.core.permissions import Permission, require
from incubator.core.tenancy import get_or_404, org_today
from incubator.core.timezones import add_months, parse_month
from incubator.core.versioning import check_version
from incubator.extensions import db
from incubator.orgs.models import Membership, Organisation


def _month() -> Any:
    """The month asked for in the query string; this month for anything malformed or years away."""
    today = org_today()
    month = parse_month(request.args.get("month"), today)
    return month if abs(month - today) <= HORIZON else today.replace(day=1)


def _flash_error(error: DomainError) -> None:
    flash(error.message if not error.fields else "; ".join(error.fields.values()), "danger")


@bp.route("/lab-bookings")
@require(Permission.MANAGE_RESOURCES)
def manage() -> Any:
    """The manager's day across all labs, and the bookings waiting for approval."""
    from incubator.booking.views import parse_day

    day = parse_day(request.args.get("day"))
    start = datetime.combine(day, time(0), zone())
    end = start + timedelta(days=1)
    stmt = select(Booking).join(Booking.resource).where(
        Booking.org_id == g.org.id, Booking.starts_at < end, Booking.ends_at > start)
    status = request.args.get("status") or ""
    if status in set(BookingStatus):
        stmt = stmt.where(Booking.status == status)
    resource_id = row_id(request.args.get("resource_id"))
    if resource_id:
        stmt = stmt.where(Booking.resource_id == resource_id)
    page = paginate(db.session, stmt.order_by(Resource.name, Booking.starts_at, Booking.id), per_page=50)
    resources = db.session.execute(select(Resource.id, Resource.name).where(Resource.org_id == g.org.id)
                                   .order_by(Resource.name)).all()
    pending = db.session.execute(select(Booking).where(Booking.org_id == g.org.id,
                                                       Booking.status == BookingStatus.PENDING_APPROVAL)
                                 .order_by(Booking.starts_at)).scalars().all()
    filters = {"day": day.isoformat(), "status": status if status in set(BookingStatus) else "",
               "resource_id": resource_id or ""}
    return render_template("booking/manage.html", day=day, rows=page.items, page=page, pending=pending,
                           resources=resources, statuses=list(BookingStatus), filters=filters,
                           prev_day=day - timedelta(days=1), next_day=day + timedelta(days=1),
                           button_form=CSRFOnlyForm(formdata=None))


@bp.route("/bookings/<int:booking_id>/approval", methods=["POST"])
@require(Permission.MANAGE_RESOURCES)
def approval(booking_id: int) -> Any:
    booking = get_or_404(Booking, booking_id)
    form = ApprovalForm()
    if form.validate_on_submit():
        with attempt(flash_error=True):
            services.decide_approval(booking, form.decision.data == "approve")
    elif form.decision.errors:
        flash(form.decision.errors[0], "danger")
    return redirect(url_for("booking.manage"))


@bp.route("/certifications", methods=["GET", "POST"])
@require(Permission.MANAGE_RESOURCES)
def certifications() -> Any:
    """Trainers record who is certified for what, and until when."""
    form = CertificationForm()
    status = 200
    if request.method == "POST" and form.validate_on_submit():
        with attempt() as outcome:  # an id in the form naming nothing here: 422 with the error, as in the API
            training, member = setup.certification_parties(db.session, g.org, form.training_id.data,
                                                           form.user_id.data)
            record = setup.certify(db.session, training, member, current_user, org_today())
        if (error := outcome.error) is None:
            flash(_("%(name)s is certified for %(training)s until %(day)s.", name=member.user.name,
                    training=training.name, day=formatting.date_(record.expires_on)), "success")
            return redirect(url_for("booking.certifications"))
        _flash_error(error)
        status = 422
    page = paginate(db.session, select(Certification).where(Certification.org_id == g.org.id)
                    .order_by(Certification.expires_on.desc(), Certification.id), per_page=50)
    return render_template(
        "booking/certifications.html", today=org_today(), button_form=CSRFOnlyForm(formdata=None),
        trainings=db.session.execute(select(Training).where(Training.org_id == g.org.id)
                                     .order_by(Training.name)).scalars().all(),
        rows=page.items, page=page,
        members=db.session.execute(select(Membership).where(Membership.org_id == g.org.id)).scalars().all()), status


@bp.route("/trainings", methods=["POST"])
@require(Permission.MANAGE_RESOURCES)
def new_training() -> Any:
    form = TrainingForm()
    if form.validate_on_submit():
        with attempt(flash_error=True) as outcome:
            setup.create_training(db.session, g.org, form.name.data, form.validity_months.data)
        if outcome.ok:
            flash(_("The training is created."), "success")
    return redirect(url_for("booking.certifications"))


@bp.route("/labs/new", methods=["POST"])
@require(Permission.MANAGE_RESOURCES)
def new_lab() -> Any:
    form = LabForm()
    if form.validate_on_submit():
        with attempt(flash_error=True) as outcome:
            setup.create_lab(db.session, g.org, form.name.data, form.site.data)
        if outcome.ok:
            flash(_("The lab is created."), "success")
    return redirect(url_for("booking.labs"))


@bp.route("/labs/<int:lab_id>/resources", methods=["POST"])
@require(Permission.MANAGE_RESOURCES)
def new_resource(lab_id: int) -> Any:
    lab = get_or_404(Lab, lab_id)
    form = NewResourceForm()
    if not form.validate_on_submit():
        return redirect(url_for("booking.labs"))
    with attempt() as outcome:
        resource = setup.create_resource(db.session, lab, form.name.data, form.kind.data)
    if (error := outcome.error) is not None:
        flash(error.message, "danger")
        return redirect(url_for("booking.labs"))
    flash(_("The resource is created: set its rules and make it bookable."), "success")
    return redirect(url_for("booking.settings", resource_id=resource.id))


@bp.route("/resources/<int:resource_id>/settings", methods=["GET", "POST"])
@require(Permission.MANAGE_RESOURCES)
def settings(resource_id: int) -> Any:
    """The rules of a resource: durations, notice, quota, approval, training, prices, opening hours."""
    resource = get_or_404(Resource, resource_id)
    errors: dict[str, str] = {}
    form = RulesForm()
    if form.validate_on_submit():
        with attempt() as outcome:
            if form.version.data:  # the page's form carries the version it was rendered from
                check_version(resource, form.version.data)
            setup.save_rules(db.session, resource, form.changes(), form.photo.data)
        if (error := outcome.error) is not None:
            errors = error.fields
        else:
            flash(_("The resource's rules are saved."), "success")
            return redirect(url_for("booking.settings", resource_id=resource.id))
    elif form.is_submitted() and not form.csrf_token.errors:
        errors = form.field_errors
    return render_template(
        "booking/settings.html", resource=resource, errors=errors, kinds=list(ResourceKind),
        photo_max_mb=setup.photo_max_mb(),
        form=CSRFOnlyForm(formdata=None), feed_url=request.args.get("feed"),
        by_day={h.weekday: h for h in resource.hours},
        trainings=db.session.execute(select(Training).where(Training.org_id == g.org.id)).scalars().all(),
        shares=db.session.execute(select(ResourceShare).where(ResourceShare.resource_id == resource.id))
        .scalars().all(),
        names={o.id: o.name for o in db.session.execute(select(Organisation).order_by(Organisation.name)).scalars()},
        closed=db.session.execute(select(Closure).where(Closure.resource_id == resource.id,
                                                        Closure.ends_at > utcnow()).order_by(Closure.starts_at))
        .scalars().all()), 422 if errors else 200


@bp.route("/resources/<int:resource_id>/photo/remove", methods=["POST"])
@require(Permission.MANAGE_RESOURCES)
def remove_photo(resource_id: int) -> Any:
    """The rules page's button that removes the resource's photo."""
    resource = get_or_404(Resource, resource_id)
    if not CSRFOnlyForm().validate_on_submit():
        abort(400)
    setup.remove_photo(db.session, resource)
    flash(_("The photo is removed."), "success")
    return redirect(url_for("booking.settings", resource_id=resource.id))


@bp.route("/resources/<int:resource_id>/closures", methods=["POST"])
@require(Permission.MANAGE_RESOURCES)
def closures(resource_id: int) -> Any:
    """Add a closure or maintenance period (local times), or remove one."""
    resource = get_or_404(Resource, resource_id)
    form = ClosureForm()
    if form.validate_on_submit():
        if form.remove.raw_data and form.remove.raw_data[0]:
            closure = get_or_404(Closure, form.remove.data)
            setup.remove_closure(db.session, resource, closure)
        else:
            with attempt(flash_error=True) as outcome:
                setup.add_closure(db.session, g.org, resource, form.starts.data or "", form.ends.data or "",
                                  form.reason.data, form.maintenance.data)
            if outcome.ok:
                flash(_("Closed for that time: nobody can book it."), "success")
    return redirect(url_for("booking.settings", resource_id=resource.id))


@bp.route("/resources/<int:resource_id>/shares", methods=["POST"])
@require(Permission.MANAGE_RESOURCES)
def share(resource_id: int) -> Any:
    """Share a resource with a partner organisation (or stop sharing it)."""
    resource = get_or_404(Resource, resource_id)
    form = ShareForm()
    if form.validate_on_submit():
        partner = db.session.get(Organisation, form.partner_org_id.data)
        if partner is None:
            abort(404)
        stop = form.action.data == "stop"
        with attempt() as outcome:
            setup.set_share(db.session, resource, partner, share=not stop, needs_approval=form.needs_approval.data)
        if (error := outcome.error) is not None:
            _flash_error(error)
        else:
            flash(_("%(org)s can no longer book it.", org=partner.name) if stop else
                  _("Shared with %(org)s at the partner rate.", org=partner.name), "success")
    return redirect(url_for("booking.settings", resource_id=resource.id))


@bp.route("/resources/<int:resource_id>/feed", methods=["POST"])
@require(Permission.MANAGE_RESOURCES)
def new_resource_feed(resource_id: int) -> Any:
    resource = get_or_404(Resource, resource_id)
    if not CSRFOnlyForm().validate_on_submit():
        abort(400)
    token = issue_feed_token(db.session, org_id=resource.org_id, kind=FeedKind.RESOURCE, owner_id=resource.id)
    flash(_("A new calendar address is made; the old one no longer works."), "success")
    return redirect(url_for("booking.settings", resource_id=resource.id,
                            feed=url_for("booking_feeds.resource_feed", token=token, _external=True)))


@bp.route("/resources/<int:resource_id>/qr")
@require(Permission.MANAGE_RESOURCES)
def qr(resource_id: int) -> Any:
    """A printable QR code for the machine, leading to its check-in page."""
    import segno

    resource = get_or_404(Resource, resource_id)
    target = url_for("booking.check_in", resource_id=resource.id, _external=True)
    image = segno.make(target, error="m").svg_data_uri(scale=8)
    return render_template("booking/qr.html", resource=resource, image=image, target=target)


@bp.route("/partner-usage")
@require(Permission.MANAGE_RESOURCES)
def partner_usage() -> Any:
    """The monthly usage statement per partner organisation."""
    month = _month()
    lines = sharing.partner_statement(db.session, g.org, month)
    names = {o.id: o.name for o in db.session.execute(select(Organisation)).scalars()}
    return render_template("booking/partner_usage.html", lines=lines, names=names, month=month)


@bp.route("/utilisation")
@require(Permission.MANAGE_RESOURCES)
def utilisation() -> Any:
    """Hours booked and used per resource and startup, month by month (the figures reports build on)."""
    month = _month()
    lines = usage.utilisation(db.session, g.org, month, add_months(month, 1))
    names = {
        "resource": dict(db.session.execute(select(Resource.id, Resource.name)
                                            .where(Resource.org_id == g.org.id)).all()),
        "startup": dict(db.session.execute(select(Startup.id, Startup.name)
                                           .where(Startup.org_id == g.org.id)).all()),
        "cohort": dict(db.session.execute(select(Cohort.id, Cohort.name).where(Cohort.org_id == g.org.id)).all()),
    }
    by_resource: dict[int, list[int]] = {}
    for line in lines:
        totals = by_resource.setdefault(line.resource_id, [0, 0])
        totals[0] += line.booked_minutes
        totals[1] += line.used_minutes
    return render_template("booking/utilisation.html", month=month, lines=lines, names=names,
                           by_resource=by_resource)
