"""Booking rules. Every rule answers with its own code; overlaps are refused by the database.

The friendly overlap check below only words the error. Correctness never depends on it: on
PostgreSQL an exclusion constraint over (resource, [starts_at, blocked_until)) refuses overlapping
active bookings, and on SQLite a write transaction takes the database lock before it checks.
"""

from __future__ import annotations

import math
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from blinker import Namespace
from flask_babel import gettext as _
from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from incubator.accounts.models import User
from incubator.booking.models import (
    ACTIVE_STATUSES,
    HOLD_STATUSES,
    Booking,
    BookingStatus,
    Certification,
    Closure,
    Resource,
)
from incubator.cohorts.models import Cohort, CohortLabCredit, Enrolment, EnrolmentStatus, Startup
from incubator.core.db import get_required, utcnow
from incubator.core.errors import Conflict, DomainError
from incubator.core.timezones import add_months
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


@dataclass
class Quote:
    minutes: int
    credit_minutes: int
    price: int  # minor units
    cohort: Cohort | None


def active_startup(session: Session, org: Organisation, user: User) -> tuple[Startup | None, Cohort | None]:
    """The startup a founder books for, with its active cohort (whose credits apply)."""
    from incubator.cohorts.models import StartupFounder

    row = session.execute(
        select(Startup, Cohort).join(StartupFounder, StartupFounder.startup_id == Startup.id)
        .join(Enrolment, Enrolment.startup_id == Startup.id).join(Cohort, Cohort.id == Enrolment.cohort_id)
        .where(Startup.org_id == org.id, StartupFounder.user_id == user.id,
               Enrolment.status == EnrolmentStatus.ACTIVE).order_by(Cohort.starts_on.desc()).limit(1)).first()
    return (row[0], row[1]) if row else (None, None)


def lock_startup(session: Session, startup: Startup) -> None:
    """Serialise the rules that count across a startup's rows (weekly quota, credit balance): one
    booking at a time per startup reads and writes them. On PostgreSQL a row lock on the startup
    (``FOR NO KEY UPDATE``, so that rows referencing it can still be inserted); SQLite's write
    transactions (``BEGIN IMMEDIATE``) already run one at a time, and it ignores the clause."""
    session.execute(select(Startup.id).where(Startup.id == startup.id).with_for_update(key_share=True)
                    .execution_options(all_orgs=True))


def credit_balance(session: Session, startup: Startup, cohort: Cohort, kind: str) -> int:
    """Minutes of ``kind`` the startup still has: included hours minus what the ledger says was used."""
    included = session.execute(select(CohortLabCredit.hours).where(
        CohortLabCredit.cohort_id == cohort.id, CohortLabCredit.resource_kind == kind)).scalar() or 0
    moved = session.execute(select(func.coalesce(func.sum(LedgerEntry.minutes), 0)).where(
        LedgerEntry.startup_id == startup.id, LedgerEntry.cohort_id == cohort.id,
        LedgerEntry.resource_kind == kind)).scalar_one()
    return included * 60 + int(moved)


def expire_holds(session: Session, resource_id: int | None = None, now: datetime | None = None) -> int:
    """Release bookings whose payment hold ran out (and return their credits)."""
    now = now or utcnow()
    stmt = select(Booking).where(Booking.status.in_(HOLD_STATUSES), Booking.hold_expires_at < now)
    if resource_id is not None:
        stmt = stmt.where(Booking.resource_id == resource_id)
    expired = session.execute(stmt).scalars().all()
    for booking in expired:
        booking.status = BookingStatus.EXPIRED
        _refund_credits(session, booking)
    session.flush()
    return len(expired)


def _local(moment: datetime, org: Organisation) -> datetime:
    return moment.astimezone(ZoneInfo(org.timezone))


def check_rules(session: Session, org: Organisation, resource: Resource, user: User, starts_at: datetime,
                ends_at: datetime, startup: Startup | None, now: datetime) -> None:
    """Every rule but the overlap, each with its own code."""
    if not resource.active:
        raise rule("resource_inactive", _("This resource cannot be booked at the moment."), "resource_id")
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
    if resource.training_id is not None and not has_valid_training(session, user, resource.training_id,
                                                                    _local(ends_at, org).date()):
        training = resource.training  # loaded only when refusing, as before
        raise rule("training_required",
                   _("You need a valid “%(training)s” certification to book this machine.",
                     training=training.name if training is not None else ""), "resource_id")
    if resource.max_hours_per_week and startup is not None:
        week_start = (local_start - timedelta(days=local_start.weekday())).replace(hour=0, minute=0, second=0)
        week_end = week_start + timedelta(days=7)
        booked = session.execute(select(Booking).where(
            Booking.resource_id == resource.id, Booking.startup_id == startup.id,
            Booking.status.in_(ACTIVE_STATUSES), Booking.starts_at < week_end,
            Booking.starts_at > week_start - LOOKBACK, Booking.ends_at > week_start)).scalars().all()
        used = sum(b.minutes for b in booked)
        if used + minutes > resource.max_hours_per_week * 60:
            raise rule("quota_exceeded", _("This would pass %(n)d hours this week for your startup.",
                                           n=resource.max_hours_per_week))


