"""Cohort lab credits and prices: which startup a founder books for, its credit balance, what a booking
costs (credits first, then the member rate), and giving credits back."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from incubator.accounts.models import User
from incubator.booking.models import Booking, Resource
from incubator.cohorts.models import Cohort, CohortLabCredit, Enrolment, EnrolmentStatus, Startup
from incubator.ledger.models import LedgerEntry, LedgerKind
from incubator.orgs.models import Organisation


@dataclass
class Quote:
    minutes: int
    credit_minutes: int
    price: int  # minor units
    cohort: Cohort | None


def active_startup(session: Session, org: Organisation, user: User,
                   lock: bool = False) -> tuple[Startup | None, Cohort | None]:
    """The startup a founder books for, with its active cohort (whose credits apply).

    With ``lock``, the startup's row is locked by the same statement, until the transaction ends: the
    rules that count across a startup's rows (weekly quota, credit balance) then run one booking at a
    time per startup. On PostgreSQL ``FOR NO KEY UPDATE OF startups``, so that rows referencing it can
    still be inserted; SQLite's write transactions (``BEGIN IMMEDIATE``) already run one at a time, and
    it ignores the clause."""
    from incubator.cohorts.models import StartupFounder

    stmt = (select(Startup, Cohort).join(StartupFounder, StartupFounder.startup_id == Startup.id)
            .join(Enrolment, Enrolment.startup_id == Startup.id).join(Cohort, Cohort.id == Enrolment.cohort_id)
            .where(Startup.org_id == org.id, StartupFounder.user_id == user.id,
                   Enrolment.status == EnrolmentStatus.ACTIVE).order_by(Cohort.starts_on.desc()).limit(1))
    if lock:
        stmt = stmt.with_for_update(key_share=True, of=Startup)
    row = session.execute(stmt).first()
    return (row[0], row[1]) if row else (None, None)


def credit_balance_sql(startup: Startup, cohort: Cohort, kind: str) -> Any:
    """Minutes of ``kind`` the startup still has, as one SQL expression: included hours minus what the
    ledger says was used."""
    included = select(CohortLabCredit.hours).where(
        CohortLabCredit.cohort_id == cohort.id, CohortLabCredit.resource_kind == kind).scalar_subquery()
    moved = select(func.coalesce(func.sum(LedgerEntry.minutes), 0)).where(
        LedgerEntry.startup_id == startup.id, LedgerEntry.cohort_id == cohort.id,
        LedgerEntry.resource_kind == kind).scalar_subquery()
    return func.coalesce(included, 0) * 60 + moved


def credit_balance(session: Session, startup: Startup, cohort: Cohort, kind: str) -> int:
    """Minutes of ``kind`` the startup still has (one statement)."""
    return int(session.execute(select(credit_balance_sql(startup, cohort, kind))).scalar_one())


def quote(session: Session, resource: Resource, startup: Startup | None, cohort: Cohort | None,
          minutes: int, is_staff: bool, partner: bool = False, credits: int | None = None) -> Quote:
    """Credits first, then the member rate for the rest (staff book for free, partners pay their rate).
    ``credits``: the startup's balance when the caller has read it already."""
    if is_staff:
        return Quote(minutes, 0, 0, None)
    if partner:
        return Quote(minutes, 0, math.ceil(minutes * resource.price_partner / 60), None)
    if credits is None:
        credits = credit_balance(session, startup, cohort, resource.kind) if startup and cohort else 0
    credit_minutes = max(0, min(minutes, credits))
    rate = resource.price_member if cohort is not None else resource.price_external
    price = math.ceil((minutes - credit_minutes) * rate / 60)
    return Quote(minutes, credit_minutes, price, cohort)



def refund_credits(session: Session, *bookings: Booking) -> None:
    """Give back the credit minutes of ``bookings``: one credit return per booking that used credits,
    with the debit's startup, cohort and kind (the debits of all of them read in one statement)."""
    using = {b.id: b for b in bookings if b.credit_minutes and b.startup_id is not None}
    if not using:
        return
    debits = session.execute(select(LedgerEntry).where(LedgerEntry.booking_id.in_(using),
                                                       LedgerEntry.kind == LedgerKind.CREDIT_USE)
                             .order_by(LedgerEntry.id)).scalars().all()
    first: dict[int | None, LedgerEntry] = {}
    for debit in debits:
        first.setdefault(debit.booking_id, debit)
    for booking_id, used in first.items():
        booking = using[booking_id] if booking_id is not None else None
        if booking is not None:
            session.add(LedgerEntry(org_id=booking.org_id, startup_id=used.startup_id, cohort_id=used.cohort_id,
                                    resource_kind=used.resource_kind, minutes=booking.credit_minutes,
                                    booking_id=booking.id, kind=LedgerKind.CREDIT_RETURN))
