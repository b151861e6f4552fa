"""Booking rules and a booking's life: the rules, creating (once or weekly), holds, cancelling, approval,
check-in, no-shows, free time, and what payments tells booking. Every rule answers with its own code;
overlaps are refused by the database. Credits and prices are in ``credits``, the waitlist in
``waitlist``, shared labs in ``sharing``, read-outs of lab use in ``usage``.

The friendly overlap check below only words the error. Correctness never depends on it: on
PostgreSQL an exclusion constraint over (resource, [starts_at, blocked_until)) refuses overlapping
active bookings, and on SQLite a write transaction takes the database lock before it checks.
"""

from __future__ import annotations

from contextlib import nullcontext
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from blinker import Namespace
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from incubator.accounts.models import User
from incubator.booking.credits import active_startup, lock_startup, quote, refund_credits
from incubator.booking.models import (
    ACTIVE_STATUSES,
    HOLD_STATUSES,
    Booking,
    BookingStatus,
    Certification,
    Closure,
    Resource,
)
from incubator.cohorts.models import Startup
from incubator.core.db import get_required, utcnow
from incubator.core.errors import Conflict, DomainError
from incubator.core.weekly import inside_windows, window_times
from incubator.ledger import signals as ledger_signals
from incubator.ledger.models import LedgerEntry, LedgerKind, Payment
from incubator.orgs.models import Organisation
from incubator.webhooks.services import emit_for

HOLD_MINUTES = 15  # a booking awaiting payment keeps its slot this long
MAX_BOOKING = timedelta(days=7)  # no booking is longer, and no buffer longer than a day:
LOOKBACK = MAX_BOOKING + timedelta(days=1)  # so overlap searches only look this far back (an index range)


signals = Namespace()
# Sent after a booking is cancelled, with ``in_policy``: whether it was early enough to be given back
# (payments refunds a paid booking on it, within the same transaction).
booking_cancelled = signals.signal("booking-cancelled")
WEBHOOK_FIELDS = ("resource_id", "startup_id", "user_id", "status", "starts_at", "ends_at", "price", "currency")


class SlotTaken(Conflict):
    code = "slot_taken"


def rule(code: str, message: str, field: str = "starts_at") -> DomainError:
    return DomainError(message, code=code, fields={field: message})


def expire_holds(session: Session, resource_id: int | None = None, now: datetime | None = None) -> int:
    """Release bookings whose payment hold ran out (and return their credits)."""
    now = now or utcnow()
    stmt = select(Booking).where(Booking.status.in_(HOLD_STATUSES), Booking.hold_expires_at < now)
    if resource_id is not None:
        stmt = stmt.where(Booking.resource_id == resource_id)
    expired = session.execute(stmt).scalars().all()
    for booking in expired:
        booking.status = BookingStatus.EXPIRED
        refund_credits(session, booking)
    session.flush()
    return len(expired)


def _local(moment: datetime, org: Organisation) -> datetime:
    return moment.astimezone(ZoneInfo(org.timezone))


def check_rules(session: Session, org: Organisation, resource: Resource, user: User, starts_at: datetime,
                ends_at: datetime, startup: Startup | None, now: datetime) -> None:
    """Every rule but the overlap, each with its own code, in this order: the resource, the times, the
    calendar (notice, horizon, closures, opening hours), the person's training, the startup's quota."""
    if not resource.active:
        raise rule("resource_inactive", _("This resource cannot be booked at the moment."), "resource_id")
    _check_times(org, resource, starts_at, ends_at)
    _check_calendar(session, org, resource, starts_at, ends_at, now)
    _check_training(session, org, resource, user, ends_at)
    if resource.max_hours_per_week and startup is not None:
        _check_quota(session, org, resource, startup, starts_at, ends_at)