def within_opening_hours(resource: Resource, org: Organisation, starts_at: datetime, ends_at: datetime) -> bool:
    return inside_windows(resource.hours, starts_at, ends_at, org.timezone)


def has_valid_training(session: Session, user: User, training_id: int, on: date) -> bool:
    return session.execute(select(Certification.id).where(
        Certification.user_id == user.id, Certification.training_id == training_id,
        Certification.expires_on >= on)).first() is not None


def quote(session: Session, resource: Resource, startup: Startup | None, cohort: Cohort | None,
          minutes: int, is_staff: bool, partner: bool = False) -> Quote:
    """Credits first, then the member rate for the rest (staff book for free, partners pay their rate)."""
    if is_staff:
        return Quote(minutes, 0, 0, None)
    if partner:
        return Quote(minutes, 0, math.ceil(minutes * resource.price_partner / 60), None)
    credits = credit_balance(session, startup, cohort, resource.kind) if startup and cohort else 0
    credit_minutes = max(0, min(minutes, credits))
    rate = resource.price_member if cohort is not None else resource.price_external
    price = math.ceil((minutes - credit_minutes) * rate / 60)
    return Quote(minutes, credit_minutes, price, cohort)


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
        _refund_credits(session, booking)
        session.flush()


def _refund_credits(session: Session, booking: Booking) -> None:
    if not booking.credit_minutes or booking.startup_id is None:
        return
    debit = session.execute(select(LedgerEntry).where(LedgerEntry.booking_id == booking.id,
                                                      LedgerEntry.kind == LedgerKind.CREDIT_USE)).scalars().first()
    if debit is not None:
        session.add(LedgerEntry(org_id=booking.org_id, startup_id=debit.startup_id, cohort_id=debit.cohort_id,
                                resource_kind=debit.resource_kind, minutes=booking.credit_minutes,
                                booking_id=booking.id, kind=LedgerKind.CREDIT_RETURN))


def cancel_booking(session: Session, booking: Booking, user: User, is_manager: bool,
                   now: datetime | None = None) -> bool:
    """Cancel; credits come back when it is early enough (the resource's policy). Answers whether they did."""
    now = now or utcnow()
    if not booking.can_cancel(user, is_manager):
        raise DomainError(_("This booking cannot be cancelled."), code="not_cancellable")
    in_time = booking.starts_at - now >= timedelta(hours=booking.resource.free_cancellation_hours)
    booking.status, booking.cancelled_at = BookingStatus.CANCELLED, now
    if in_time or is_manager:
        _refund_credits(session, booking)
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
                   end: datetime) -> dict[int, list[tuple[datetime, datetime]]]:
    """Free time per resource between ``start`` and ``end``, in the organisation's time zone: opening
    hours minus closures and bookings (with their buffers).

    One query for the bookings and one for the closures, whatever the number of resources."""
    ids = [r.id for r in resources]
    busy: dict[int, list[tuple[datetime, datetime]]] = {i: [] for i in ids}
    for rid, s, e in session.execute(select(Booking.resource_id, Booking.starts_at, Booking.blocked_until).where(
            Booking.resource_id.in_(ids), Booking.status.in_(ACTIVE_STATUSES), Booking.starts_at < end,
            Booking.starts_at > start - LOOKBACK, Booking.blocked_until > start)).all():
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


# -- waitlist ---------------------------------------------------------------------------------------

WAITLIST_HOLD = timedelta(minutes=30)  # how long a freed slot is kept for the first in line


def join_waitlist(session: Session, org: Organisation, resource: Resource, user: User, starts_at: datetime,
                  ends_at: datetime) -> Any:
    from incubator.booking.models import WaitlistEntry

    if ends_at <= starts_at or starts_at <= utcnow():
        raise rule("invalid_range", _("Choose a time in the future."))
    entry = WaitlistEntry(org_id=org.id, resource_id=resource.id, user_id=user.id, starts_at=starts_at,
                          ends_at=ends_at)
    session.add(entry)
    session.flush()
    return entry


