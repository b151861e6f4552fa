"""Known data for the report tests, in 2025 (a closed year), with everything the expected values need
recorded in plain Python so that the tests compute them independently of the report code.

* Incubator A (slug ``inc-a``): cohort A1 (programme P1) with s1 (registration R1, S&T, active),
  s2 (no number, graduated) and s3 (withdrawn); cohort A2 (programme P2) with s4.
* Incubator B (``inc-b``): cohort B1 with s1b (registration R1 again: the same company) and s5.
* ``dost`` (a state agency) funds A1 and B1; a funder member of A funds A1 only.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest

from incubator.booking.models import Booking, BookingStatus, Lab, Resource
from incubator.cohorts.models import (
    STANDARD_KPIS,
    CheckIn,
    CohortFunder,
    Enrolment,
    EnrolmentStatus,
    Milestone,
    MilestoneStatus,
    ResourceKind,
    Startup,
)
from incubator.core.permissions import Role
from incubator.ledger.models import LedgerEntry, LedgerKind
from incubator.mentoring.models import Match, MatchStatus, MentorProfile, MentorSession, SessionStatus
from incubator.orgs.models import OrgKind
from tests.factories import CohortFactory, OrgFactory, ProgrammeFactory, member

YEAR = 2025
MONTHS = [date(YEAR, m, 1) for m in range(1, 13)]
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class ReportWorld:
    a: object
    b: object
    dost: object
    a1: object
    a2: object
    b1: object
    startups: dict[str, Startup]
    enrolments: dict[str, tuple[str, str]]  # startup -> (cohort, status)
    checkins: list[dict] = field(default_factory=list)  # every check-in: startup, period, updated_at, values
    sessions: list[dict] = field(default_factory=list)
    bookings: list[dict] = field(default_factory=list)
    ledger: list[dict] = field(default_factory=list)  # money rows: booking (index in bookings) or None, amount
    milestones: list[dict] = field(default_factory=list)
    manager_a: object = None
    funder_a: object = None
    funder_dost: object = None
    manager_b: object = None
    founder_a: object = None


def _startup(session, org, name, number=None, st=False) -> Startup:
    startup = Startup(org_id=org.id, name=name, registration_number=number, is_st_enterprise=st)
    session.add(startup)
    session.flush()
    return startup


@pytest.fixture()
def rw(session) -> ReportWorld:
    a = OrgFactory(slug="inc-a", name="Incubator A")
    b = OrgFactory(slug="inc-b", name="Incubator B")
    dost = OrgFactory(slug="dost", name="Department of Science", kind=OrgKind.STATE_AGENCY)
    p1, p2 = ProgrammeFactory(org_id=a.id, name="P1"), ProgrammeFactory(org_id=a.id, name="P2")
    a1 = CohortFactory(programme=p1, org_id=a.id, name="A1", starts_on=date(YEAR, 1, 1), ends_on=date(YEAR, 12, 31))
    a2 = CohortFactory(programme=p2, org_id=a.id, name="A2", starts_on=date(YEAR, 1, 1), ends_on=date(YEAR, 12, 31))
    b1 = CohortFactory(programme=ProgrammeFactory(org_id=b.id, name="PB"), org_id=b.id, name="B1",
                       starts_on=date(YEAR, 1, 1), ends_on=date(YEAR, 12, 31))
    startups = {
        "s1": _startup(session, a, "Alpha", "R1", st=True), "s2": _startup(session, a, "Beta"),
        "s3": _startup(session, a, "Gamma", "R3"), "s4": _startup(session, a, "Delta", "R4", st=True),
        "s1b": _startup(session, b, "Alpha (B)", "r1 "), "s5": _startup(session, b, "Epsilon", "R5"),
    }
    cohorts = {"A1": a1, "A2": a2, "B1": b1}
    enrolments = {"s1": ("A1", EnrolmentStatus.ACTIVE), "s2": ("A1", EnrolmentStatus.GRADUATED),
                  "s3": ("A1", EnrolmentStatus.WITHDRAWN), "s4": ("A2", EnrolmentStatus.ACTIVE),
                  "s1b": ("B1", EnrolmentStatus.GRADUATED), "s5": ("B1", EnrolmentStatus.ACTIVE)}
    for key, (cohort, status) in enrolments.items():
        session.add(Enrolment(org_id=cohorts[cohort].org_id, cohort=cohorts[cohort], startup=startups[key],
                              enrolled_on=date(YEAR, 1, 1), status=status))
    world = ReportWorld(a, b, dost, a1, a2, b1, startups, enrolments)
    world.manager_a, world.founder_a = member(a, Role.MANAGER), member(a, Role.FOUNDER)
    world.funder_a, world.manager_b = member(a, Role.FUNDER), member(b, Role.OWNER)
    world.funder_dost = member(dost, Role.FUNDER)
    session.add_all([CohortFunder(org_id=a.id, cohort=a1, user_id=world.funder_a.id),
                     CohortFunder(org_id=a.id, cohort=a1, funder_org_id=dost.id),
                     CohortFunder(org_id=b.id, cohort=b1, funder_org_id=dost.id)])

    rng = random.Random(8)
    checking = random.Random(9)  # its own sequence, so that the values above stay what they were
    for key, startup in startups.items():
        for month in [date(YEAR - 1, 12, 1), *MONTHS, date(YEAR + 1, 1, 1)]:  # one month either side of 2025
            if rng.random() < 0.2:
                continue  # not every month is reported
            values = {name: rng.randrange(0, 5) for name in STANDARD_KPIS}
            values["revenue"] = rng.randrange(0, 50) * 1_000_000
            values["funding_equity"] = rng.choice((0, 0, 0, 500_000_000))
            values["funding_grant"] = rng.choice((0, 0, 100_000_000))
            updated = T0 + timedelta(minutes=rng.randrange(0, 10_000))
            state = checking.choice(("reported", "reported", "verified", "locked"))
            verified_at = None if state == "reported" else T0
            session.add(CheckIn(org_id=startup.org_id, startup=startup, period=month, updated_at=updated,
                                verified_at=verified_at, locked_at=T0 if state == "locked" else None, **values))
            world.checkins.append({"startup": key, "period": month, "updated_at": updated,
                                   "verified": verified_at is not None, **values})

    mentor_user = member(a, Role.MENTOR)
    mentor = MentorProfile(org_id=a.id, user=mentor_user)
    match = Match(org_id=a.id, cohort_id=a1.id, startup_id=startups["s1"].id, mentor=mentor,
                  status=MatchStatus.ACCEPTED)
    other = Match(org_id=a.id, cohort_id=a2.id, startup_id=startups["s4"].id, mentor=mentor,
                  status=MatchStatus.ACCEPTED)
    session.add_all([mentor, match, other])
    session.flush()
    for m, when, minutes, status, rating in [
        (match, datetime(YEAR, 2, 3, 3, tzinfo=UTC), 60, SessionStatus.HELD, 5),
        (match, datetime(YEAR, 5, 3, 3, tzinfo=UTC), 90, SessionStatus.HELD, 4),
        (match, datetime(YEAR, 5, 20, 3, tzinfo=UTC), 30, SessionStatus.HELD, None),
        (match, datetime(YEAR, 6, 1, 3, tzinfo=UTC), 60, SessionStatus.SCHEDULED, None),
        (match, datetime(YEAR + 1, 1, 5, 3, tzinfo=UTC), 60, SessionStatus.HELD, 1),
        (other, datetime(YEAR, 3, 3, 3, tzinfo=UTC), 45, SessionStatus.HELD, 2),
    ]:
        session.add(MentorSession(org_id=a.id, match=m, mentor_id=mentor.id, starts_at=when,
                                  duration_minutes=minutes, status=status, rating=rating))
        world.sessions.append({"cohort": "A1" if m is match else "A2", "startup": "s1" if m is match else "s4",
                               "starts_at": when, "minutes": minutes, "status": status, "rating": rating})

    lab = Lab(org_id=a.id, name="Fablab")
    machine = Resource(org_id=a.id, lab=lab, name="Laser", kind=ResourceKind.MACHINE, price_member=100_000,
                       price_external=200_000)
    room = Resource(org_id=a.id, lab=lab, name="Room", kind=ResourceKind.ROOM, price_member=50_000)
    session.add_all([lab, machine, room])
    session.flush()
    prices = {machine.id: (100_000, 200_000), room.id: (50_000, 0)}
    kinds = {machine.id: ResourceKind.MACHINE, room.id: ResourceKind.ROOM}
    for resource, startup, day, minutes, status, credit, price in [
        (machine, "s1", 10, 60, BookingStatus.CONFIRMED, 60, 0),
        (machine, "s1", 11, 120, BookingStatus.COMPLETED, 60, 100_000),
        (machine, "s2", 12, 90, BookingStatus.CANCELLED, 0, 150_000),
        (room, "s2", 13, 60, BookingStatus.COMPLETED, 0, 50_000),
        (machine, "s4", 14, 60, BookingStatus.COMPLETED, 60, 0),
        (room, "s1", 15, 30, BookingStatus.COMPLETED, 30, 0),
    ]:
        starts = datetime(YEAR, 4, day, 2, tzinfo=UTC)
        ends = starts + timedelta(minutes=minutes)
        booking = Booking(org_id=a.id, resource_id=resource.id, user_id=world.founder_a.id,
                          startup_id=startups[startup].id, starts_at=starts, ends_at=ends, blocked_until=ends,
                          status=status, credit_minutes=credit, price=price, currency="VND")
        session.add(booking)
        session.flush()
        world.bookings.append({"id": booking.id, "startup": startup, "kind": kinds[resource.id], "minutes": minutes,
                               "status": status, "credit": credit, "price": price, "list": prices[resource.id]})
    # The money the ledger holds, which is not the bookings' prices: the paid machine booking was paid and
    # partly refunded; the cancelled one paid, refunded but for a 50,000 fee kept; the room booking with
    # a price was never paid; an application fee is money, but not the lab's.
    for index, kind, amount in [(1, LedgerKind.PAYMENT, 100_000), (1, LedgerKind.REFUND, -40_000),
                                (2, LedgerKind.PAYMENT, 150_000), (2, LedgerKind.REFUND, -100_000),
                                (None, LedgerKind.PAYMENT, 200_000)]:
        booking_id = world.bookings[index]["id"] if index is not None else None
        session.add(LedgerEntry(org_id=a.id, kind=kind, startup_id=startups["s1" if index in (1, None) else "s2"].id,
                                booking_id=booking_id, amount=amount, currency="VND"))
        world.ledger.append({"booking": index, "amount": amount})

    for startup, due, status in [("s1", date(YEAR, 3, 15), MilestoneStatus.DONE),
                                 ("s1", date(YEAR, 4, 15), MilestoneStatus.MISSED),
                                 ("s2", date(YEAR, 6, 15), MilestoneStatus.PLANNED),
                                 ("s2", date(YEAR, 7, 15), MilestoneStatus.DONE),
                                 ("s2", date(YEAR + 1, 2, 15), MilestoneStatus.DONE),
                                 ("s4", date(YEAR, 5, 1), MilestoneStatus.DONE),
                                 ("s5", date(YEAR, 5, 1), MilestoneStatus.IN_PROGRESS)]:
        session.add(Milestone(org_id=startups[startup].org_id, startup=startups[startup], title="M", due_on=due,
                              status=status))
        world.milestones.append({"startup": startup, "due_on": due, "status": status})
    session.flush()
    return world