def _check_times(org: Organisation, resource: Resource, starts_at: datetime, ends_at: datetime) -> None:
    """Times with a zone, in order, on the resource's slots, between its shortest and longest booking."""
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise rule("invalid_time", _("Give times with their time zone."))
    if ends_at <= starts_at:
        raise rule("invalid_range", _("The end must come after the start."), "ends_at")
    minutes = (ends_at - starts_at).total_seconds() / 60
    local_start = _local(starts_at, org)
    if minutes % resource.slot_minutes or (local_start.hour * 60 + local_start.minute) % resource.slot_minutes \
            or local_start.second:
        raise rule("not_on_slot", _("Book in steps of %(n)d minutes.", n=resource.slot_minutes))
    if minutes < resource.min_minutes:
        raise rule("too_short", _("Book at least %(n)d minutes.", n=resource.min_minutes), "ends_at")
    if minutes > resource.max_minutes or ends_at - starts_at > MAX_BOOKING:
        raise rule("too_long", _("Book at most %(n)d minutes.", n=resource.max_minutes), "ends_at")


def _check_calendar(session: Session, org: Organisation, resource: Resource, starts_at: datetime,
                    ends_at: datetime, now: datetime) -> None:
    """Early enough, not too far ahead, not closed, and inside the opening hours."""
    if starts_at < now + timedelta(minutes=resource.min_notice_minutes):
        raise rule("too_late_notice", _("Book at least %(n)d minutes ahead.", n=resource.min_notice_minutes))
    if starts_at > now + timedelta(days=resource.max_days_ahead):
        raise rule("too_far_ahead", _("Book at most %(n)d days ahead.", n=resource.max_days_ahead))
    closed = session.execute(select(Closure.reason).where(
        Closure.resource_id == resource.id, Closure.starts_at < ends_at, Closure.ends_at > starts_at)).first()
    if closed:
        raise rule("closed", _("Closed at that time: %(reason)s", reason=closed[0] or _("maintenance")))
    if not resource.open_24h and not within_opening_hours(resource, org, starts_at, ends_at):
        raise rule("outside_opening_hours", _("Outside the opening hours."))


def _check_training(session: Session, org: Organisation, resource: Resource, user: User, ends_at: datetime) -> None:
    if resource.training_id is not None and not has_valid_training(session, user, resource.training_id,
                                                                    _local(ends_at, org).date()):
        training = resource.training  # loaded only when refusing, as before
        raise rule("training_required",
                   _("You need a valid “%(training)s” certification to book this machine.",
                     training=training.name if training is not None else ""), "resource_id")


def _check_quota(session: Session, org: Organisation, resource: Resource, startup: Startup, starts_at: datetime,
                 ends_at: datetime) -> None:
    """The startup's weekly hours of the resource (the week of the start, in the organisation's zone)."""
    local_start = _local(starts_at, org)
    week_start = (local_start - timedelta(days=local_start.weekday())).replace(hour=0, minute=0, second=0)
    week_end = week_start + timedelta(days=7)
    booked = session.execute(select(Booking).where(
        Booking.resource_id == resource.id, Booking.startup_id == startup.id,
        Booking.status.in_(ACTIVE_STATUSES), Booking.starts_at < week_end,
        Booking.starts_at > week_start - LOOKBACK, Booking.ends_at > week_start)).scalars().all()
    used = sum(b.minutes for b in booked)
    if used + (ends_at - starts_at).total_seconds() / 60 > (resource.max_hours_per_week or 0) * 60:
        raise rule("quota_exceeded", _("This would pass %(n)d hours this week for your startup.",
                                       n=resource.max_hours_per_week))


def within_opening_hours(resource: Resource, org: Organisation, starts_at: datetime, ends_at: datetime) -> bool:
    return inside_windows(resource.hours, starts_at, ends_at, org.timezone)


def has_valid_training(session: Session, user: User, training_id: int, on: date) -> bool:
    return session.execute(select(Certification.id).where(
        Certification.user_id == user.id, Certification.training_id == training_id,
        Certification.expires_on >= on)).first() is not None