def offer_freed_time(session: Session, org: Organisation, resource: Resource, now: datetime | None = None,
                     notify: Any = None) -> list[Booking]:
    """Hold freed time for the first people waiting, in the order they joined, if every rule allows it."""
    from incubator.booking.models import WaitlistEntry

    now = now or utcnow()
    offered = []
    entries = session.execute(select(WaitlistEntry).where(
        WaitlistEntry.resource_id == resource.id, WaitlistEntry.status == "waiting",
        WaitlistEntry.starts_at > now).order_by(WaitlistEntry.created_at)).scalars().all()
    for entry in entries:
        try:
            with session.begin_nested():
                booking = create_booking(session, org, resource, entry.user, entry.starts_at, entry.ends_at,
                                         now=now)
        except DomainError:
            continue  # still taken, or no longer allowed for this person: they keep waiting
        booking.status, booking.hold_expires_at = BookingStatus.HELD, now + WAITLIST_HOLD
        entry.status, entry.booking_id = "offered", booking.id
        offered.append(booking)
        if notify is not None:
            notify(booking)
    session.flush()
    return offered


def take_held(booking: Booking, user: User, now: datetime | None = None) -> None:
    """The person the time was held for takes it: confirmed, or awaiting payment beyond credits."""
    now = now or utcnow()
    if booking.user_id != user.id or booking.status != BookingStatus.HELD:
        raise DomainError(_("Nothing is held for you here."), code="not_held")
    if booking.hold_expires_at is not None and booking.hold_expires_at < now:
        raise DomainError(_("The hold ran out."), code="hold_expired")
    if booking.price > 0:
        booking.status, booking.hold_expires_at = BookingStatus.AWAITING_PAYMENT, now + timedelta(minutes=HOLD_MINUTES)
    else:
        booking.status, booking.hold_expires_at = BookingStatus.CONFIRMED, None
        emit_for(booking, "booking.confirmed", *WEBHOOK_FIELDS)


# -- shared labs ------------------------------------------------------------------------------------

def shared_with(session: Session, partner: Organisation) -> list[tuple[Any, Resource, Organisation]]:
    """What other organisations share with ``partner``: (share, resource, owner), in one query."""
    from sqlalchemy.orm import joinedload

    from incubator.booking.models import ResourceShare

    rows = session.execute(select(ResourceShare, Resource, Organisation)
                           .join(Resource, Resource.id == ResourceShare.resource_id)
                           .join(Organisation, Organisation.id == ResourceShare.org_id)
                           .where(ResourceShare.partner_org_id == partner.id)
                           .options(joinedload(Resource.lab)).order_by(Organisation.name, Resource.name)
                           .execution_options(all_orgs=True)).all()
    return [(share, resource, owner) for share, resource, owner in rows]


def share_for(session: Session, partner: Organisation, resource_id: int) -> Any:
    from incubator.booking.models import ResourceShare

    return session.execute(select(ResourceShare).where(
        ResourceShare.partner_org_id == partner.id, ResourceShare.resource_id == resource_id)
        .execution_options(all_orgs=True)).scalar_one_or_none()


def partner_statement(session: Session, owner: Organisation, month: date) -> list[dict[str, Any]]:
    """The owner's monthly usage statement: per partner organisation, bookings, hours and amount."""
    start = datetime.combine(month.replace(day=1), time(0), ZoneInfo(owner.timezone))
    end = datetime.combine(add_months(month, 1), time(0), ZoneInfo(owner.timezone))
    rows = session.execute(select(Booking).where(
        Booking.org_id == owner.id, Booking.partner_org_id.is_not(None), Booking.starts_at >= start,
        Booking.starts_at < end, Booking.status.in_((BookingStatus.CONFIRMED, BookingStatus.COMPLETED,
                                                    BookingStatus.NO_SHOW)))).scalars().all()
    totals: dict[int, dict[str, Any]] = {}
    for booking in rows:
        partner_id = booking.partner_org_id
        if partner_id is None:  # the query asked for partner bookings only
            continue
        line = totals.setdefault(partner_id, {"partner_org_id": partner_id, "bookings": 0, "minutes": 0, "amount": 0})
        line["bookings"] += 1
        line["minutes"] += booking.minutes
        line["amount"] += booking.price
    return sorted(totals.values(), key=lambda line: line["partner_org_id"])


# -- utilisation ------------------------------------------------------------------------------------

USED = (BookingStatus.COMPLETED,)
BOOKED = (BookingStatus.CONFIRMED, BookingStatus.COMPLETED, BookingStatus.NO_SHOW)


