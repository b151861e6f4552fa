"""What *My bookings* reads: a page of the member's bookings (upcoming first, filtered by status and by
upcoming or past), the cohort's credit balances and their places in the waitlists.

A fixed number of queries whatever the number of bookings: the page's rows with their resources' names
in one query (only the columns the list shows; anything else raises instead of loading row by row),
the balances in one query (the member's startup and cohort, each kind's credits and the sum of its
ledger moves), the waitlist's first places and their count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import Session, joinedload, load_only, raiseload

from incubator.accounts.models import User
from incubator.booking.access import may_cancel, may_take
from incubator.booking.billing import Money
from incubator.booking.models import Booking, BookingStatus, Resource, WaitlistEntry
from incubator.cohorts.models import Cohort, CohortLabCredit, Enrolment, EnrolmentStatus, Startup, StartupFounder
from incubator.ledger.models import LedgerEntry
from incubator.orgs.models import Organisation

WHEN = ("upcoming", "past")  # "" is both
WAITLIST_ROWS = 20

# What the list shows of a booking (and what its money and its buttons ask).
SHOWN = (Booking.id, Booking.org_id, Booking.partner_org_id, Booking.resource_id, Booking.user_id,
         Booking.starts_at, Booking.ends_at, Booking.status, Booking.hold_expires_at, Booking.credit_minutes,
         Booking.price, Booking.currency)


def filters(args: Any) -> dict[str, str]:
    """The list's filters from the query string; anything unknown is no filter."""
    status, when = args.get("status") or "", args.get("when") or ""
    return {"status": status if status in set(BookingStatus) else "", "when": when if when in WHEN else ""}


def bookings_query(org: Organisation, user: User, chosen: dict[str, str], now: datetime) -> Select[Any]:
    """The member's bookings made through ``org`` (shared labs' included: those belong to their owners):
    the ones not over yet first, soonest first, then the past ones, latest first."""
    upcoming = Booking.ends_at > now
    stmt = select(Booking).where(Booking.user_id == user.id,
                                 or_(Booking.org_id == org.id, Booking.partner_org_id == org.id))
    if chosen["status"]:
        stmt = stmt.where(Booking.status == chosen["status"])
    if chosen["when"]:
        stmt = stmt.where(upcoming if chosen["when"] == "upcoming" else ~upcoming)
    return (stmt.options(load_only(*SHOWN, raiseload=True),
                         joinedload(Booking.resource).load_only(Resource.name, raiseload=True), raiseload("*"))
            # all_orgs: shared labs' bookings, and their resources, are their owners' rows
            .execution_options(all_orgs=True)
            .order_by(case((upcoming, 0), else_=1), case((upcoming, Booking.starts_at)),
                      Booking.starts_at.desc(), Booking.id.desc()))


@dataclass(frozen=True)
class Actions:
    """What the member may do with one booking of the list (the rules of ``booking.access``)."""

    pay: bool
    take: bool
    cancel: bool
    receipt: bool


def actions(org: Organisation, user: User, membership: Any, rows: list[Booking], money: dict[int, Money],
            now: datetime) -> dict[int, Actions]:
    """Each row's buttons, decided once in Python rather than by the template asking per row."""
    out = {}
    for booking in rows:
        paid = money[booking.id]
        out[booking.id] = Actions(
            pay=paid.payable and booking.status == BookingStatus.AWAITING_PAYMENT and booking.user_id == user.id
            and org.id in (booking.org_id, booking.partner_org_id),
            take=may_take(user, booking),
            cancel=booking.starts_at > now and may_cancel(user, membership, booking),
            receipt=paid.payment is not None and user.id == paid.payment.user_id or (
                paid.payment is not None and paid.payment.org_id == org.id))
    return out


def balances(session: Session, org: Organisation, user: User) -> dict[Any, tuple[int, int]]:
    """Per resource kind of the credits of the cohort the member books for (``credits.active_startup``'s
    startup and cohort): (minutes included, minutes left), as ``credits.credit_balance`` counts them
    (included minus the ledger's moves); empty for a member who books for no startup. One query."""
    active = (select(Enrolment.startup_id.label("startup_id"), Enrolment.cohort_id.label("cohort_id"))
              .join(Startup, Startup.id == Enrolment.startup_id)
              .join(StartupFounder, StartupFounder.startup_id == Startup.id)
              .join(Cohort, Cohort.id == Enrolment.cohort_id)
              .where(Startup.org_id == org.id, StartupFounder.user_id == user.id,
                     Enrolment.status == EnrolmentStatus.ACTIVE)
              .order_by(Cohort.starts_on.desc()).limit(1).subquery())
    moved = select(func.coalesce(func.sum(LedgerEntry.minutes), 0)).where(
        LedgerEntry.startup_id == active.c.startup_id, LedgerEntry.cohort_id == CohortLabCredit.cohort_id,
        LedgerEntry.resource_kind == CohortLabCredit.resource_kind).scalar_subquery()
    rows = session.execute(select(CohortLabCredit.resource_kind, CohortLabCredit.hours, moved)
                           .join(active, active.c.cohort_id == CohortLabCredit.cohort_id)
                           .order_by(CohortLabCredit.id)).all()
    return {kind: (hours * 60, hours * 60 + int(minutes or 0)) for kind, hours, minutes in rows}


def waiting(session: Session, org: Organisation, user: User, now: datetime) -> tuple[list[WaitlistEntry], int]:
    """The member's places still waiting in this organisation's waitlists for a time to come, soonest
    first (at most ``WAITLIST_ROWS``), and how many there are."""
    where = (WaitlistEntry.org_id == org.id, WaitlistEntry.user_id == user.id, WaitlistEntry.status == "waiting",
             WaitlistEntry.starts_at > now)
    rows = list(session.execute(select(WaitlistEntry).where(*where).options(
        joinedload(WaitlistEntry.resource).load_only(Resource.name, raiseload=True), raiseload("*"))
        .order_by(WaitlistEntry.starts_at, WaitlistEntry.id).limit(WAITLIST_ROWS)).scalars())
    total = len(rows) if len(rows) < WAITLIST_ROWS else session.execute(
        select(func.count()).select_from(WaitlistEntry).where(*where)).scalar_one()
    return rows, total
