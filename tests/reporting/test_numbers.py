"""Every headline figure against a value computed here, independently, from the fixture's own records."""

from __future__ import annotations

from datetime import date

import pytest

from incubator.booking.models import BookingStatus
from incubator.cohorts.models import EnrolmentStatus, MilestoneStatus
from incubator.mentoring.models import SessionStatus
from incubator.reporting.queries import build_report
from incubator.reporting.scope import Period, PeriodError, parse_period
from tests.reporting.fixtures import YEAR

TODAY = date(2026, 6, 1)
FLOWS = ("revenue", "jobs_created", "funding_equity", "funding_debt", "funding_grant", "products_commercialised",
         "ip_filings")


def ident(rw, key: str) -> str:
    number = rw.startups[key].registration_number
    return number.strip().upper() if number else key


def expected(rw, cohorts: set[str], start: date, end: date) -> dict:
    keys = {k for k, (cohort, _status) in rw.enrolments.items() if cohort in cohorts}
    identities = {ident(rw, k) for k in keys}
    chosen: dict[tuple[str, date], dict] = {}
    for c in rw.checkins:
        if c["startup"] in keys and start <= c["period"] < end:
            slot = (ident(rw, c["startup"]), c["period"])
            best = chosen.get(slot)
            # Verified beats unverified, then the latest updated.
            if best is None or (c["verified"], c["updated_at"]) > (best["verified"], best["updated_at"]):
                chosen[slot] = c
    result = {name: sum(c[name] for c in chosen.values()) for name in FLOWS}
    result["funding_total"] = result["funding_equity"] + result["funding_debt"] + result["funding_grant"]
    result["startups"] = len(identities)
    result["active"] = len({ident(rw, k) for k in keys if rw.enrolments[k][1] == EnrolmentStatus.ACTIVE})
    result["graduated"] = len({ident(rw, k) for k in keys if rw.enrolments[k][1] in ("graduated", "alumni")})
    result["st_enterprises"] = len({ident(rw, k) for k in keys if rw.startups[k].is_st_enterprise})
    employees = 0
    for identity in identities:
        months = sorted(p for (i, p) in chosen if i == identity)
        if months:
            employees += chosen[(identity, months[-1])]["employees_full_time"]
    result["employees"] = employees
    return result


def period(start: date, end: date, kind: str = "custom") -> Period:
    return Period(kind, start, end)


def test_headline_figures_of_one_cohort(session, rw):
    year = period(date(YEAR, 1, 1), date(YEAR + 1, 1, 1), "year")
    report = build_report(session, rw.a, [rw.a1], year, TODAY)
    assert report.headline == expected(rw, {"A1"}, year.start, year.end)
    assert report.headline["startups"] == 3 and report.headline["active"] == 1 and report.headline["graduated"] == 1
    # The monthly trend adds up to the headline, month by month as the check-ins say.
    for name in FLOWS:
        assert sum(report.trend[name]) == report.headline[name]
    march = [c for c in rw.checkins if c["period"] == date(YEAR, 3, 1) and c["startup"] in ("s1", "s2", "s3")]
    assert report.trend["revenue"][2] == sum(c["revenue"] for c in march)


