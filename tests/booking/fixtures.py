from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from incubator.booking.models import Certification, Lab, OpeningHours, Resource, Training
from incubator.cohorts.models import CohortLabCredit, ResourceKind
from incubator.core.db import utcnow

SAIGON = ZoneInfo("Asia/Ho_Chi_Minh")


def next_weekday_at(weekday: int, hour: int, minute: int = 0, weeks: int = 1) -> datetime:
    """A time on a coming weekday (0 Monday) in Saigon, at least a few days ahead."""
    today = utcnow().astimezone(SAIGON).date()
    day = today + timedelta(days=(weekday - today.weekday()) % 7 + 7 * (weeks - 1))
    if day <= today + timedelta(days=1):
        day += timedelta(days=7)
    return datetime.combine(day, time(hour, minute), SAIGON).astimezone(UTC)


@dataclass
class Fablab:
    lab: Lab
    laser: Resource  # needs training, 15 min buffer, member price 200,000/h
    printer: Resource  # open around the clock
    room: Resource  # no training, no credits: paid
    training: Training


@pytest.fixture()
def fablab(world, session) -> Fablab:
    org = world.org
    lab = Lab(org_id=org.id, name="EIU Fablab")
    training = Training(org_id=org.id, name="Laser cutter safety")

    def resource(name: str, kind: str, **options) -> Resource:
        r = Resource(org_id=org.id, lab=lab, name=name, kind=kind, slot_minutes=30, min_minutes=30,
                     max_minutes=240, min_notice_minutes=60, max_days_ahead=30, **options)
        r.hours = [OpeningHours(org_id=org.id, weekday=d, opens=time(8), closes=time(20)) for d in range(5)]
        session.add(r)
        return r

    laser = resource("Laser cutter", ResourceKind.MACHINE, training=training, buffer_minutes=15,
                     price_member=200_000, max_hours_per_week=4)
    printer = resource("3D printer", ResourceKind.MACHINE, open_24h=True, price_member=50_000)
    printer.max_minutes = 24 * 60
    room = resource("Meeting room", ResourceKind.ROOM, price_member=100_000)
    session.add_all([lab, training,
                     CohortLabCredit(org_id=org.id, cohort=world.cohort, resource_kind=ResourceKind.MACHINE, hours=3),
                     Certification(org_id=org.id, training=training, user_id=world.founder.id,
                                   certified_on=utcnow().date() - timedelta(days=10),
                                   expires_on=utcnow().date() + timedelta(days=200))])
    session.flush()
    return Fablab(lab, laser, printer, room, training)


@dataclass
class RaceLab:
    """Committed data for live races: ids only (the rows belong to the session that made them)."""
    org_slug: str
    org_id: int
    startup_id: int
    cohort_id: int
    founder: object
    resources: dict[str, int]


def race_lab(s, *, slug: str, bench_credit_hours: int = 0, quota_hours: int | None = None,
             room_price: int = 0, account: str | None = None) -> RaceLab:
    """An organisation with a cohort, one startup and its founder, and a lab open around the clock with
    a bench (cohort credits), a room (a weekly quota per startup, priced at ``room_price`` per hour);
    ``account``: its connected Stripe account. Written with the factories through ``s``."""
    from incubator.core.permissions import Role
    from incubator.payments.models import PaymentAccount
    from tests.cohorts.fixtures import THIS_MONTH, add_months
    from tests.factories import CohortFactory, OrgFactory, ProgrammeFactory, enrolled, member

    org = OrgFactory(slug=slug, currency="VND")
    cohort = CohortFactory(programme=ProgrammeFactory(org_id=org.id), org_id=org.id,
                           starts_on=add_months(THIS_MONTH, -6), ends_on=add_months(THIS_MONTH, 6))
    founder = member(org, Role.FOUNDER)
    startup = enrolled(cohort, founder)
    lab = Lab(org_id=org.id, name="Race lab")

    def resource(name: str, kind: str, **options) -> Resource:
        r = Resource(org_id=org.id, lab=lab, name=name, kind=kind, open_24h=True, slot_minutes=30, min_minutes=30,
                     max_minutes=240, min_notice_minutes=0, max_days_ahead=30, free_cancellation_hours=24,
                     **options)
        s.add(r)
        return r

    bench = resource("Electronics bench", ResourceKind.BENCH)
    room = resource("Meeting room", ResourceKind.ROOM, max_hours_per_week=quota_hours, price_member=room_price)
    s.add(lab)
    if bench_credit_hours:
        s.add(CohortLabCredit(org_id=org.id, cohort=cohort, resource_kind=ResourceKind.BENCH,
                              hours=bench_credit_hours))
    if account:
        s.add(PaymentAccount(org_id=org.id, stripe_account_id=account))
    s.flush()
    return RaceLab(org.slug, org.id, startup.id, cohort.id, founder, {"bench": bench.id, "room": room.id})
