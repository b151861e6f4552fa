"""Lab pages for everyone who books: the labs, week and day grids, booking, my bookings, cancelling,
check-in, the waitlist, calendar feeds. The managers' pages are in views_manage."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from incubator.accounts.forms import CSRFOnlyForm
from incubator.booking import billing, calendars, credits, inputs, labels, services, tasks, waitlist  # noqa: F401  (tasks: the worker's schedule)
from incubator.booking import grid as calendar
from incubator.booking import mine as mine_data
from incubator.booking.access import (
    manages,
    may_book,
    require_booking,
    resource_refusals,
    template_predicates,
    visible_booking_or_404,
    waitlist_entry_or_404,
)
from incubator.booking.forms import BookForm, TimedSlotForm, form_error
from incubator.booking.grid import Cell
from incubator.booking.models import (
    Booking,
    BookingStatus,
    Certification,
    Lab,
    Resource,
)
from incubator.cohorts.models import ResourceKind
from incubator.core import formatting
from incubator.core.actions import attempt
from incubator.core.db import utcnow
from incubator.core.errors import DomainError
from incubator.core.feeds import FeedKind, issue_feed_token
from incubator.core.pagination import paginate
from incubator.core.permissions import Permission, can, require
from incubator.core.tenancy import get_or_404, org_blueprint, org_today
from incubator.extensions import db

bp = org_blueprint("booking", __name__)


def is_manager() -> bool:
    return can(Permission.MANAGE_RESOURCES)


def zone() -> ZoneInfo:
    return ZoneInfo(g.org.timezone)


def parse_day(value: str | None) -> date:
    """A day from the query string; today for anything else (or a day years away, whose grid would not fit
    in the calendar's range of dates)."""
    today = org_today()
    try:
        day = date.fromisoformat(value) if value else today
    except ValueError:
        return today
    return day if abs(day - today) <= inputs.HORIZON else today


def grid(resources: list[Resource], days: list[date], step: int,
         refusals: dict[int, str] | None = None) -> dict[tuple[int, date], list[Cell]]:
    """The calendar cells of ``resources`` over ``days`` for the signed-in member (``booking.grid``);
    the free time of the resources ``refusals`` names is shown as not bookable, with the reason."""
    return calendar.grid(db.session, g.org, resources, days, step, current_user.id, utcnow(), may_book(), refusals)


def refusals(resources: list[Resource], days: list[date]) -> dict[int, str]:
    """Why the signed-in member may not book each of ``resources`` (``access.resource_refusals``)."""
    return resource_refusals(db.session, g.org, current_user, g.get("membership"), resources, days[0])


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
    resources = _lab_resources(lab)
    refused = refusals(resources, [day]) if resources else {}
    cells = grid(resources, [day], 30, refused) if resources else {}
    return render_template("booking/lab_day.html", lab=lab, day=day, resources=resources, cells=cells,
                           refused=refused, prev_day=day - timedelta(days=1), next_day=day + timedelta(days=1),
                           rows=[time(7 + i // 2, 30 * (i % 2)) for i in range(28)])  # the grid's half hours


@bp.route("/resources/<int:resource_id>")
@require(Permission.VIEW_DASHBOARD)
def resource_week(resource_id: int) -> Any:
    """A week of one resource; free cells link to the booking form."""
    resource = calendar.resource_or_404(resource_id)
    monday = parse_day(request.args.get("week"))
    monday -= timedelta(days=monday.weekday())
    days = [monday + timedelta(days=i) for i in range(7)]
    step = max(30, resource.slot_minutes) if not resource.open_24h else 60
    refused = refusals([resource], days)
    return render_template("booking/resource_week.html", resource=resource, days=days,
                           cells=grid([resource], days, step, refused), step=step, refused=refused,
                           prev_week=monday - timedelta(days=7), next_week=monday + timedelta(days=7), day=monday)


def _lab_resources(lab: Lab) -> list[Resource]:
    return list(db.session.execute(select(Resource).where(Resource.lab_id == lab.id, Resource.active.is_(True))
                                   .options(selectinload(Resource.hours), selectinload(Resource.training))
                                   .order_by(Resource.name)).scalars())


def _calendar_page(template: str, resources: list[Resource], day: date, **context: Any) -> Any:
    """A month or an agenda of ``resources`` (``booking.calendars``), with the viewer's reasons not to book."""
    refused = refusals(resources, [day]) if resources else {}
    if template == "booking/month.html":
        context["weeks"] = calendars.month(db.session, g.org, resources, day, current_user.id, utcnow()) \
            if resources else []
        first = day.replace(day=1)
        context["prev_day"] = (first - timedelta(days=1)).replace(day=1)
        context["next_day"] = (first + timedelta(days=32)).replace(day=1)
    else:
        context["days"] = calendars.agenda(db.session, g.org, resources, day, current_user.id, utcnow()) \
            if resources else {}
        context["prev_day"] = day - timedelta(days=calendars.AGENDA_DAYS)
        context["next_day"] = day + timedelta(days=calendars.AGENDA_DAYS)
    return render_template(template, resources=resources, day=day, refused=refused, **context)


@bp.route("/resources/<int:resource_id>/month")
@require(Permission.VIEW_DASHBOARD)
def resource_month(resource_id: int) -> Any:
    """A month of one resource: each day's bookings and free time; a day leads to its week."""
    resource = calendar.resource_or_404(resource_id)
    return _calendar_page("booking/month.html", [resource], parse_day(request.args.get("day")), resource=resource)


@bp.route("/resources/<int:resource_id>/agenda")
@require(Permission.VIEW_DASHBOARD)
def resource_agenda(resource_id: int) -> Any:
    """The coming days of one resource as a list: its bookings and its free time, each day."""
    resource = calendar.resource_or_404(resource_id)
    return _calendar_page("booking/agenda.html", [resource], parse_day(request.args.get("day")), resource=resource)


@bp.route("/labs/<int:lab_id>/month")
@require(Permission.VIEW_DASHBOARD)
def lab_month(lab_id: int) -> Any:
    lab = get_or_404(Lab, lab_id)
    return _calendar_page("booking/month.html", _lab_resources(lab), parse_day(request.args.get("day")), lab=lab)


@bp.route("/labs/<int:lab_id>/agenda")
@require(Permission.VIEW_DASHBOARD)
def lab_agenda(lab_id: int) -> Any:
    lab = get_or_404(Lab, lab_id)
    return _calendar_page("booking/agenda.html", _lab_resources(lab), parse_day(request.args.get("day")), lab=lab)


@bp.route("/resources/<int:resource_id>/book", methods=["GET", "POST"])
@require(Permission.BOOK_RESOURCES)
@require_booking
def book(resource_id: int) -> Any:
    resource = get_or_404(Resource, resource_id)
    tz = zone()
    try:
        starts_at = inputs.local_time(request.values.get("start"), tz)
    except DomainError:
        flash(_("Choose a free slot in the calendar."), "danger")
        return redirect(url_for("booking.resource_week", resource_id=resource.id))
    choices = list(range(resource.min_minutes, resource.max_minutes + 1, resource.slot_minutes))[:24]
    startup, cohort = credits.active_startup(db.session, g.org, current_user)
    balance = credits.credit_balance(db.session, startup, cohort, resource.kind) if startup and cohort else 0
    form = BookForm(default_minutes=resource.min_minutes)
    error = None
    minutes = resource.min_minutes
    if request.args.get("minutes", type=int) in choices:  # a range chosen in the week grid
        minutes = request.args.get("minutes", type=int) or minutes
    if form.is_submitted() and not form.validate() and not form.csrf_token.errors:
        error = form_error(form)
    elif form.is_submitted() and not form.errors and not request.form.get("preview"):
        with attempt() as outcome:
            made, skipped = services.create_weekly(
                db.session, g.org, resource, current_user, starts_at,
                starts_at + timedelta(minutes=form.minutes.value), form.weeks.value,
                skip_conflicts=form.skip_conflicts.data, is_staff=is_manager(), note=form.note.data)
            if not made:
                raise skipped[0][1]
        if (exc := outcome.error) is not None:
            error = exc
        else:
            booking = made[0]
            for start, reason in skipped:
                flash(_("Skipped %(day)s: %(reason)s", day=formatting.date_(start.astimezone(tz).date()),
                        reason=reason.message), "warning")
            messages = {
                BookingStatus.CONFIRMED: _("Booked and confirmed."),
                BookingStatus.AWAITING_PAYMENT: _("Booked: the slot is held for you while it awaits payment."),
                BookingStatus.PENDING_APPROVAL: _("Booked: a manager will approve it."),
            }
            flash(messages.get(booking.status, _("Booked.")), "success")
            return redirect(url_for("booking.mine"))
    if form.is_submitted() and not form.errors:
        minutes = form.minutes.value
    offer = None
    if error is None:  # what this booking would charge and leave, by the code that charges it
        with attempt() as outcome:
            offer = services.quote_booking(db.session, g.org, resource, current_user, starts_at,
                                           starts_at + timedelta(minutes=minutes), is_staff=is_manager())
        error = outcome.error
    return render_template("booking/book.html", resource=resource, starts_at=starts_at, choices=choices,
                           balance=balance, cohort=cohort, form=form, error=error, offer=offer,
                           minutes=minutes), 422 if error and form.is_submitted() else 200


@bp.route("/bookings")
@require(Permission.VIEW_DASHBOARD)
def mine() -> Any:
    """A page of the member's bookings (upcoming first, the filters kept across pages), their credits
    and their places in the waitlists (``booking.mine``)."""
    now = utcnow()
    chosen = mine_data.filters(request.args)
    page = paginate(db.session, mine_data.bookings_query(g.org, current_user, chosen, now), per_page=50)
    rows = page.items
    entries, waiting_total = mine_data.waiting(db.session, g.org, current_user, now)
    money = billing.money_for(db.session, rows)
    return render_template("booking/mine.html", bookings=rows, page=page, filters=chosen,
                           kept={name: value for name, value in chosen.items() if value},
                           balances=mine_data.balances(db.session, g.org, current_user),
                           statuses=list(BookingStatus), money=money,
                           actions=mine_data.actions(g.org, current_user, g.membership, rows, money, now),
                           moments=labels.Moments(formatting.viewer_timezone(), str(get_locale())),
                           status_label=labels.status_labels(str(get_locale())),
                           row_words=labels.row_words(str(get_locale())),
                           waitlist=entries, waiting_total=waiting_total,
                           button_form=CSRFOnlyForm(formdata=None), feed_url=request.args.get("feed"))


@bp.route("/bookings/<int:booking_id>/cancel", methods=["POST"])
@require(Permission.VIEW_DASHBOARD)
def cancel(booking_id: int) -> Any:
    booking = visible_booking_or_404(booking_id, current_user, g.membership)
    manager = manages(g.membership, booking)
    if CSRFOnlyForm().validate_on_submit():
        # A refund that fails after the booking was marked cancelled: the savepoint takes it back.
        with attempt(flash_error=True) as outcome:
            returned = waitlist.cancel(db.session, booking, current_user, manager)
        if outcome.ok:
            flash(_("Cancelled; the credits are back.") if returned and booking.credit_minutes else
                  _("Cancelled.") if returned else _("Cancelled late: the credits are forfeited."), "success")
    return redirect(request.referrer or url_for("booking.mine"))


@bp.app_context_processor
def _booking_globals() -> dict[str, Any]:
    return template_predicates()  # the navigation offers booking only to those who may, and so on


@bp.app_template_filter("booking_status_label")
def booking_status_label(status: str) -> str:
    return labels.status_labels(str(get_locale())).get(status, status)


@bp.route("/bookings/feed", methods=["POST"])
@require(Permission.VIEW_DASHBOARD)
def new_feed() -> Any:
    """A new secret address for the person's booking calendar; the previous one stops working."""
    if not CSRFOnlyForm().validate_on_submit():
        abort(400)
    token = issue_feed_token(db.session, org_id=g.org.id, kind=FeedKind.BOOKINGS, owner_id=current_user.id)
    flash(_("A new calendar address is made; the old one no longer works."), "success")
    return redirect(url_for("booking.mine", feed=url_for("booking_feeds.person_feed", token=token, _external=True)))


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
            with attempt(flash_error=True) as outcome:
                services.check_in(booking, current_user, is_manager(), now)
            if outcome.ok:
                flash(_("Checked in. Enjoy the machine!"), "success")
        return redirect(url_for("booking.check_in", resource_id=resource.id))
    return render_template("booking/check_in.html", resource=resource, booking=booking,
                           button_form=CSRFOnlyForm(formdata=None))


@bp.route("/resources/<int:resource_id>/waitlist", methods=["POST"])
@require(Permission.BOOK_RESOURCES)
@require_booking
def join_waitlist(resource_id: int) -> Any:
    resource = get_or_404(Resource, resource_id)
    form = TimedSlotForm(default_minutes=resource.min_minutes, zone=zone())
    if form.is_submitted() and not form.csrf_token.errors:
        with attempt() as outcome:
            if not form.validate():
                raise form_error(form)
            start = form.start.value
            waitlist.join_waitlist(db.session, g.org, resource, current_user, start,
                                   start + timedelta(minutes=form.minutes.value))
        if not outcome.ok:
            flash(_("Choose a time in the future."), "danger")
        else:
            flash(_("You are on the waitlist: if the time frees up, it is held for you and you get an email."),
                  "success")
    return redirect(url_for("booking.mine"))


@bp.route("/waitlist/<int:waitlist_entry_id>/leave", methods=["POST"])
@require(Permission.VIEW_DASHBOARD)
def leave_waitlist(waitlist_entry_id: int) -> Any:
    """Leave a place in a waitlist: the same loader and service as the API's ``DELETE /waitlist/<id>``."""
    entry = waitlist_entry_or_404(waitlist_entry_id, current_user)
    if CSRFOnlyForm().validate_on_submit():
        with attempt(flash_error=True) as outcome:
            waitlist.leave_waitlist(db.session, entry, current_user)
        if outcome.ok:
            flash(_("You left the waitlist."), "success")
    return redirect(url_for("booking.mine"))


@bp.route("/bookings/<int:booking_id>/take", methods=["POST"])
@require(Permission.BOOK_RESOURCES)
@require_booking
def take(booking_id: int) -> Any:
    booking = visible_booking_or_404(booking_id, current_user, g.membership)
    if booking.user_id != current_user.id:  # a manager sees it, but it is held for its booker
        abort(404)
    if CSRFOnlyForm().validate_on_submit():
        with attempt(flash_error=True) as outcome:
            waitlist.take_held(booking, current_user)
        if outcome.ok:
            flash(_("It is yours."), "success")
    return redirect(url_for("booking.mine"))


@bp.route("/resources/<int:resource_id>/photo")
@require(Permission.VIEW_DASHBOARD)
def photo(resource_id: int) -> Any:
    from incubator.core.storage import image_mimetype, storage

    resource = get_or_404(Resource, resource_id)
    if not resource.photo_key:
        abort(404)
    return storage().send(resource.photo_key, mimetype=image_mimetype(resource.photo_key), max_age=3600)


from incubator.booking import views_manage  # noqa: E402,F401  (the managers' pages, on the same blueprint)
