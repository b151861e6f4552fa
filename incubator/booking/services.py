"""Booking rules and a booking's life: the rules, creating (once or weekly), holds, cancelling, approval,
check-in, no-shows, free time, and what payments tells booking. Every rule answers with its own code;
overlaps are refused by the database. Credits and prices are in ``credits``, the waitlist in
``waitlist``, shared labs in ``sharing``, read-outs of lab use in ``usage``.

Overlaps are left to the database, which refuses them in the insert itself: on PostgreSQL an
exclusion constraint over (resource, [starts_at, blocked_until)) of active bookings, on SQLite
triggers that do the same (migration 0015b). ``create_booking`` turns the refusal into ``SlotTaken``
and nothing else of the transaction is lost: on PostgreSQL the insert is ``ON CONFLICT DO NOTHING``
(no row back, the time is taken), on SQLite it runs in a savepoint.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from blinker import Namespace
from flask_babel import gettext as _
from sqlalchemy import inspect, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from incubator.accounts.models import User
from incubator.booking.credits import active_startup, quote, refund_credits
from incubator.booking.models import ACTIVE_STATUSES as ACTIVE_STATUSES  # callers name it here too
from incubator.booking.models import HOLD_STATUSES, Booking, BookingStatus, Resource
from incubator.booking.rules import Facts, Request, check_rules, holds_slot, overlapping, rule
from incubator.cohorts.models import Cohort, Startup
from incubator.core import formatting
from incubator.core.db import get_required, utcnow
from incubator.core.errors import Conflict, DomainError
from incubator.core.tenancy import check_new_row
from incubator.ledger import signals as ledger_signals
from incubator.ledger.models import LedgerEntry, LedgerKind, Payment
from incubator.orgs.models import Organisation
from incubator.webhooks.services import emit_for

HOLD_MINUTES = 15  # a booking awaiting payment keeps its slot this long
OVERLAP_CONSTRAINT = "ex_bookings_no_overlap"  # PostgreSQL's exclusion constraint, and SQLite's triggers' message


signals = Namespace()
# Sent after a booking is cancelled, with ``in_policy``: whether it was early enough to be given back
# (payments refunds a paid booking on it, within the same transaction).
booking_cancelled = signals.signal("booking-cancelled")
WEBHOOK_FIELDS = ("resource_id", "startup_id", "user_id", "status", "starts_at", "ends_at", "price", "currency")


class SlotTaken(Conflict):
    code = "slot_taken"


def expire_holds(session: Session, resource_id: int | None = None, now: datetime | None = None,
                 during: tuple[datetime, datetime] | None = None) -> int:
    """Release bookings whose payment hold ran out (and return their credits): every five minutes
    (``tasks``), and when a new booking of ``resource_id`` clashes with one ``during`` its range."""
    now = now or utcnow()
    stmt = select(Booking).where(Booking.status.in_(HOLD_STATUSES), Booking.hold_expires_at < now)
    if resource_id is not None:
        stmt = stmt.where(Booking.resource_id == resource_id)
    if during is not None:
        stmt = stmt.where(*overlapping(*during))
    expired = session.execute(stmt).scalars().all()
    for booking in expired:
        booking.status = BookingStatus.EXPIRED
    refund_credits(session, *expired)
    session.flush()
    return len(expired)


@dataclass(frozen=True)
class Offer:
    """What a booking would cost and leave, before it is made: what the booking form shows before
    confirming and ``POST /bookings/quote`` answers, and what ``create_booking`` then charges (it makes
    its booking from this very answer). Minutes of credits; money in minor units of ``currency``."""

    minutes: int
    credit_minutes: int  # the credits this booking uses
    price: int  # what is left to pay, after the credits
    currency: str
    credits_before: int  # the startup's balance of the resource's kind (0 without a cohort)
    quota_minutes: int | None  # the resource's weekly quota for the startup, None when there is none
    quota_used: int  # the startup's minutes of the resource in that week before this booking
    status: BookingStatus  # what the booking would be: confirmed, awaiting payment or pending approval
    facts: Facts
    startup: Startup | None = None
    cohort: Cohort | None = None

    @property
    def credits_after(self) -> int:
        return self.credits_before - self.credit_minutes

    @property
    def quota_left(self) -> int | None:
        """Minutes of the weekly quota left once this booking is made."""
        return None if self.quota_minutes is None else self.quota_minutes - self.quota_used - self.minutes


def quote_booking(session: Session, org: Organisation, resource: Resource, user: User, starts_at: datetime,
                  ends_at: datetime, *, is_staff: bool = False, now: datetime | None = None, share: Any = None,
                  lock: bool = False) -> Offer:
    """Every rule but the overlap, then the price: credits first, then the rate (``credits.quote``).
    A refused rule raises as ``create_booking`` would. With ``lock`` (``create_booking``), the founder's
    startup is locked as it is read: the rules that count its rows (quota, credits) run one booking at
    a time per startup."""
    now = now or utcnow()
    startup, cohort = (None, None) if is_staff or share else active_startup(session, org, user, lock=lock)
    facts = check_rules(session, Request(org, resource, user, starts_at, ends_at, startup, cohort,
                                         subscriptions=share is None), now)
    minutes = int((ends_at - starts_at).total_seconds() // 60)
    offer = quote(session, resource, startup, cohort, minutes, is_staff, partner=share is not None,
                  credits=facts.credits)
    if (share.needs_approval if share is not None else resource.needs_approval) and not is_staff:
        status = BookingStatus.PENDING_APPROVAL
    elif offer.price > 0:
        status = BookingStatus.AWAITING_PAYMENT
    else:
        status = BookingStatus.CONFIRMED
    has_quota = bool(resource.max_hours_per_week) and startup is not None
    return Offer(minutes, offer.credit_minutes, offer.price, org.currency, facts.credits,
                 resource.max_hours_per_week * 60 if has_quota and resource.max_hours_per_week else None,
                 facts.quota_used, status, facts, startup, cohort)


def create_booking(session: Session, org: Organisation, resource: Resource, user: User, starts_at: datetime,
                   ends_at: datetime, *, is_staff: bool = False, note: str = "", now: datetime | None = None,
                   share: Any = None) -> Booking:
    """``org`` owns the resource. With ``share``, a member of the partner organisation books it. What
    it charges is ``quote_booking``'s answer."""
    now = now or utcnow()
    offer = quote_booking(session, org, resource, user, starts_at, ends_at, is_staff=is_staff, now=now,
                          share=share, lock=True)
    startup, cohort, facts, status = offer.startup, offer.cohort, offer.facts, offer.status
    blocked_until = ends_at + resource.buffer
    if status == BookingStatus.AWAITING_PAYMENT:
        _check_hold(session, org, resource, user, (starts_at, blocked_until), now)
    booking = Booking(org_id=org.id, resource_id=resource.id, user_id=user.id,
                      startup_id=startup.id if startup else None, starts_at=starts_at, ends_at=ends_at,
                      blocked_until=blocked_until, status=status, credit_minutes=offer.credit_minutes,
                      price=offer.price, currency=org.currency, note=note.replace("\x00", "")[:500],
                      partner_org_id=share.partner_org_id if share is not None else None,
                      hold_expires_at=now + timedelta(minutes=HOLD_MINUTES)
                      if status == BookingStatus.AWAITING_PAYMENT else None)
    booking = _insert(session, booking, now)
    if offer.credit_minutes and startup is not None and cohort is not None:
        session.add(LedgerEntry(org_id=org.id, startup_id=startup.id, cohort_id=cohort.id,
                                resource_kind=resource.kind, minutes=-offer.credit_minutes, booking_id=booking.id,
                                kind=LedgerKind.CREDIT_USE))
    session.flush()
    if status == BookingStatus.CONFIRMED and facts.subscribed:  # no subscription in the organisation: no lookup
        emit_for(booking, "booking.confirmed", *WEBHOOK_FIELDS)
    return booking


