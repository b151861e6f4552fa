"""Property test of money and credits: random sequences of bookings beyond the credits, cancellations in
and out of policy, payments and refunds, run through the services, checked after every step against
a model computed from the sequence alone (not from our rows).

* the credit balance never goes negative, and equals the included minutes less what the model says
  the bookings used and were given back;
* each booking's money in the ledger equals what was paid for it less what was refunded;
* a new hold is refused exactly when the model says so: past the cap of holds per person, or on a
  time whose hold this person cancelled unpaid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from incubator.booking import credits as booking_credits
from incubator.booking import services as booking_services
from incubator.booking.services import SlotTaken
from incubator.cohorts.models import ResourceKind
from incubator.core.errors import DomainError
from incubator.core.jobs import AFTER_COMMIT_KEY
from incubator.ledger.models import MONEY_KINDS, LedgerEntry, Payment
from incubator.payments import services
from tests.booking.fixtures import next_weekday_at

SLOTS = 6  # slot i starts 5 hours after slot i-1; bookings last 1 to 4 hours, so distinct slots never overlap
RATE = 50_000  # the printer's member rate per hour
INCLUDED = 3 * 60  # the cohort's machine credits (tests/booking/fixtures.py)
MAX_HOLDS = 3  # MAX_HOLDS_PER_USER's default

steps = st.lists(st.one_of(
    st.tuples(st.just("book"), st.integers(0, SLOTS - 1), st.integers(1, 4)),
    st.tuples(st.just("cancel"), st.integers(0, 3), st.booleans()),  # which booking, in policy or not
    st.tuples(st.just("pay"), st.integers(0, 3)),
    st.tuples(st.just("refund"), st.integers(0, 3)),
), min_size=1, max_size=14)


@dataclass
class Expected:
    """What the model says of one booking."""
    booking_id: int
    slot: int
    start: object
    credit: int
    price: int
    status: str  # awaiting | confirmed | cancelled
    paid: int = 0
    refunded: int = 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=steps)
def test_credits_and_money_follow_the_sequence(app, session, paying, fablab, fake, sequence):
    org, founder, printer = paying.org, paying.founder, fablab.printer
    base = next_weekday_at(0, 8)
    with app.app_context():
        savepoint = session.begin_nested()  # each example starts from the same world
        try:
            _run(session, org, founder, printer, base, fake, sequence)
        finally:
            savepoint.rollback()
            session.info.pop(AFTER_COMMIT_KEY, None)  # receipts that would be mailed on a commit


def _run(session, org, founder, printer, base, fake, sequence):
    balance = INCLUDED
    bookings: list[Expected] = []
    taken: set[int] = set()  # slots with an active booking
    released_unpaid: set[int] = set()  # slots whose hold was cancelled unpaid: not to be held again soon

    def pick(index: int) -> Expected | None:  # 0 the latest booking, 1 the one before, ...
        return bookings[-1 - index % len(bookings)] if bookings else None

    for step in sequence:
        kind = step[0]
        if kind == "book":
            _kind, slot, hours = step
            start = base + timedelta(hours=5 * slot)
            credit = min(hours * 60, balance)
            price = math.ceil((hours * 60 - credit) * RATE / 60)
            holds = sum(1 for b in bookings if b.status == "awaiting")
            # A new hold is refused past the cap, and where this person let a hold go unpaid (booking/access.py).
            refusal = None if slot in taken or not price else (
                "too_many_holds" if holds >= MAX_HOLDS else "hold_renewal" if slot in released_unpaid else None)
            try:
                booking = booking_services.create_booking(session, org, printer, founder, start,
                                                          start + timedelta(hours=hours))
            except SlotTaken:
                assert slot in taken
                continue
            except DomainError as error:
                assert error.code == refusal, (error.code, refusal)
                continue
            assert slot not in taken and refusal is None
            balance -= credit
            assert (booking.credit_minutes, booking.price) == (credit, price)
            bookings.append(Expected(booking.id, slot, start, credit, price,
                                     "awaiting" if price else "confirmed"))
            taken.add(slot)
        elif kind == "cancel" and (expected := pick(step[1])) is not None:
            in_policy = step[2]
            booking = session.get(booking_services.Booking, expected.booking_id)
            now = expected.start - (timedelta(hours=48) if in_policy else timedelta(hours=1))
            try:
                booking_services.cancel_booking(session, booking, founder, False, now=now)
            except DomainError as error:
                assert expected.status == "cancelled" and error.code == "not_cancellable"
                continue
            assert expected.status != "cancelled"
            if expected.status == "awaiting":
                released_unpaid.add(expected.slot)
            if in_policy:
                balance += expected.credit
                expected.refunded = expected.paid  # a paid booking cancelled in time is refunded in full
            expected.status = "cancelled"
            taken.discard(expected.slot)
        elif kind == "pay" and (expected := pick(step[1])) is not None:
            booking = session.get(booking_services.Booking, expected.booking_id)
            try:
                payment = services.checkout_booking(session, org, booking, founder, success_url=lambda _i: "http://x/ok",
                                                    cancel_url="http://x/no")
            except DomainError:
                assert expected.status != "awaiting" or expected.paid
                continue
            assert expected.status == "awaiting" and not expected.paid
            fake.complete(payment.checkout_session_id)
            services.sync(session, payment)
            services.sync(session, payment)  # a repeated delivery changes nothing
            expected.paid, expected.status = expected.price, "confirmed"
        elif kind == "refund" and (expected := pick(step[1])) is not None:
            payment = session.execute(select(Payment).where(Payment.booking_id == expected.booking_id)
                                      ).scalar_one_or_none()
            if payment is None or not payment.is_settled:
                assert not expected.paid
                continue
            services.refund(session, payment)
            services.sync(session, payment)  # the refund's webhook: recorded once
            expected.refunded = expected.paid
        _check(session, org, founder, balance, bookings)


def _check(session, org, founder, balance, bookings):
    startup, cohort = booking_credits.active_startup(session, org, founder)
    actual = booking_credits.credit_balance(session, startup, cohort, ResourceKind.MACHINE)
    assert actual >= 0
    assert actual == balance
    money = dict(session.execute(select(LedgerEntry.booking_id, func.sum(LedgerEntry.amount))
                                 .where(LedgerEntry.kind.in_(MONEY_KINDS)).group_by(LedgerEntry.booking_id)).all())
    for expected in bookings:
        assert money.get(expected.booking_id, 0) == expected.paid - expected.refunded, expected
