"""Demo lab: the EIU Fablab of bbi, with trainings, certifications and a few weeks of bookings."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from incubator.accounts.models import User
from incubator.booking.models import (
    Booking,
    BookingStatus,
    Certification,
    Closure,
    Lab,
    OpeningHours,
    Resource,
    Training,
    WaitlistEntry,
)
from incubator.cohorts.models import ResourceKind, Startup
from incubator.ledger.models import LedgerEntry, LedgerKind
from incubator.orgs.models import Organisation

SAIGON = ZoneInfo("Asia/Ho_Chi_Minh")

# name, kind, training, price per hour (VND), open 24h, slot, max minutes
RESOURCES = [
    ("Laser cutter (Trotec Speedy 400)", ResourceKind.MACHINE, "laser", 200_000, False, 30, 240),
    ("3D printer 1 (Prusa MK4)", ResourceKind.MACHINE, "printer", 50_000, True, 60, 24 * 60),
    ("3D printer 2 (Prusa MK4)", ResourceKind.MACHINE, "printer", 50_000, True, 60, 24 * 60),
    ("3D printer 3 (Bambu X1)", ResourceKind.MACHINE, "printer", 60_000, True, 60, 24 * 60),
    ("CNC router (ShopBot)", ResourceKind.MACHINE, "cnc", 300_000, False, 60, 240),
    ("Electronics bench A", ResourceKind.BENCH, None, 30_000, False, 30, 480),
    ("Electronics bench B", ResourceKind.BENCH, None, 30_000, False, 30, 480),
    ("Meeting room Đồng Nai", ResourceKind.ROOM, None, 100_000, False, 30, 240),
    ("Meeting room Sài Gòn", ResourceKind.ROOM, None, 150_000, False, 30, 240),
]


def seed(session: Session, org: Organisation, founder: User, manager: User, today: date) -> None:
    if session.execute(select(Lab.id).where(Lab.org_id == org.id)).first():
        return
    lab = Lab(org_id=org.id, name="EIU Fablab", site="Eastern International University, Thủ Dầu Một",
              description="Laser cutting, 3D printing, CNC and electronics for BBI startups.")
    trainings = {
        "laser": Training(org_id=org.id, name="Laser cutter safety", validity_months=12),
        "printer": Training(org_id=org.id, name="3D printer basics", validity_months=24),
        "cnc": Training(org_id=org.id, name="CNC router safety", validity_months=12),
    }
    session.add_all([lab, *trainings.values()])
    resources = []
    for name, kind, training, price, open_24h, slot, max_minutes in RESOURCES:
        resource = Resource(org_id=org.id, lab=lab, name=name, kind=kind, open_24h=open_24h, slot_minutes=slot,
                            min_minutes=slot, max_minutes=max_minutes, buffer_minutes=15 if training == "laser" else 0,
                            max_days_ahead=60, min_notice_minutes=60, max_hours_per_week=20 if training else None,
                            training=trainings[training] if training else None, price_member=price,
                            price_partner=price * 3 // 2, price_external=price * 2,
                            needs_approval=training == "cnc")
        resource.hours = [OpeningHours(org_id=org.id, weekday=d, opens=time(8), closes=time(20)) for d in range(5)] \
            + [OpeningHours(org_id=org.id, weekday=5, opens=time(8), closes=time(12))]
        session.add(resource)
        resources.append(resource)
    # The CNC router's maintenance next Saturday morning, and founder@bbi waiting for it the Monday after
    # (they are not certified for it yet, so it is never offered to them until they are).
    saturday = today + timedelta(days=(5 - today.weekday()) % 7 or 7)
    cnc = resources[4]
    session.flush()
    session.add_all([
        Closure(org_id=org.id, resource_id=cnc.id, reason="Spindle maintenance", maintenance=True,
                starts_at=datetime.combine(saturday, time(8), SAIGON).astimezone(UTC),
                ends_at=datetime.combine(saturday, time(12), SAIGON).astimezone(UTC)),
        WaitlistEntry(org_id=org.id, resource_id=cnc.id, user_id=founder.id,
                      starts_at=datetime.combine(saturday + timedelta(days=2), time(9), SAIGON).astimezone(UTC),
                      ends_at=datetime.combine(saturday + timedelta(days=2), time(11), SAIGON).astimezone(UTC))])
    for key in ("laser", "printer"):  # not for the CNC router
        session.add(Certification(org_id=org.id, training=trainings[key], user_id=founder.id,
                                  certified_on=today - timedelta(days=60), expires_on=today + timedelta(days=300),
                                  certified_by_id=manager.id))
    session.flush()
    startup = session.execute(select(Startup).where(Startup.org_id == org.id, Startup.name == "AgriSense BD")
                              ).scalar_one_or_none()
    cohort = startup.enrolments[0].cohort if startup is not None and startup.enrolments else None
    # A few weeks of bookings around today, on weekdays between 9:00 and 17:00.
    monday = today - timedelta(days=today.weekday() + 14)
    plan = [(0, 9, 2, 0), (1, 14, 3, 5), (2, 10, 1, 7), (3, 9, 4, 1), (4, 13, 2, 5), (7, 9, 2, 0), (8, 10, 3, 7),
            (9, 14, 2, 1), (10, 9, 1, 8), (14, 9, 2, 0), (15, 13, 2, 5), (16, 10, 2, 7), (17, 9, 3, 1),
            (21, 14, 2, 0), (22, 9, 1, 7), (23, 10, 2, 5)]
    for offset, hour, hours, index in plan:
        day = monday + timedelta(days=offset)
        if day.weekday() > 4:
            continue
        resource = resources[index]
        starts = datetime.combine(day, time(hour), SAIGON).astimezone(UTC)
        ends = starts + timedelta(hours=hours)
        past = day < today
        by_founder = index in (0, 1, 5, 7)
        credited = by_founder and startup is not None and resource.kind in (ResourceKind.MACHINE, ResourceKind.BENCH)
        booking = Booking(
            org_id=org.id, resource=resource, user_id=founder.id if by_founder else manager.id,
            startup_id=startup.id if by_founder and startup else None, starts_at=starts, ends_at=ends,
            blocked_until=ends + resource.buffer, credit_minutes=hours * 60 if credited else 0,
            price=resource.price_member * hours if by_founder and not credited else 0,
            status=BookingStatus.COMPLETED if past else BookingStatus.CONFIRMED, currency=org.currency)
        session.add(booking)
        if credited and startup is not None and cohort is not None:
            session.flush()
            session.add(LedgerEntry(org_id=org.id, startup_id=startup.id, cohort_id=cohort.id,
                                    resource_kind=resource.kind, minutes=-hours * 60, booking_id=booking.id,
                                    kind=LedgerKind.CREDIT_USE))
    session.flush()


def seed_shared(session: Session, owner: Organisation, partner: Organisation, partner_user: User,
                today: date) -> None:
    """TDMU's techlab shares its injection moulding machine with BBI, at the partner rate; BBI shares its
    second electronics bench with TDMU, with its approval."""
    from incubator.booking.models import ResourceShare

    if session.execute(select(Lab.id).where(Lab.org_id == owner.id)).first():
        return
    lab = Lab(org_id=owner.id, name="TDMU Techlab", site="Thu Dau Mot University, building C")
    machine = Resource(org_id=owner.id, lab=lab, name="Injection moulding machine (Arburg)",
                       kind=ResourceKind.MACHINE, slot_minutes=60, min_minutes=60, max_minutes=480,
                       max_days_ahead=60, min_notice_minutes=24 * 60, price_member=400_000,
                       price_partner=600_000, price_external=900_000)
    machine.hours = [OpeningHours(org_id=owner.id, weekday=d, opens=time(8), closes=time(17)) for d in range(5)]
    session.add_all([lab, machine])
    session.flush()
    session.add(ResourceShare(org_id=owner.id, resource_id=machine.id, partner_org_id=partner.id))
    bench = session.execute(select(Resource).where(Resource.org_id == partner.id,
                                                   Resource.name == "Electronics bench B")).scalar_one_or_none()
    if bench is not None:
        session.add(ResourceShare(org_id=partner.id, resource_id=bench.id, partner_org_id=owner.id,
                                  needs_approval=True))
    monday = today - timedelta(days=today.weekday())
    for offset, hours in ((-6, 3), (-4, 2), (8, 4)):
        day = monday + timedelta(days=offset)
        starts = datetime.combine(day, time(9), SAIGON).astimezone(UTC)
        ends = starts + timedelta(hours=hours)
        session.add(Booking(org_id=owner.id, resource=machine, user_id=partner_user.id, partner_org_id=partner.id,
                            starts_at=starts, ends_at=ends, blocked_until=ends, price=600_000 * hours,
                            currency=owner.currency,
                            status=BookingStatus.COMPLETED if day < today else BookingStatus.CONFIRMED))
    session.flush()