def _check_hold(session: Session, org: Organisation, resource: Resource, user: User,
                during: tuple[datetime, datetime], now: datetime) -> None:
    """A hold is capped per person, and not renewable. A time that is taken is answered as taken first,
    as ever: looked up only when a hold rule refuses."""
    from incubator.booking import access

    try:
        access.check_holds(session, org, user, now)
        access.check_renewal(session, resource, user, *during, now)
    except Conflict:
        if session.execute(select(Booking.id).where(Booking.resource_id == resource.id, holds_slot(now),
                                                    *overlapping(*during)).limit(1)).first():
            raise _slot_taken() from None
        raise


def _slot_taken() -> SlotTaken:
    return SlotTaken(_("This time is already booked."), fields={"starts_at": _("This time is already booked.")})


def _insert(session: Session, booking: Booking, now: datetime) -> Booking:
    """Insert ``booking`` and answer the row in the session; the database refuses an overlap. A hold that
    ran out still counts there until it is released, so on a refusal the overlapping ones are released
    and the insert tried once more."""
    inserted = _inserted_pg if session.get_bind().dialect.name == "postgresql" else _inserted
    row = inserted(session, booking)
    if row is None and expire_holds(session, booking.resource_id, now,
                                    during=(booking.starts_at, booking.blocked_until)):
        row = inserted(session, booking)
    if row is None:
        raise _slot_taken()
    return row


def _inserted(session: Session, booking: Booking) -> Booking | None:
    """The booking if the insert went through: in a savepoint, so a refused overlap rolls back only
    itself (SQLite's triggers raise, which ``ON CONFLICT`` does not turn into nothing)."""
    try:
        with session.begin_nested():
            session.add(booking)
    except IntegrityError as exc:
        if OVERLAP_CONSTRAINT not in str(exc.orig):
            raise
        return None
    return booking


def _inserted_pg(session: Session, booking: Booking) -> Booking | None:
    """PostgreSQL: ``INSERT ... ON CONFLICT DO NOTHING RETURNING``, one round trip and no savepoint.
    Without a conflict target DO NOTHING covers the exclusion constraint too (the bookings' only other
    unique constraint is the primary key): no row back means the time is taken. The row comes back as
    a loaded ``Booking`` in the session, with its defaults."""
    check_new_row(session, booking)  # what ``before_flush`` checks of a new row
    values = {attr.key: booking.__dict__[attr.key] for attr in inspect(Booking).column_attrs
              if attr.key in booking.__dict__}
    stmt = pg_insert(Booking).values(**values).on_conflict_do_nothing().returning(Booking)
    return session.scalars(stmt).first()


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
                          day=formatting.date_(start.astimezone(zone).date()), reason=error.message),
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

