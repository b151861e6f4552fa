"""Lab pages: the labs and their resources, week and day grids, booking, my bookings, approvals,
certifications, resource settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select

from incubator.accounts.forms import CSRFOnlyForm
from incubator.booking import services, tasks  # noqa: F401  (tasks: the worker's schedule)
from incubator.booking.models import (
    ACTIVE_STATUSES,
    Booking,
    BookingStatus,
    Certification,
    Lab,
    OpeningHours,
    Resource,
    Training,
)
from incubator.cohorts.models import ResourceKind
from incubator.cohorts.views import org_today
from incubator.core.db import utcnow
from incubator.core.errors import DomainError
from incubator.core.permissions import Permission, can, require
from incubator.core.tenancy import all_orgs, get_or_404, org_blueprint
from incubator.extensions import db
from incubator.orgs.models import Membership

bp = org_blueprint("booking", __name__)


def is_manager() -> bool:
    return can(Permission.MANAGE_RESOURCES)


def zone() -> ZoneInfo:
    return ZoneInfo(g.org.timezone)


def parse_day(value: str | None) -> date:
    try:
        return date.fromisoformat(value) if value else org_today()
    except ValueError:
        return org_today()


@dataclass
class Cell:
    starts_at: datetime
    state: str  # free | busy | closed | past
    booking: Booking | None = None


def grid(resources: list[Resource], days: list[date], step: int) -> dict[tuple[int, date], list[Cell]]:
    """Cells of ``step`` minutes from 07:00 to 21:00 (or the whole day for round-the-clock resources)."""
    tz = zone()
    start = datetime.combine(days[0], time(0), tz)
    end = datetime.combine(days[-1] + timedelta(days=1), time(0), tz)
    free = services.free_intervals(db.session, g.org, resources, start, end)
    bookings = db.session.execute(select(Booking).where(
        Booking.resource_id.in_([r.id for r in resources]), Booking.status.in_(ACTIVE_STATUSES),
        Booking.starts_at < end, Booking.ends_at > start)).scalars().all()
    now = utcnow()
    cells: dict[tuple[int, date], list[Cell]] = {}
    for resource in resources:
        first, last = (time(0), time(23, 59)) if resource.open_24h else (time(7), time(21))
        for day in days:
            row = []
            moment = datetime.combine(day, first, tz)
            stop = datetime.combine(day, last, tz)
            while moment < stop:
                slot_end = moment + timedelta(minutes=step)
                taken = next((b for b in bookings if b.resource_id == resource.id and b.starts_at < slot_end
                              and b.ends_at > moment), None)
                is_free = any(s <= moment and slot_end <= e for s, e in free[resource.id])
                state = "busy" if taken else "past" if moment < now else "free" if is_free else "closed"
                row.append(Cell(moment, state, taken))
                moment = slot_end
            cells[(resource.id, day)] = row
    return cells


@bp.route("/labs")
@require(Permission.VIEW_DASHBOARD)
def labs() -> Any:
    found = db.session.execute(select(Lab).where(Lab.org_id == g.org.id).order_by(Lab.name)).scalars().all()
    trained = set(db.session.execute(select(Certification.training_id).where(
        Certification.user_id == current_user.id, Certification.expires_on >= org_today())).scalars())
    return render_template("booking/labs.html", labs=found, trained=trained, kinds=list(ResourceKind),
                           button_form=CSRFOnlyForm(formdata=None))


@bp.route("/labs/<int:lab_id>")
@require(Permission.VIEW_DASHBOARD)
def lab_day(lab_id: int) -> Any:
    """The resources of a lab side by side for one day."""
    lab = get_or_404(Lab, lab_id)
    day = parse_day(request.args.get("day"))
    resources = [r for r in lab.resources if r.active]
    cells = grid(resources, [day], 30) if resources else {}
    return render_template("booking/lab_day.html", lab=lab, day=day, resources=resources, cells=cells,
                           prev_day=day - timedelta(days=1), next_day=day + timedelta(days=1))


@bp.route("/resources/<int:resource_id>")
@require(Permission.VIEW_DASHBOARD)
def resource_week(resource_id: int) -> Any:
    """A week of one resource; free cells link to the booking form."""
    resource = get_or_404(Resource, resource_id)
    monday = parse_day(request.args.get("week"))
    monday -= timedelta(days=monday.weekday())
    days = [monday + timedelta(days=i) for i in range(7)]
    step = max(30, resource.slot_minutes) if not resource.open_24h else 60
    return render_template("booking/resource_week.html", resource=resource, days=days,
                           cells=grid([resource], days, step), step=step,
                           prev_week=monday - timedelta(days=7), next_week=monday + timedelta(days=7))


@bp.route("/resources/<int:resource_id>/book", methods=["GET", "POST"])
@require(Permission.BOOK_RESOURCES)
def book(resource_id: int) -> Any:
    resource = get_or_404(Resource, resource_id)
    tz = zone()
    try:
        starts_local = datetime.fromisoformat(request.values.get("start", "").replace(" ", "+"))  # "+" unescaped
    except ValueError:
        flash(_("Choose a free slot in the calendar."), "danger")
        return redirect(url_for("booking.resource_week", resource_id=resource.id))
    starts_at = (starts_local if starts_local.tzinfo else starts_local.replace(tzinfo=tz)).astimezone(UTC)
    choices = list(range(resource.min_minutes, resource.max_minutes + 1, resource.slot_minutes))[:24]
    startup, cohort = services.active_startup(db.session, g.org, current_user)
    balance = services.credit_balance(db.session, startup, cohort, resource.kind) if startup and cohort else 0
    form = CSRFOnlyForm()
    error = None
    if request.method == "POST" and form.validate_on_submit():
        minutes = int(request.form.get("minutes") or resource.min_minutes)
        weeks = int(request.form.get("weeks") or 1) if (request.form.get("weeks") or "1").isdigit() else 0
        try:
            made, skipped = services.create_weekly(
                db.session, g.org, resource, current_user, starts_at, starts_at + timedelta(minutes=minutes), weeks,
                skip_conflicts=bool(request.form.get("skip_conflicts")), is_staff=is_manager(),
                note=request.form.get("note", "")[:500])
            if not made:
                raise skipped[0][1]
        except DomainError as exc:
            db.session.rollback()
            error = exc
        else:
            booking = made[0]
            for start, reason in skipped:
                flash(_("Skipped %(day)s: %(reason)s", day=start.astimezone(tz).strftime("%Y-%m-%d"),
                        reason=reason.message), "warning")
            messages = {
                BookingStatus.CONFIRMED: _("Booked and confirmed."),
                BookingStatus.AWAITING_PAYMENT: _("Booked: the slot is held for you while it awaits payment."),
                BookingStatus.PENDING_APPROVAL: _("Booked: a manager will approve it."),
            }
            flash(messages.get(booking.status, _("Booked.")), "success")
            return redirect(url_for("booking.mine"))
    return render_template("booking/book.html", resource=resource, starts_at=starts_at, choices=choices,
                           balance=balance, cohort=cohort, form=form, error=error), 422 if error else 200


@bp.route("/bookings")
@require(Permission.VIEW_DASHBOARD)
def mine() -> Any:
    rows = db.session.execute(select(Booking).where(  # shared labs' bookings belong to their owners
        Booking.user_id == current_user.id, or_(Booking.org_id == g.org.id, Booking.partner_org_id == g.org.id))
        .execution_options(all_orgs=True).order_by(Booking.starts_at.desc()).limit(200)).scalars().all()
    with all_orgs(db.session):
        for row in rows:
            _ = row.resource.name
    startup, cohort = services.active_startup(db.session, g.org, current_user)
    balances = {}
    if startup and cohort:
        balances = {credit.resource_kind: (credit.hours * 60,
                                           services.credit_balance(db.session, startup, cohort, credit.resource_kind))
                    for credit in cohort.lab_credits}
    return render_template("booking/mine.html", bookings=rows, balances=balances, now=utcnow(),
                           button_form=CSRFOnlyForm(formdata=None), feed_url=request.args.get("feed"))


@bp.route("/bookings/<int:booking_id>/cancel", methods=["POST"])
@require(Permission.VIEW_DASHBOARD)
def cancel(booking_id: int) -> Any:
    if not 0 < booking_id < 2**31:
        abort(404)
    booking = db.session.execute(select(Booking).where(Booking.id == booking_id, or_(
        Booking.org_id == g.org.id, Booking.partner_org_id == g.org.id)).execution_options(all_orgs=True)
    ).scalar_one_or_none()
    manager = booking is not None and booking.org_id == g.org.id and is_manager()
    if booking is None or not (manager or booking.user_id == current_user.id):
        abort(404)
    if CSRFOnlyForm().validate_on_submit():
        try:
            with all_orgs(db.session):  # a shared lab's booking belongs to its owner
                returned = services.cancel_booking(db.session, booking, current_user, manager)
        except DomainError as error:
            flash(error.message, "danger")
        else:
            flash(_("Cancelled; the credits are back.") if returned and booking.credit_minutes else
                  _("Cancelled.") if returned else _("Cancelled late: the credits are forfeited."), "success")
            if booking.org_id == g.org.id:
                tasks.offer_waiting(db.session, booking.resource, url_for("booking.mine", _external=True))
    return redirect(request.referrer or url_for("booking.mine"))


@bp.route("/lab-bookings")
@require(Permission.MANAGE_RESOURCES)
def manage() -> Any:
    """The manager's day across all labs, and the bookings waiting for approval."""
    day = parse_day(request.args.get("day"))
    tz = zone()
    start, end = datetime.combine(day, time(0), tz), datetime.combine(day + timedelta(days=1), time(0), tz)
    rows = db.session.execute(select(Booking).join(Booking.resource).where(
        Booking.org_id == g.org.id, Booking.starts_at < end, Booking.ends_at > start)
        .order_by(Resource.name, Booking.starts_at)).scalars().all()
    pending = db.session.execute(select(Booking).where(Booking.org_id == g.org.id,
                                                       Booking.status == BookingStatus.PENDING_APPROVAL)
                                 .order_by(Booking.starts_at)).scalars().all()
    return render_template("booking/manage.html", day=day, rows=rows, pending=pending,
                           prev_day=day - timedelta(days=1), next_day=day + timedelta(days=1),
                           button_form=CSRFOnlyForm(formdata=None))