def create_booking(session: Session, org: Organisation, resource: Resource, user: User, starts_at: datetime,
                   ends_at: datetime, *, is_staff: bool = False, note: str = "", now: datetime | None = None,
                   share: Any = None) -> Booking:
    """``org`` owns the resource. With ``share``, a member of the partner organisation books it."""
    now = now or utcnow()
    startup, cohort = (None, None) if is_staff or share else active_startup(session, org, user)
    if startup is not None:
        lock_startup(session, startup)
    check_rules(session, org, resource, user, starts_at, ends_at, startup, now)
    expire_holds(session, resource.id, now)
    blocked_until = ends_at + resource.buffer
    clash = session.execute(select(Booking.id).where(
        Booking.resource_id == resource.id, Booking.status.in_(ACTIVE_STATUSES), Booking.starts_at < blocked_until,
        Booking.starts_at > starts_at - LOOKBACK, Booking.blocked_until > starts_at).limit(1)).first()
    if clash:
        raise SlotTaken(_("This time is already booked."), fields={"starts_at": _("This time is already booked.")})
    offer = quote(session, resource, startup, cohort, int((ends_at - starts_at).total_seconds() // 60), is_staff,
                  partner=share is not None)
    if (share.needs_approval if share is not None else resource.needs_approval) and not is_staff:
        status = BookingStatus.PENDING_APPROVAL
    elif offer.price > 0:
        status = BookingStatus.AWAITING_PAYMENT
    else:
        status = BookingStatus.CONFIRMED
    if status == BookingStatus.AWAITING_PAYMENT:  # a hold: capped per person, and not renewable
        from incubator.booking import access

        access.check_holds(session, org, user, now)
        access.check_renewal(session, resource, user, starts_at, blocked_until, now)
    booking = Booking(org_id=org.id, resource_id=resource.id, user_id=user.id,
                      startup_id=startup.id if startup else None, starts_at=starts_at, ends_at=ends_at,
                      blocked_until=blocked_until, status=status, credit_minutes=offer.credit_minutes,
                      price=offer.price, currency=org.currency, note=note.replace("\x00", "")[:500],
                      partner_org_id=share.partner_org_id if share is not None else None,
                      hold_expires_at=now + timedelta(minutes=HOLD_MINUTES)
                      if status == BookingStatus.AWAITING_PAYMENT else None)
    try:
        with session.begin_nested():  # the exclusion constraint answers a race the check could not see
            session.add(booking)
    except IntegrityError as exc:
        raise SlotTaken(_("This time is already booked."),
                        fields={"starts_at": _("This time is already booked.")}) from exc
    if offer.credit_minutes and startup is not None and cohort is not None:
        session.add(LedgerEntry(org_id=org.id, startup_id=startup.id, cohort_id=cohort.id,
                                resource_kind=resource.kind, minutes=-offer.credit_minutes, booking_id=booking.id,
                                kind=LedgerKind.CREDIT_USE))
    session.flush()
    if status == BookingStatus.CONFIRMED:
        emit_for(booking, "booking.confirmed", *WEBHOOK_FIELDS)
    return booking


def release_hold(session: Session, booking: Booking) -> None:
    """A booking awaiting payment that will not be paid: its slot is free again and its credits return."""
    if booking.status in HOLD_STATUSES:
        booking.status = BookingStatus.EXPIRED
        refund_credits(session, booking)
        session.flush()


def cancel_booking(session: Session, booking: Booking, user: User, is_manager: bool,
                   now: datetime | None = None) -> bool:
    """Cancel; credits come back when it is early enough (the resource's policy). Answers whether they did."""
    now = now or utcnow()
    if not booking.can_cancel(user, is_manager):
        raise DomainError(_("This booking cannot be cancelled."), code="not_cancellable")
    in_time = booking.starts_at - now >= timedelta(hours=booking.resource.free_cancellation_hours)
    booking.status, booking.cancelled_at = BookingStatus.CANCELLED, now
    if in_time or is_manager:
        refund_credits(session, booking)
    session.flush()
    emit_for(booking, "booking.cancelled", *WEBHOOK_FIELDS, cancelled_at=now)
    booking_cancelled.send(booking, session=session, in_policy=in_time or is_manager)
    return in_time or is_manager


def decide_approval(booking: Booking, approve: bool) -> None:
    if booking.status != BookingStatus.PENDING_APPROVAL:
        raise DomainError(_("This booking is not waiting for approval."), code="not_pending")
    if not approve:
        booking.status, booking.cancelled_at = BookingStatus.CANCELLED, utcnow()
        emit_for(booking, "booking.cancelled", *WEBHOOK_FIELDS, cancelled_at=booking.cancelled_at)
    elif booking.price > 0:
        booking.status = BookingStatus.AWAITING_PAYMENT
        booking.hold_expires_at = utcnow() + timedelta(minutes=HOLD_MINUTES)
    else:
        booking.status = BookingStatus.CONFIRMED
        emit_for(booking, "booking.confirmed", *WEBHOOK_FIELDS)


# -- availability -----------------------------------------------------------------------------------

def free_intervals(session: Session, org: Organisation, resources: list[Resource], start: datetime,
                   end: datetime, booked: list[tuple[int, datetime, datetime]] | None = None,
                   ) -> dict[int, list[tuple[datetime, datetime]]]:
    """Free time per resource between ``start`` and ``end``, in the organisation's time zone: opening
    hours minus closures and bookings (with their buffers).

    One query for the bookings and one for the closures, whatever the number of resources. A caller
    that already read the window's active bookings passes them as ``booked`` (resource id, start,
    blocked until), and the bookings are not read again."""
    ids = [r.id for r in resources]
    busy: dict[int, list[tuple[datetime, datetime]]] = {i: [] for i in ids}
    if booked is None:
        booked = [(rid, s, e) for rid, s, e in session.execute(
            select(Booking.resource_id, Booking.starts_at, Booking.blocked_until).where(
                Booking.resource_id.in_(ids), Booking.status.in_(ACTIVE_STATUSES), Booking.starts_at < end,
                Booking.starts_at > start - LOOKBACK, Booking.blocked_until > start)).all()]
    for rid, s, e in booked:
        busy[rid].append((s, e))
    for rid, s, e in session.execute(select(Closure.resource_id, Closure.starts_at, Closure.ends_at).where(
            Closure.resource_id.in_(ids), Closure.starts_at < end, Closure.ends_at > start)).all():
        busy[rid].append((s, e))
    zone = ZoneInfo(org.timezone)
    out: dict[int, list[tuple[datetime, datetime]]] = {}
    for resource in resources:
        windows = [(start, end)] if resource.open_24h else window_times(resource.hours, start, end, org.timezone)
        out[resource.id] = [(s.astimezone(zone), e.astimezone(zone))
                            for s, e in _subtract(sorted(windows), sorted(busy[resource.id]))]
    return out


def _subtract(windows: list[tuple[datetime, datetime]],
              busy: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    free = []
    for w_start, w_end in windows:
        cursor = w_start
        for b_start, b_end in busy:
            if b_end <= cursor or b_start >= w_end:
                continue
            if b_start > cursor:
                free.append((cursor, b_start))
            cursor = max(cursor, b_end)
            if cursor >= w_end:
                break
        if cursor < w_end:
            free.append((cursor, w_end))
    return free


def create_weekly(session: Session, org: Organisation, resource: Resource, user: User, starts_at: datetime,
                  ends_at: datetime, weeks: int, *, skip_conflicts: bool, is_staff: bool = False, note: str = "",
                  now: datetime | None = None) -> tuple[list[Booking], list[tuple[datetime, DomainError]]]:
    """The same time every week for ``weeks`` weeks: all or nothing, or skipping what cannot be booked.

    Answers the bookings made and, when skipping, each skipped start with its reason."""
    if not 1 <= weeks <= 26:
        raise rule("invalid_recurrence", _("Repeat for 1 to 26 weeks."), "weeks")
    zone = ZoneInfo(org.timezone)
    local_start, local_end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    made: list[Booking] = []
    skipped: list[tuple[datetime, DomainError]] = []
    # All or nothing: one savepoint around every week, rolled back by the first refusal.
    with nullcontext() if skip_conflicts else session.begin_nested():
        for week in range(weeks):
            start = (local_start + timedelta(weeks=week)).astimezone(UTC)  # the same wall-clock time
            end = (local_end + timedelta(weeks=week)).astimezone(UTC)
            try:
                with session.begin_nested():
                    made.append(create_booking(session, org, resource, user, start, end, is_staff=is_staff,
                                               note=note, now=now))
            except DomainError as error:
                if not skip_conflicts:
                    raise DomainError(
                        _("%(day)s cannot be booked (%(reason)s): nothing was booked.",
                          day=start.astimezone(zone).strftime("%Y-%m-%d"), reason=error.message),
                        code=error.code, fields=error.fields, status=error.status) from error
                skipped.append((start, error))
    return made, skipped


CHECK_IN_EARLY = timedelta(minutes=15)


def check_in(booking: Booking, user: User, is_manager: bool, now: datetime | None = None) -> None:
    """At the machine: from 15 minutes before the start until the end of a confirmed booking."""
    now = now or utcnow()
    if not (is_manager or booking.user_id == user.id):
        raise DomainError(_("This is someone else's booking."), code="not_yours", status=403)
    if booking.status != BookingStatus.CONFIRMED:
        raise rule("not_confirmed", _("Only confirmed bookings are checked in."))
    if not booking.starts_at - CHECK_IN_EARLY <= now < booking.ends_at:
        raise rule("not_now", _("Check in from 15 minutes before the start until the end."))
    booking.checked_in_at = booking.checked_in_at or now


def release_no_shows(session: Session, now: datetime | None = None) -> int:
    """Confirmed bookings nobody checked in to within the resource's grace minutes become no-shows,
    which frees the rest of their time; their credits are not returned."""
    now = now or utcnow()
    candidates = session.execute(select(Booking).where(
        Booking.status == BookingStatus.CONFIRMED, Booking.checked_in_at.is_(None), Booking.starts_at <= now,
        Booking.ends_at > now)).scalars().all()
    released = 0
    for booking in candidates:
        if booking.starts_at + timedelta(minutes=booking.resource.no_show_minutes) <= now:
            booking.status = BookingStatus.NO_SHOW
            released += 1
    session.flush()
    return released


# -- what payments tells booking ----------------------------------------------------------------------

def on_payment_settled(payment: Payment, *, session: Session, **_kw: Any) -> None:
    """A booking's payment went through: the booking is confirmed. Paid after its hold was released, the
    slot may be someone else's now, so the money goes back."""
    if payment.booking_id is None:
        return
    booking = session.get(Booking, payment.booking_id)
    if booking is not None and booking.status == BookingStatus.AWAITING_PAYMENT:
        booking.status, booking.hold_expires_at = BookingStatus.CONFIRMED, None
        emit_for(booking, "booking.confirmed", *WEBHOOK_FIELDS)
    else:
        ledger_signals.ask(ledger_signals.refund_requested, payment, session=session)


def on_payment_expired(payment: Payment, *, session: Session, **_kw: Any) -> None:
    """A booking's checkout ran out unpaid: the slot it held is free again."""
    if payment.booking_id is not None:
        release_hold(session, get_required(session, Booking, payment.booking_id))


ledger_signals.payment_settled.connect(on_payment_settled)
ledger_signals.payment_expired.connect(on_payment_expired)

