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
    model = Model(session, org, founder, printer, base, fake)
    for step in sequence:
        getattr(model, step[0])(*step[1:])
        _check(session, org, founder, model.balance, model.bookings)


class Model:
    """The sequence run through the services, each step's answer checked against what the model expects."""

    def __init__(self, session, org, founder, printer, base, fake) -> None:
        self.session, self.org, self.founder, self.printer, self.base, self.fake = (
            session, org, founder, printer, base, fake)
        self.balance = INCLUDED
        self.bookings: list[Expected] = []
        self.taken: set[int] = set()  # slots with an active booking
        self.released_unpaid: set[int] = set()  # slots whose hold was cancelled unpaid: not to be held again soon

    def pick(self, index: int) -> Expected | None:  # 0 the latest booking, 1 the one before, ...
        return self.bookings[-1 - index % len(self.bookings)] if self.bookings else None

    def book(self, slot: int, hours: int) -> None:
        start = self.base + timedelta(hours=5 * slot)
        credit = min(hours * 60, self.balance)
        price = math.ceil((hours * 60 - credit) * RATE / 60)
        holds = sum(1 for b in self.bookings if b.status == "awaiting")
        # A new hold is refused past the cap, and where this person let a hold go unpaid (booking/access.py).
        refusal = None if slot in self.taken or not price else (
            "too_many_holds" if holds >= MAX_HOLDS else "hold_renewal" if slot in self.released_unpaid else None)
        try:
            booking = booking_services.create_booking(self.session, self.org, self.printer, self.founder, start,
                                                      start + timedelta(hours=hours))
        except SlotTaken:
            assert slot in self.taken
            return
        except DomainError as error:
            assert error.code == refusal, (error.code, refusal)
            return
        assert slot not in self.taken and refusal is None
        self.balance -= credit
        assert (booking.credit_minutes, booking.price) == (credit, price)
        self.bookings.append(Expected(booking.id, slot, start, credit, price, "awaiting" if price else "confirmed"))
        self.taken.add(slot)

    def cancel(self, index: int, in_policy: bool) -> None:
        if (expected := self.pick(index)) is None:
            return
        booking = self.session.get(booking_services.Booking, expected.booking_id)
        now = expected.start - (timedelta(hours=48) if in_policy else timedelta(hours=1))
        try:
            booking_services.cancel_booking(self.session, booking, self.founder, False, now=now)
        except DomainError as error:
            assert expected.status == "cancelled" and error.code == "not_cancellable"
            return
        assert expected.status != "cancelled"
        if expected.status == "awaiting":
            self.released_unpaid.add(expected.slot)
        if in_policy:
            self.balance += expected.credit
            expected.refunded = expected.paid  # a paid booking cancelled in time is refunded in full
        expected.status = "cancelled"
        self.taken.discard(expected.slot)

    def pay(self, index: int) -> None:
        if (expected := self.pick(index)) is None:
            return
        booking = self.session.get(booking_services.Booking, expected.booking_id)
        try:
            payment = services.checkout_booking(self.session, self.org, booking, self.founder,
                                                success_url=lambda _i: "http://x/ok", cancel_url="http://x/no")
        except DomainError:
            assert expected.status != "awaiting" or expected.paid
            return
        assert expected.status == "awaiting" and not expected.paid
        self.fake.complete(payment.checkout_session_id)
        services.sync(self.session, payment)
        services.sync(self.session, payment)  # a repeated delivery changes nothing
        expected.paid, expected.status = expected.price, "confirmed"

    def refund(self, index: int) -> None:
        if (expected := self.pick(index)) is None:
            return
        payment = self.session.execute(select(Payment).where(Payment.booking_id == expected.booking_id)
                                       ).scalar_one_or_none()
        if payment is None or not payment.is_settled:
            assert not expected.paid
            return
        services.refund(self.session, payment)
        services.sync(self.session, payment)  # the refund's webhook: recorded once
        expected.refunded = expected.paid


def _check(session, org, founder, balance, bookings):
    startup, cohort = booking_credits.active_startup(session, org, founder)
    actual = booking_credits.credit_balance(session, startup, cohort, ResourceKind.MACHINE)
    assert actual >= 0
    assert actual == balance
    money = dict(session.execute(select(LedgerEntry.booking_id, func.sum(LedgerEntry.amount))
                                 .where(LedgerEntry.kind.in_(MONEY_KINDS)).group_by(LedgerEntry.booking_id)).all())
    for expected in bookings:
        assert money.get(expected.booking_id, 0) == expected.paid - expected.refunded, expected