@bp.route("/bookings/<int:booking_id>/approval", methods=["POST"])
@require(Permission.MANAGE_RESOURCES)
def approval(booking_id: int) -> Any:
    booking = get_or_404(Booking, booking_id)
    if CSRFOnlyForm().validate_on_submit():
        try:
            services.decide_approval(booking, request.form.get("decision") == "approve")
        except DomainError as error:
            flash(error.message, "danger")
    return redirect(url_for("booking.manage"))


@bp.route("/certifications", methods=["GET", "POST"])
@require(Permission.MANAGE_RESOURCES)
def certifications() -> Any:
    """Trainers record who is certified for what, and until when."""
    trainings = db.session.execute(select(Training).where(Training.org_id == g.org.id)
                                   .order_by(Training.name)).scalars().all()
    if request.method == "POST" and CSRFOnlyForm().validate_on_submit():
        training = get_or_404(Training, int(request.form.get("training_id") or 0))
        member = db.session.execute(select(Membership).where(
            Membership.org_id == g.org.id, Membership.user_id == int(request.form.get("user_id") or 0))
        ).scalar_one_or_none()
        if member is None:
            abort(404)
        today = org_today()
        months = training.validity_months
        expires = date(today.year + (today.month - 1 + months) // 12, (today.month - 1 + months) % 12 + 1,
                       min(today.day, 28))
        db.session.add(Certification(org_id=g.org.id, training_id=training.id, user_id=member.user_id,
                                     certified_on=today, expires_on=expires, certified_by_id=current_user.id))
        flash(_("%(name)s is certified for %(training)s until %(day)s.", name=member.user.name,
                training=training.name, day=expires.isoformat()), "success")
        return redirect(url_for("booking.certifications"))
    rows = db.session.execute(select(Certification).where(Certification.org_id == g.org.id)
                              .order_by(Certification.expires_on.desc())).scalars().all()
    members = db.session.execute(select(Membership).where(Membership.org_id == g.org.id)).scalars().all()
    return render_template("booking/certifications.html", trainings=trainings, rows=rows, members=members,
                           today=org_today(), button_form=CSRFOnlyForm(formdata=None))