@dataclass
class UsageLine:
    month: str  # YYYY-MM in the organisation's time zone
    resource_id: int
    startup_id: int | None
    cohort_id: int | None
    booked_minutes: int = 0
    used_minutes: int = 0  # completed, or checked in


def utilisation(session: Session, org: Organisation, start: date, end: date) -> list[UsageLine]:
    """Hours booked and used per month, resource, startup and cohort, for bookings starting in [start, end)."""
    zone = ZoneInfo(org.timezone)
    begin, finish = datetime.combine(start, time(0), zone), datetime.combine(end, time(0), zone)
    bookings = session.execute(select(Booking).where(
        Booking.org_id == org.id, Booking.status.in_(BOOKED), Booking.starts_at >= begin,
        Booking.starts_at < finish)).scalars().all()
    startup_ids = {b.startup_id for b in bookings if b.startup_id}
    enrolments = session.execute(select(Enrolment.startup_id, Cohort.id, Cohort.starts_on, Cohort.ends_on)
                                 .join(Cohort, Cohort.id == Enrolment.cohort_id)
                                 .where(Enrolment.startup_id.in_(startup_ids))).all()
    lines: dict[tuple[str, int, int | None, int | None], UsageLine] = {}
    for booking in bookings:
        day = booking.starts_at.astimezone(zone).date()
        cohort_id = next((cid for sid, cid, first, last in enrolments
                          if sid == booking.startup_id and first <= day <= last), None)
        key = (day.strftime("%Y-%m"), booking.resource_id, booking.startup_id, cohort_id)
        line = lines.setdefault(key, UsageLine(*key))
        line.booked_minutes += booking.minutes
        if booking.status in USED or booking.checked_in_at is not None:
            line.used_minutes += booking.minutes
    return sorted(lines.values(), key=lambda line: (line.month, line.resource_id, line.startup_id or 0))


# -- lab use for reports ----------------------------------------------------------------------------

REPORTED = (BookingStatus.CONFIRMED, BookingStatus.COMPLETED)


def lab_bookings_stmt(*, startup_ids: list[int], start: datetime, end: datetime) -> Any:
    """Confirmed and completed bookings of the startups that started in [start, end), with what a report
    needs: the resource kind, credit minutes, the price paid and the resource's list prices. The
    caller executes it (streamed for large exports) and scopes the organisations."""
    return (select(Booking.id, Booking.org_id, Booking.startup_id, Booking.starts_at, Booking.ends_at,
                   Booking.status, Booking.credit_minutes, Booking.price, Booking.currency, Resource.name,
                   Resource.kind, Resource.price_member, Resource.price_external)
            .join(Resource, Resource.id == Booking.resource_id)
            .where(Booking.startup_id.in_(startup_ids), Booking.status.in_(REPORTED),
                   Booking.starts_at >= start, Booking.starts_at < end)
            .order_by(Booking.starts_at, Booking.id))


def _minutes_expr(dialect: str) -> Any:
    """A booking's length in whole minutes, in SQL."""
    if dialect == "postgresql":
        return func.round(func.extract("epoch", Booking.ends_at - Booking.starts_at) / 60)
    return func.round((func.julianday(Booking.ends_at) - func.julianday(Booking.starts_at)) * 1440)


def lab_use_totals(session: Session, *, startup_ids: list[int], start: datetime, end: datetime) -> list[Any]:
    """Per startup and resource kind, summed by the database: bookings, minutes, credit minutes, paid minutes
    (beyond the credits, of bookings that had a price), and credit minutes times the hourly list price (divide by
    60 for the in-kind value). Money received is the ledger's (``reporting.queries.lab_money``), never a price.
    The caller scopes the organisations."""
    minutes = _minutes_expr(session.get_bind().dialect.name)
    # The hourly list price: the public (external) rate, else the member rate.
    price = case((Resource.price_external > 0, Resource.price_external), else_=Resource.price_member)
    return list(session.execute(
        select(Booking.startup_id, Resource.kind, func.count(), func.sum(minutes), func.sum(Booking.credit_minutes),
               func.sum(case((Booking.price > 0, minutes - Booking.credit_minutes), else_=0)),
               func.sum(Booking.credit_minutes * price))
        .join(Resource, Resource.id == Booking.resource_id)
        .where(Booking.startup_id.in_(startup_ids), Booking.status.in_(REPORTED), Booking.starts_at >= start,
               Booking.starts_at < end)
        .group_by(Booking.startup_id, Resource.kind)).all())


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