def test_mentoring_lab_and_milestones(session, rw):
    year = period(date(YEAR, 1, 1), date(YEAR + 1, 1, 1), "year")
    report = build_report(session, rw.a, [rw.a1], year, TODAY)
    held = [s for s in rw.sessions if s["cohort"] == "A1" and s["status"] == SessionStatus.HELD
            and s["starts_at"].year == YEAR]
    assert report.mentoring.sessions == len(held) == 3
    assert report.mentoring.minutes == sum(s["minutes"] for s in held)
    ratings = [s["rating"] for s in held if s["rating"] is not None]
    assert report.mentoring.average_rating == pytest.approx(sum(ratings) / len(ratings))

    in_scope = [b for b in rw.bookings if b["startup"] in ("s1", "s2", "s3")
                and b["status"] in (BookingStatus.CONFIRMED, BookingStatus.COMPLETED)]
    lab = {line.kind: line for line in report.lab}
    for kind in {b["kind"] for b in in_scope}:
        mine = [b for b in in_scope if b["kind"] == kind]
        assert lab[kind].minutes == sum(b["minutes"] for b in mine)
        assert lab[kind].credit_minutes == sum(b["credit"] for b in mine)
        assert lab[kind].paid_minutes == sum(b["minutes"] - b["credit"] for b in mine if b["price"] > 0)
        assert lab[kind].in_kind_value == sum(b["credit"] * (b["list"][1] or b["list"][0]) for b in mine) // 60
    assert lab["machine"].in_kind_value == 120 * 200_000 // 60  # two hours of credit at the external rate
    assert lab["room"].in_kind_value == 30 * 50_000 // 60  # no external rate: the member rate
    # The amount paid is the money the ledger received for the bookings (whatever became of them), less
    # refunds: not the bookings' prices.
    for kind in {b["kind"] for b in rw.bookings}:
        received = sum(row["amount"] for row in rw.ledger if row["booking"] is not None
                       and rw.bookings[row["booking"]]["kind"] == kind
                       and rw.bookings[row["booking"]]["startup"] in ("s1", "s2", "s3"))
        assert lab[kind].paid_amount == received
    assert lab["machine"].paid_amount == 60_000 + 50_000 and lab["room"].paid_amount == 0
    assert report.lab_total.paid_amount == 110_000

    due = [m for m in rw.milestones if m["startup"] in ("s1", "s2", "s3") and m["due_on"].year == YEAR]
    assert report.milestones.total == len(due) == 4
    assert report.milestones.done == sum(1 for m in due if m["status"] == MilestoneStatus.DONE)
    assert report.milestones.missed == 1 and report.milestones.overdue == 1
    assert report.milestones.completion_rate == pytest.approx(2 / 4)

    line = next(s for s in report.startups if s.name == "Alpha")
    assert line.mentoring_minutes == 180 and line.lab_minutes == 60 + 120 + 30
    assert line.milestones_done == 1 and line.milestones_total == 2
    assert line.kpis["revenue"] == sum(c["revenue"] for c in rw.checkins
                                       if c["startup"] == "s1" and c["period"].year == YEAR)


def test_a_quarter_and_a_custom_period(session, rw):
    for start, end in [(date(YEAR, 4, 1), date(YEAR, 7, 1)), (date(YEAR - 1, 12, 1), date(YEAR, 3, 1))]:
        report = build_report(session, rw.a, [rw.a1, rw.a2], period(start, end), TODAY)
        assert report.headline == expected(rw, {"A1", "A2"}, start, end)
        assert len(report.months) == len(report.trend["revenue"])


def test_rollup_counts_a_startup_in_two_incubators_once(session, rw):
    year = period(date(YEAR, 1, 1), date(YEAR + 1, 1, 1), "year")
    report = build_report(session, rw.dost, [rw.a1, rw.b1], year, TODAY)
    want = expected(rw, {"A1", "B1"}, year.start, year.end)
    assert report.headline == want
    # s1 and s1b are one company (R1): five records, four startups, each listed once.
    assert want["startups"] == 4 and len(report.startups) == 4
    assert [line.name for line in report.startups].count("Alpha") == 1
    assert "Alpha (B)" not in [line.name for line in report.startups]
    # The rows add up to the headline figures.
    for name in FLOWS:
        assert sum(line.kpis[name] for line in report.startups) == report.headline[name], name
    assert sum(line.funding_total for line in report.startups) == report.headline["funding_total"]
    assert sum(line.employees for line in report.startups) == report.headline["employees"]
    # Alpha's row says whose check-in each month's figures are.
    alpha = next(line for line in report.startups if line.name == "Alpha")
    assert alpha.org_name == "Incubator A, Incubator B"
    slots = {(c["startup"], c["period"].strftime("%Y-%m")): c for c in rw.checkins if c["startup"] in ("s1", "s1b")}
    for month, org_name in alpha.sources.items():
        mine = slots.get(("s1" if org_name == "Incubator A" else "s1b", month))
        assert mine is not None and alpha.by_month[month]["revenue"] == mine["revenue"]
    # Side by side, each incubator counts its own startups and its own check-ins.
    by_org = {line["slug"]: line for line in report.comparison}
    assert by_org["inc-a"]["startups"] == 3 and by_org["inc-b"]["startups"] == 2
    for slug, keys in (("inc-a", ("s1", "s2", "s3")), ("inc-b", ("s1b", "s5"))):
        assert by_org[slug]["revenue"] == sum(c["revenue"] for c in rw.checkins
                                              if c["startup"] in keys and c["period"].year == YEAR)
    # The combined revenue is less than the sum of the incubators' when both reported the same month.
    both = {c["period"] for c in rw.checkins if c["startup"] == "s1"} & {
        c["period"] for c in rw.checkins if c["startup"] == "s1b"}
    assert both and report.headline["revenue"] <= by_org["inc-a"]["revenue"] + by_org["inc-b"]["revenue"]