@bp.route("/resources/<int:resource_id>/settings", methods=["GET", "POST"])
@require(Permission.MANAGE_RESOURCES)
def settings(resource_id: int) -> Any:
    """The rules of a resource: durations, notice, quota, approval, training, prices, opening hours."""
    resource = get_or_404(Resource, resource_id)
    errors: dict[str, str] = {}
    if request.method == "POST" and CSRFOnlyForm().validate_on_submit():
        numbers = ("slot_minutes", "min_minutes", "max_minutes", "buffer_minutes", "max_days_ahead",
                   "min_notice_minutes", "free_cancellation_hours", "no_show_minutes", "price_member", "price_partner",
                   "price_external")
        values: dict[str, Any] = {}
        for name in numbers:
            try:
                values[name] = int(request.form.get(name, ""))
                if values[name] < 0:
                    raise ValueError
            except ValueError:
                errors[name] = _("Enter a whole number, 0 or more.")
        if not errors and (values["slot_minutes"] == 0 or values["min_minutes"] == 0
                           or values["max_minutes"] < values["min_minutes"]
                           or values["max_minutes"] > services.MAX_BOOKING.total_seconds() // 60):
            errors["max_minutes"] = _("The longest booking must be at least the shortest, and at most 7 days.")
        if not errors and values["buffer_minutes"] > 24 * 60:
            errors["buffer_minutes"] = _("At most a day.")
        hours = []
        for weekday in range(7):
            opens, closes = request.form.get(f"opens_{weekday}"), request.form.get(f"closes_{weekday}")
            if opens and closes:
                try:
                    o, c = time.fromisoformat(opens), time.fromisoformat(closes)
                except ValueError:
                    errors[f"hours_{weekday}"] = _("Use HH:MM.")
                    continue
                if c <= o:
                    errors[f"hours_{weekday}"] = _("Closing comes after opening.")
                hours.append(OpeningHours(org_id=g.org.id, weekday=weekday, opens=o, closes=c))
        photo = request.files.get("photo")
        if photo and photo.filename:
            from incubator.core.storage import image_suffix, storage

            suffix = image_suffix(photo.stream.read(8))
            photo.stream.seek(0)
            if suffix is None:
                errors["photo"] = _("Upload a PNG or JPEG image.")
            elif not errors:
                resource.photo_key = storage().save(photo.stream, suffix)
        name = request.form.get("name", "").strip()
        if not name:
            errors["name"] = _("This field is required.")
        if request.form.get("kind") not in set(ResourceKind):
            errors["kind"] = _("Not a valid choice.")
        if not errors:
            resource.name, resource.kind = name[:255], ResourceKind(request.form["kind"])
            resource.description = request.form.get("description", "")[:5000]
            for name, value in values.items():
                setattr(resource, name, value)
            quota = request.form.get("max_hours_per_week", "").strip()
            resource.max_hours_per_week = int(quota) if quota.isdigit() and int(quota) > 0 else None
            resource.needs_approval = bool(request.form.get("needs_approval"))
            resource.open_24h = bool(request.form.get("open_24h"))
            resource.active = bool(request.form.get("active"))
            training = request.form.get("training_id", "")
            resource.training_id = get_or_404(Training, int(training)).id if training.isdigit() else None
            resource.hours = hours
            flash(_("The resource's rules are saved."), "success")
            return redirect(url_for("booking.settings", resource_id=resource.id))
    from incubator.booking.models import ResourceShare
    from incubator.orgs.models import Organisation

    trainings = db.session.execute(select(Training).where(Training.org_id == g.org.id)).scalars().all()
    by_day = {h.weekday: h for h in resource.hours}
    shares = db.session.execute(select(ResourceShare).where(ResourceShare.resource_id == resource.id)).scalars().all()
    from incubator.booking.models import Closure

    closed = db.session.execute(select(Closure).where(Closure.resource_id == resource.id, Closure.ends_at > utcnow())
                                .order_by(Closure.starts_at)).scalars().all()
    names = {o.id: o.name for o in db.session.execute(select(Organisation).order_by(Organisation.name)).scalars()}
    return render_template("booking/settings.html", resource=resource, errors=errors, trainings=trainings,
                           by_day=by_day, kinds=list(ResourceKind), form=CSRFOnlyForm(formdata=None), shares=shares,
                           closed=closed,
                           names=names,
                           feed_url=request.args.get("feed")), \
        422 if errors else 200


@bp.app_template_filter("booking_status_label")
def booking_status_label(status: str) -> str:
    labels = {"pending_approval": _("waiting for approval"), "awaiting_payment": _("awaiting payment"),
              "confirmed": _("confirmed"), "cancelled": _("cancelled"), "completed": _("completed"),
              "held": _("held for you"),
              "no_show": _("no-show"), "expired": _("expired")}
    return labels.get(status, status)


@bp.route("/labs/new", methods=["POST"])
@require(Permission.MANAGE_RESOURCES)
def new_lab() -> Any:
    if CSRFOnlyForm().validate_on_submit():
        name = request.form.get("name", "").strip()
        if not name:
            flash(_("Give the lab a name."), "danger")
        else:
            db.session.add(Lab(org_id=g.org.id, name=name[:255], site=request.form.get("site", "")[:255]))
            flash(_("The lab is created."), "success")
    return redirect(url_for("booking.labs"))


@bp.route("/labs/<int:lab_id>/resources", methods=["POST"])
@require(Permission.MANAGE_RESOURCES)
def new_resource(lab_id: int) -> Any:
    """A new resource with careful defaults (weekdays 8:00-17:00, inactive until its rules are set)."""
    lab = get_or_404(Lab, lab_id)
    if not CSRFOnlyForm().validate_on_submit():
        return redirect(url_for("booking.labs"))
    name, kind = request.form.get("name", "").strip(), request.form.get("kind", "")
    if not name or kind not in set(ResourceKind):
        flash(_("Give the resource a name and a kind."), "danger")
        return redirect(url_for("booking.labs"))
    resource = Resource(org_id=g.org.id, lab=lab, name=name[:255], kind=ResourceKind(kind), active=False)
    resource.hours = [OpeningHours(org_id=g.org.id, weekday=d, opens=time(8), closes=time(17)) for d in range(5)]
    db.session.add(resource)
    db.session.flush()
    flash(_("The resource is created: set its rules and make it bookable."), "success")
    return redirect(url_for("booking.settings", resource_id=resource.id))


@bp.route("/bookings/feed", methods=["POST"])
@require(Permission.VIEW_DASHBOARD)
def new_feed() -> Any:
    """A new secret address for the person's booking calendar; the previous one stops working."""
    from incubator.booking.models import FeedToken

    if not CSRFOnlyForm().validate_on_submit():
        abort(400)
    token = services.new_feed_token()
    record = db.session.execute(select(FeedToken).where(FeedToken.org_id == g.org.id,
                                                        FeedToken.user_id == current_user.id)).scalar_one_or_none()
    if record is None:
        record = FeedToken(org_id=g.org.id, user_id=current_user.id, token_hash="")
        db.session.add(record)
    record.token_hash = FeedToken.hash(token)
    flash(_("A new calendar address is made; the old one no longer works."), "success")
    return redirect(url_for("booking.mine", feed=url_for("booking_feeds.person_feed", token=token, _external=True)))


@bp.route("/resources/<int:resource_id>/feed", methods=["POST"])
@require(Permission.MANAGE_RESOURCES)
def new_resource_feed(resource_id: int) -> Any:
    from incubator.booking.models import FeedToken

    resource = get_or_404(Resource, resource_id)
    if not CSRFOnlyForm().validate_on_submit():
        abort(400)
    token = services.new_feed_token()
    resource.feed_token_hash = FeedToken.hash(token)
    flash(_("A new calendar address is made; the old one no longer works."), "success")
    return redirect(url_for("booking.settings", resource_id=resource.id,
                            feed=url_for("booking_feeds.resource_feed", token=token, _external=True)))


@bp.route("/resources/<int:resource_id>/check-in", methods=["GET", "POST"])
@require(Permission.VIEW_DASHBOARD)
def check_in(resource_id: int) -> Any:
    """Where the QR code at the machine leads: check in to your booking that is on now."""
    resource = get_or_404(Resource, resource_id)
    now = utcnow()
    booking = db.session.execute(select(Booking).where(
        Booking.resource_id == resource.id, Booking.user_id == current_user.id,
        Booking.status == BookingStatus.CONFIRMED, Booking.starts_at <= now + services.CHECK_IN_EARLY,
        Booking.ends_at > now)).scalars().first()
    if request.method == "POST" and CSRFOnlyForm().validate_on_submit():
        if booking is None:
            flash(_("You have no booking of this resource right now."), "danger")
        else:
            try:
                services.check_in(booking, current_user, is_manager(), now)
            except DomainError as error:
                flash(error.message, "danger")
            else:
                flash(_("Checked in. Enjoy the machine!"), "success")
        return redirect(url_for("booking.check_in", resource_id=resource.id))
    return render_template("booking/check_in.html", resource=resource, booking=booking,
                           button_form=CSRFOnlyForm(formdata=None))


@bp.route("/resources/<int:resource_id>/qr")
@require(Permission.MANAGE_RESOURCES)
def qr(resource_id: int) -> Any:
    """A printable QR code for the machine, leading to its check-in page."""
    import segno

    resource = get_or_404(Resource, resource_id)
    target = url_for("booking.check_in", resource_id=resource.id, _external=True)
    image = segno.make(target, error="m").svg_data_uri(scale=8)
    return render_template("booking/qr.html", resource=resource, image=image, target=target)


@bp.route("/resources/<int:resource_id>/waitlist", methods=["POST"])
@require(Permission.BOOK_RESOURCES)
def join_waitlist(resource_id: int) -> Any:
    resource = get_or_404(Resource, resource_id)
    if CSRFOnlyForm().validate_on_submit():
        try:
            start = datetime.fromisoformat(request.form.get("start", "").replace(" ", "+"))
            start = (start if start.tzinfo else start.replace(tzinfo=zone())).astimezone(UTC)
            minutes = int(request.form.get("minutes") or resource.min_minutes)
            services.join_waitlist(db.session, g.org, resource, current_user, start, start + timedelta(minutes=minutes))
        except (ValueError, DomainError):
            flash(_("Choose a time in the future."), "danger")
        else:
            flash(_("You are on the waitlist: if the time frees up, it is held for you and you get an email."),
                  "success")
    return redirect(url_for("booking.mine"))


@bp.route("/bookings/<int:booking_id>/take", methods=["POST"])
@require(Permission.BOOK_RESOURCES)
def take(booking_id: int) -> Any:
    booking = get_or_404(Booking, booking_id)
    if booking.user_id != current_user.id:
        abort(404)
    if CSRFOnlyForm().validate_on_submit():
        try:
            services.take_held(booking, current_user)
        except DomainError as error:
            flash(error.message, "danger")
        else:
            flash(_("It is yours."), "success")
    return redirect(url_for("booking.mine"))


@bp.route("/resources/<int:resource_id>/shares", methods=["POST"])
@require(Permission.MANAGE_RESOURCES)
def share(resource_id: int) -> Any:
    """Share a resource with a partner organisation (or stop sharing it)."""
    from incubator.booking.models import ResourceShare
    from incubator.orgs.models import Organisation

    resource = get_or_404(Resource, resource_id)
    if CSRFOnlyForm().validate_on_submit():
        partner = db.session.get(Organisation, int(request.form.get("partner_org_id") or 0))
        if partner is None or partner.id == g.org.id:
            abort(404)
        existing = db.session.execute(select(ResourceShare).where(
            ResourceShare.resource_id == resource.id, ResourceShare.partner_org_id == partner.id)).scalar_one_or_none()
        if request.form.get("action") == "stop":
            if existing is not None:
                db.session.delete(existing)
            flash(_("%(org)s can no longer book it.", org=partner.name), "success")
        else:
            existing = existing or ResourceShare(org_id=g.org.id, resource_id=resource.id, partner_org_id=partner.id)
            existing.needs_approval = bool(request.form.get("needs_approval"))
            db.session.add(existing)
            flash(_("Shared with %(org)s at the partner rate.", org=partner.name), "success")
    return redirect(url_for("booking.settings", resource_id=resource.id))


@bp.route("/partner-usage")
@require(Permission.MANAGE_RESOURCES)
def partner_usage() -> Any:
    """The monthly usage statement per partner organisation."""
    from incubator.orgs.models import Organisation

    try:
        month = date.fromisoformat((request.args.get("month") or org_today().strftime("%Y-%m")) + "-01")
    except ValueError:
        month = org_today().replace(day=1)
    lines = services.partner_statement(db.session, g.org, month)
    names = {o.id: o.name for o in db.session.execute(select(Organisation)).scalars()}
    return render_template("booking/partner_usage.html", lines=lines, names=names, month=month)


@bp.route("/utilisation")
@require(Permission.MANAGE_RESOURCES)
def utilisation() -> Any:
    """Hours booked and used per resource and startup, month by month (the figures reports build on)."""
    from incubator.cohorts.models import Cohort, Startup

    try:
        month = date.fromisoformat((request.args.get("month") or org_today().strftime("%Y-%m")) + "-01")
    except ValueError:
        month = org_today().replace(day=1)
    end = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    lines = services.utilisation(db.session, g.org, month, end)
    names = {
        "resource": {r.id: r.name for r in db.session.execute(select(Resource).where(
            Resource.org_id == g.org.id)).scalars()},
        "startup": {s.id: s.name for s in db.session.execute(select(Startup).where(
            Startup.org_id == g.org.id)).scalars()},
        "cohort": {c.id: c.name for c in db.session.execute(select(Cohort).where(
            Cohort.org_id == g.org.id)).scalars()},
    }
    by_resource: dict[int, list[int]] = {}
    for line in lines:
        totals = by_resource.setdefault(line.resource_id, [0, 0])
        totals[0] += line.booked_minutes
        totals[1] += line.used_minutes
    return render_template("booking/utilisation.html", month=month, lines=lines, names=names,
                           by_resource=by_resource)


@bp.route("/resources/<int:resource_id>/photo")
@require(Permission.VIEW_DASHBOARD)
def photo(resource_id: int) -> Any:
    from flask import send_file

    from incubator.core.storage import image_mimetype, storage

    resource = get_or_404(Resource, resource_id)
    if not resource.photo_key:
        abort(404)
    try:
        path = storage().path(resource.photo_key)
    except (FileNotFoundError, ValueError):
        abort(404)
    return send_file(path, mimetype=image_mimetype(resource.photo_key), max_age=3600)


@bp.route("/resources/<int:resource_id>/closures", methods=["POST"])
@require(Permission.MANAGE_RESOURCES)
def closures(resource_id: int) -> Any:
    """Add a closure or maintenance period (local times), or remove one."""
    from incubator.booking.models import Closure

    resource = get_or_404(Resource, resource_id)
    if CSRFOnlyForm().validate_on_submit():
        if request.form.get("remove"):
            closure = get_or_404(Closure, int(request.form["remove"]) if request.form["remove"].isdigit() else 0)
            if closure.resource_id == resource.id:
                db.session.delete(closure)
        else:
            try:
                starts = datetime.fromisoformat(request.form.get("starts", "")).replace(tzinfo=zone())
                ends = datetime.fromisoformat(request.form.get("ends", "")).replace(tzinfo=zone())
                if ends <= starts:
                    raise ValueError
            except ValueError:
                flash(_("Give a start and an end after it."), "danger")
            else:
                db.session.add(Closure(org_id=g.org.id, resource_id=resource.id, starts_at=starts.astimezone(UTC),
                                       ends_at=ends.astimezone(UTC), reason=request.form.get("reason", "")[:255],
                                       maintenance=bool(request.form.get("maintenance"))))
                flash(_("Closed for that time: nobody can book it."), "success")
    return redirect(url_for("booking.settings", resource_id=resource.id))


@bp.route("/trainings", methods=["POST"])
@require(Permission.MANAGE_RESOURCES)
def new_training() -> Any:
    if CSRFOnlyForm().validate_on_submit():
        name = request.form.get("name", "").strip()
        months = request.form.get("validity_months", "12")
        if not name or not months.isdigit() or not 1 <= int(months) <= 120:
            flash(_("Give the training a name and a validity of 1 to 120 months."), "danger")
        else:
            db.session.add(Training(org_id=g.org.id, name=name[:255], validity_months=int(months)))
            flash(_("The training is created."), "success")
    return redirect(url_for("booking.certifications"))