def test_targets_against_actuals(session, rw):
    from incubator.reporting.services import save_targets

    save_targets(session, rw.dost, YEAR, {"startups": 8, "revenue": 1_000_000_000, "ip_filings": None})
    year = period(date(YEAR, 1, 1), date(YEAR + 1, 1, 1), "year")
    report = build_report(session, rw.dost, [rw.a1, rw.b1], year, TODAY)
    targets = {t["metric"]: t for t in report.targets}
    assert set(targets) == {"startups", "revenue"}
    assert targets["startups"]["actual"] == 4 and targets["startups"]["ratio"] == pytest.approx(4 / 8)
    assert targets["revenue"]["actual"] == report.headline["revenue"]
    # Another year's report shows none.
    assert build_report(session, rw.dost, [rw.a1], period(date(YEAR + 1, 1, 1), date(YEAR + 2, 1, 1), "year"),
                        TODAY).targets == []


def test_targets_refuse_negative_values(session, rw):
    from incubator.core.errors import DomainError
    from incubator.reporting.services import save_targets, targets_for

    save_targets(session, rw.dost, YEAR, {"startups": 8})
    with pytest.raises(DomainError) as error:
        save_targets(session, rw.dost, YEAR, {"startups": 9, "revenue": -1})
    assert "revenue" in error.value.fields
    assert targets_for(session, rw.dost, YEAR) == {"startups": 8}


def test_periods():
    today = date(2026, 5, 20)
    assert parse_period({}, today) == Period("year", date(2026, 1, 1), date(2027, 1, 1))
    assert parse_period({"period": "quarter"}, today) == Period("quarter", date(2026, 4, 1), date(2026, 7, 1))
    assert parse_period({"period": "quarter", "year": "2025", "quarter": "4"}, today).end == date(2026, 1, 1)
    custom = parse_period({"period": "custom", "start": "2025-11", "end": "2026-02"}, today)
    assert custom.months == [date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1)]
    for args, field in [({"period": "week"}, "period"), ({"period": "custom", "start": "2026-05", "end": "2026-01"},
                                                        "end"),
                        ({"period": "custom", "start": "May", "end": "2026-01"}, "start"),
                        ({"year": "12345"}, "year"), ({"period": "quarter", "quarter": "5"}, "quarter")]:
        with pytest.raises(PeriodError) as error:
            parse_period(args, today)
        assert error.value.field == field


def test_the_application_funnel_of_the_calls_feeding_a_cohort(session, rw):
    from datetime import UTC, datetime

    from incubator.core.permissions import Role
    from incubator.intake.models import Review, ReviewStatus, Stage
    from tests.factories import member
    from tests.intake.fixtures import application, make_call

    call = make_call(rw.a, rw.a1.programme, rw.a1)
    other_cohort_call = make_call(rw.a, rw.a1.programme, rw.a2)
    reviewer = member(rw.a, Role.REVIEWER)
    rows = [  # call, stage, country, reviewed, submitted in the year?
        (call, Stage.ACCEPTED, "Việt Nam", True, True), (call, Stage.ACCEPTED, "Korea", True, True),
        (call, Stage.REJECTED, "Việt Nam", True, True), (call, Stage.SUBMITTED, "Việt Nam", False, True),
        (call, Stage.DRAFT, "Việt Nam", False, True), (call, Stage.ACCEPTED, "Korea", True, False),
        (other_cohort_call, Stage.ACCEPTED, "Korea", True, True),
    ]
    for target, stage, country, reviewed, in_year in rows:
        record = application(target, member(rw.a, Role.FOUNDER), stage, {"startup_name": "S", "country": country})
        if record.submitted_at is not None:
            record.submitted_at = datetime(YEAR if in_year else YEAR + 1, 4, 2, tzinfo=UTC)
        if reviewed:
            session.add(Review(org_id=rw.a.id, application=record, reviewer=reviewer, status=ReviewStatus.SUBMITTED,
                               scores={}))
    session.flush()
    counted = [r for r in rows if r[0] is call and r[1] != Stage.DRAFT and r[4]]  # worked out from the rows
    report = build_report(session, rw.a, [rw.a1], period(date(YEAR, 1, 1), date(YEAR + 1, 1, 1), "year"), TODAY)
    funnel = report.funnel
    assert (funnel.applications, funnel.reviewed, funnel.accepted) == (
        len(counted), sum(1 for r in counted if r[3]), sum(1 for r in counted if r[1] == Stage.ACCEPTED))
    assert (funnel.applications, funnel.reviewed, funnel.accepted) == (4, 3, 2)
    assert funnel.acceptance_rate == 0.5
    assert funnel.by_origin == {"Korea": {"applications": 1, "accepted": 1},
                                "Việt Nam": {"applications": 3, "accepted": 1}}


def test_a_verified_checkin_beats_a_later_unverified_one(session, rw):
    """FactoryEye in the demo: BBI verified and locked its 200,000,000 grant; TDMU's unverified check-in
    for the same month, edited later, must not hide it."""
    from datetime import UTC, datetime

    from sqlalchemy import delete

    from incubator.cohorts.models import CheckIn

    july = date(YEAR, 7, 1)
    s1, s1b = rw.startups["s1"], rw.startups["s1b"]
    session.execute(delete(CheckIn).where(CheckIn.startup_id.in_([s1.id, s1b.id]), CheckIn.period == july))
    locked = datetime(YEAR, 8, 5, tzinfo=UTC)
    session.add_all([
        CheckIn(org_id=rw.a.id, startup=s1, period=july, revenue=30_000_000, funding_grant=200_000_000,
                employees_full_time=7, verified_at=locked, locked_at=locked, updated_at=locked),
        CheckIn(org_id=rw.b.id, startup=s1b, period=july, revenue=12_000_000, funding_grant=0, employees_full_time=5,
                updated_at=datetime(YEAR, 9, 1, tzinfo=UTC)),
    ])
    session.flush()
    report = build_report(session, rw.dost, [rw.a1, rw.b1], period(july, date(YEAR, 8, 1)), TODAY)
    alpha = [line for line in report.startups if line.registration_number and line.registration_number.strip() == "R1"]
    assert len(alpha) == 1  # listed once
    assert alpha[0].kpis["funding_grant"] == 200_000_000 and alpha[0].kpis["revenue"] == 30_000_000
    assert alpha[0].sources == {"2025-07": "Incubator A"}
    assert report.headline["funding_grant"] == sum(line.kpis["funding_grant"] for line in report.startups)
    assert report.headline["funding_grant"] >= 200_000_000
    assert report.headline["employees"] == sum(line.employees for line in report.startups)
    # Once TDMU's check-in is verified too, the latest verified one counts.
    session.execute(CheckIn.__table__.update().where(CheckIn.startup_id == s1b.id, CheckIn.period == july)
                    .values(verified_at=datetime(YEAR, 9, 2, tzinfo=UTC)))
    session.expire_all()
    again = build_report(session, rw.dost, [rw.a1, rw.b1], period(july, date(YEAR, 8, 1)), TODAY)
    line = next(ln for ln in again.startups if ln.startup_ids == sorted([s1.id, s1b.id]))
    assert line.kpis["funding_grant"] == 0 and line.sources == {"2025-07": "Incubator B"}
