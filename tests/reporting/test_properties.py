"""Property tests: the report's counts and money against an independent computation from the rows.

(a) Two incubators hold check-ins for the same companies (same registration number, written
    differently): whatever is verified, locked or updated when, the province roll-up lists each
    company once and each (company, month) figure is the one of the check-in that counts, worked out
    here: a verified (or locked) one before an unverified one, then the latest updated, then the
    older record.
(c) Mentoring sessions around the local month boundaries, in zones with and without summer time: the
    report's sessions, minutes and ratings per month (in the organisation's zone) and per startup,
    added up by the database, are those worked out here from the rows with zoneinfo.
(b) Payments and refunds over bookings of every resource kind, inside and outside the period (in the
    organisation's time zone) and in any state: the report's lab money is the ledger's net sum,
    worked out here from the rows.

Each example writes its rows in a savepoint that is rolled back, on the test's one transaction.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incubator.booking.models import Booking, BookingStatus, Lab, Resource
from incubator.cohorts.models import CheckIn, CohortFunder, Enrolment, EnrolmentStatus, ResourceKind, Startup
from incubator.core.permissions import Role
from incubator.ledger.models import LedgerEntry, LedgerKind
from incubator.mentoring.models import Match, MatchStatus, MentorProfile, MentorSession, SessionStatus
from incubator.orgs.models import OrgKind
from incubator.reporting.queries import build_report
from incubator.reporting.scope import Period
from tests.factories import CohortFactory, OrgFactory, ProgrammeFactory, member

YEAR = 2025
MONTHS = [date(YEAR, m, 1) for m in (3, 4, 5)]
T0 = datetime(YEAR, 6, 1, tzinfo=UTC)
TODAY = date(2026, 6, 1)
PROPERTY = settings(max_examples=40, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _startup(session, org, name, number) -> Startup:
    startup = Startup(org_id=org.id, name=name, registration_number=number)
    session.add(startup)
    session.flush()
    return startup


def _cohort(org, name):
    return CohortFactory(programme=ProgrammeFactory(org_id=org.id), org_id=org.id, name=name,
                         starts_on=date(YEAR, 1, 1), ends_on=date(YEAR, 12, 31))


# -- (a) the province roll-up -----------------------------------------------------------------------

# A company's records: (incubator, name, registration number as that incubator typed it).
RECORDS = [("a", "FactoryEye", "R1"), ("b", "FactoryEye (TDMU)", " r1"),
           ("a", "RiceTrace", "R2"), ("b", "RiceTrace", "R2 "),
           ("a", "MekongCold", "R3"), ("b", "EduBot", "R4")]


def company(number: str) -> str:
    return number.strip().upper()


checkin_values = st.fixed_dictionaries({
    "state": st.sampled_from(["reported", "verified", "locked"]),
    "minute": st.integers(0, 20),  # a small range, so that ties happen
    "revenue": st.integers(0, 50).map(lambda n: n * 1_000_000),
    "funding_grant": st.sampled_from([0, 0, 200_000_000]),
    "jobs_created": st.integers(0, 3),
    "employees_full_time": st.integers(0, 12),
})


def _province(session):
    a = OrgFactory(slug="prop-a", name="Incubator A")
    b = OrgFactory(slug="prop-b", name="Incubator B")
    dost = OrgFactory(slug="prop-dost", name="Department", kind=OrgKind.STATE_AGENCY)
    cohorts = {"a": _cohort(a, "A"), "b": _cohort(b, "B")}
    orgs = {"a": a, "b": b}
    records = []
    for where, name, number in RECORDS:
        startup = _startup(session, orgs[where], name, number)
        session.add(Enrolment(org_id=orgs[where].id, cohort=cohorts[where], startup=startup,
                              enrolled_on=date(YEAR, 1, 1), status=EnrolmentStatus.ACTIVE))
        records.append(startup)
    for cohort in cohorts.values():
        session.add(CohortFunder(org_id=cohort.org_id, cohort=cohort, funder_org_id=dost.id))
    session.flush()
    return dost, list(cohorts.values()), records, {a.id: a.name, b.id: b.name}


@PROPERTY
@given(data=st.dictionaries(st.tuples(st.integers(0, len(RECORDS) - 1), st.integers(0, len(MONTHS) - 1)),
                            checkin_values, max_size=len(RECORDS) * len(MONTHS)))
def test_the_rollup_counts_each_startup_once_with_the_checkin_that_counts(session, data):
    savepoint = session.begin_nested()
    try:
        dost, cohorts, records, org_names = _province(session)
        rows = []
        for (index, month_index), values in data.items():
            record = records[index]
            updated = T0 + timedelta(minutes=values["minute"])
            verified = None if values["state"] == "reported" else T0
            session.add(CheckIn(org_id=record.org_id, startup_id=record.id, period=MONTHS[month_index],
                                updated_at=updated, verified_at=verified,
                                locked_at=T0 if values["state"] == "locked" else None,
                                revenue=values["revenue"], funding_grant=values["funding_grant"],
                                jobs_created=values["jobs_created"],
                                employees_full_time=values["employees_full_time"]))
            rows.append({"company": company(RECORDS[index][2]), "startup_id": record.id, "org_id": record.org_id,
                         "month": MONTHS[month_index], "verified": verified is not None, "updated": updated,
                         **values})
        session.flush()

        # The check-in that counts for each company and month, worked out from the rows.
        counts: dict[tuple[str, date], dict] = {}
        for row in rows:
            slot = (row["company"], row["month"])
            best = counts.get(slot)
            if best is None or (row["verified"], row["updated"], -row["startup_id"]) > (
                    best["verified"], best["updated"], -best["startup_id"]):
                counts[slot] = row
        companies = {company(number) for _where, _name, number in RECORDS}

        report = build_report(session, dost, cohorts, Period("custom", MONTHS[0], date(YEAR, 6, 1)), TODAY)
        assert report.headline["startups"] == len(companies) == 4
        lines = {company(line.registration_number): line for line in report.startups}
        assert len(report.startups) == len(lines) == len(companies)  # each company once
        for (name, month), row in counts.items():
            line, label = lines[name], month.strftime("%Y-%m")
            for kpi in ("revenue", "funding_grant", "jobs_created", "employees_full_time"):
                assert line.by_month[label][kpi] == row[kpi], (name, label, kpi)
            assert line.sources[label] == org_names[row["org_id"]]
        for name, line in lines.items():
            assert set(line.by_month) == {m.strftime("%Y-%m") for (c, m) in counts if c == name}
        for kpi in ("revenue", "funding_grant", "jobs_created"):
            assert report.headline[kpi] == sum(row[kpi] for row in counts.values())
            assert sum(line.kpis[kpi] for line in report.startups) == report.headline[kpi]
        latest = {}
        for (name, month), row in counts.items():
            if name not in latest or latest[name][0] < month:
                latest[name] = (month, row["employees_full_time"])
        assert report.headline["employees"] == sum(e for _m, e in latest.values())
        assert sum(line.employees for line in report.startups) == report.headline["employees"]
    finally:
        savepoint.rollback()


@PROPERTY
@given(data=st.dictionaries(st.tuples(st.integers(0, len(RECORDS) - 1), st.integers(0, len(MONTHS) - 1)),
                            checkin_values, max_size=len(RECORDS) * len(MONTHS)))
def test_the_report_page_sums_in_the_database_what_the_rows_add_up_to(session, data):
    """The report page (no month by month rows: the check-ins that count added up in SQL) shows the
    figures of the full report, whose rows the test above checks against its own computation."""
    savepoint = session.begin_nested()
    try:
        dost, cohorts, records, _org_names = _province(session)
        for (index, month_index), values in data.items():
            record = records[index]
            session.add(CheckIn(org_id=record.org_id, startup_id=record.id, period=MONTHS[month_index],
                                updated_at=T0 + timedelta(minutes=values["minute"]),
                                verified_at=None if values["state"] == "reported" else T0,
                                locked_at=T0 if values["state"] == "locked" else None,
                                revenue=values["revenue"], funding_grant=values["funding_grant"],
                                jobs_created=values["jobs_created"],
                                employees_full_time=values["employees_full_time"]))
        session.flush()
        period = Period("custom", MONTHS[0], date(YEAR, 6, 1))

        full = build_report(session, dost, cohorts, period, TODAY)
        page = build_report(session, dost, cohorts, period, TODAY, by_month=False)
        assert (page.headline, page.trend, page.comparison) == (full.headline, full.trend, full.comparison)
        assert [(ln.key, ln.kpis, ln.employees, ln.source_counts) for ln in page.startups] == [
            (ln.key, ln.kpis, ln.employees, ln.source_counts) for ln in full.startups]
        assert sum(months for ln in full.startups for _org, months in ln.source_counts) == len(
            {(ln.key, m) for ln in full.startups for m in ln.by_month})
        assert all(not ln.by_month and not ln.sources for ln in page.startups)
    finally:
        savepoint.rollback()


own_checkins = st.dictionaries(
    st.tuples(st.integers(0, len(RECORDS) - 1), st.integers(-1, len(MONTHS))),  # -1 and len: outside the period
    st.fixed_dictionaries({"state": checkin_values.map(lambda v: v["state"]), "baseline": st.booleans(),
                           "revenue": st.integers(0, 50).map(lambda n: n * 1_000_000),
                           "jobs_created": st.integers(0, 3)}),
    max_size=len(RECORDS) * (len(MONTHS) + 2))


def _month_at(index: int) -> date:
    return date(YEAR, 3 + index, 1) if index >= 0 else date(YEAR, 2, 1)


@PROPERTY
@given(data=own_checkins)
def test_the_incubators_side_by_side_each_add_up_their_own_checkins(session, data):
    """The comparison counts every check-in an incubator holds in the period (baseline or not, verified
    or not), whichever of two incubators' check-ins counts in the roll-up's rows."""
    savepoint = session.begin_nested()
    try:
        dost, cohorts, records, org_names = _province(session)
        own: dict[str, dict[str, int]] = {name: {"revenue": 0, "jobs_created": 0} for name in org_names.values()}
        for (index, month_index), values in data.items():
            record, month = records[index], _month_at(month_index)
            session.add(CheckIn(org_id=record.org_id, startup_id=record.id, period=month, updated_at=T0,
                                is_baseline=values["baseline"],
                                verified_at=None if values["state"] == "reported" else T0,
                                locked_at=T0 if values["state"] == "locked" else None,
                                revenue=values["revenue"], jobs_created=values["jobs_created"]))
            if MONTHS[0] <= month <= MONTHS[-1]:
                for kpi in ("revenue", "jobs_created"):
                    own[org_names[record.org_id]][kpi] += values[kpi]
        session.flush()

        report = build_report(session, dost, cohorts, Period("custom", MONTHS[0], date(YEAR, 6, 1)), TODAY)
        assert {row["org"]: {"revenue": row["revenue"], "jobs_created": row["jobs_created"]}
                for row in report.comparison} == own
        assert report.headline["revenue"] <= sum(side["revenue"] for side in own.values())
    finally:
        savepoint.rollback()


# -- (b) lab money from the ledger ------------------------------------------------------------------

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
KINDS = list(ResourceKind)
# Around the local start and end of the year (time zone edges), and inside it.
ANCHORS = [datetime(YEAR, 1, 1, tzinfo=ZONE).astimezone(UTC), datetime(YEAR + 1, 1, 1, tzinfo=ZONE).astimezone(UTC),
           datetime(YEAR, 7, 1, 3, tzinfo=UTC)]

booking_rows = st.lists(
    st.fixed_dictionaries({
        "kind": st.integers(0, len(KINDS) - 1),
        "anchor": st.integers(0, len(ANCHORS) - 1),
        "hours": st.integers(-30, 30),
        "startup": st.integers(0, 2),  # 2: a startup of no reported cohort
        "status": st.sampled_from(list(BookingStatus)),
        "price": st.sampled_from([0, 50_000, 150_000]),
        "paid": st.one_of(st.none(), st.integers(1, 40).map(lambda n: n * 10_000)),
        "refunds": st.lists(st.integers(1, 10).map(lambda n: n * 5_000), max_size=2),
    }),
    max_size=12, unique_by=lambda b: (b["kind"], b["anchor"], b["hours"]))  # no two overlap on a resource


def _lab_world(session):
    org = OrgFactory(slug="prop-lab", name="Lab owner")
    cohort = _cohort(org, "C")
    other_cohort = _cohort(org, "Other")
    founder = member(org, Role.FOUNDER)
    startups = [_startup(session, org, f"S{i}", f"L{i}") for i in range(3)]
    for startup, target in zip(startups, (cohort, cohort, other_cohort), strict=True):
        session.add(Enrolment(org_id=org.id, cohort=target, startup=startup, enrolled_on=date(YEAR, 1, 1)))
    lab = Lab(org_id=org.id, name="Fablab")
    resources = [Resource(org_id=org.id, lab=lab, name=f"R {kind.value}", kind=kind, price_member=100_000)
                 for kind in KINDS]
    session.add_all([lab, *resources])
    session.flush()
    return org, cohort, founder, startups, resources


@PROPERTY
@given(bookings=booking_rows, fees=st.lists(st.integers(1, 5).map(lambda n: n * 100_000), max_size=2))
def test_lab_money_is_the_ledgers_net_sum(session, bookings, fees):
    savepoint = session.begin_nested()
    try:
        org, cohort, founder, startups, resources = _lab_world(session)
        ledger = []  # (kind, startup index, local start, amount)
        for spec in bookings:
            starts = ANCHORS[spec["anchor"]] + timedelta(hours=spec["hours"])
            booking = Booking(org_id=org.id, resource_id=resources[spec["kind"]].id, user_id=founder.id,
                              startup_id=startups[spec["startup"]].id, starts_at=starts,
                              ends_at=starts + timedelta(minutes=30), blocked_until=starts + timedelta(minutes=30),
                              status=spec["status"], price=spec["price"], currency="VND")
            session.add(booking)
            session.flush()
            if spec["paid"] is None:
                continue  # a price, but never paid
            amounts, refunded = [spec["paid"]], 0
            for refund in spec["refunds"]:  # never more back than was paid
                if refunded + refund <= spec["paid"]:
                    amounts.append(-refund)
                    refunded += refund
            for amount in amounts:
                session.add(LedgerEntry(org_id=org.id, kind=LedgerKind.PAYMENT if amount > 0 else LedgerKind.REFUND,
                                        startup_id=booking.startup_id, booking_id=booking.id, amount=amount,
                                        currency="VND"))
                ledger.append((KINDS[spec["kind"]].value, spec["startup"], starts.astimezone(ZONE), amount))
        for fee in fees:  # application fees: money, not the lab's
            session.add(LedgerEntry(org_id=org.id, kind=LedgerKind.PAYMENT, startup_id=startups[0].id, amount=fee,
                                    currency="VND"))
        session.flush()

        report = build_report(session, org, [cohort], Period("year", date(YEAR, 1, 1), date(YEAR + 1, 1, 1)), TODAY)
        counted = [(kind, who, amount) for kind, who, local, amount in ledger if local.year == YEAR and who < 2]
        by_kind = {k.kind: k.paid_amount for k in report.lab}
        for kind in KINDS:
            assert by_kind.get(kind.value, 0) == sum(a for k, _who, a in counted if k == kind.value), kind
        assert report.lab_total.paid_amount == sum(a for _k, _who, a in counted)
        by_startup = {line.startup_id: line.lab_paid for line in report.startups}
        for index in (0, 1):
            assert by_startup[startups[index].id] == sum(a for _k, who, a in counted if who == index)
    finally:
        savepoint.rollback()


# -- (c) mentoring sessions by the organisation's month ---------------------------------------------

# Berlin and New York change their clocks inside the period (March to May 2025); Ho Chi Minh City does not.
SESSION_ZONES = ["Asia/Ho_Chi_Minh", "Europe/Berlin", "America/New_York"]
SESSION_PERIOD = Period("custom", date(YEAR, 3, 1), date(YEAR, 6, 1))
BOUNDARIES = [date(YEAR, m, 1) for m in (2, 3, 4, 5, 6, 7)]  # local midnights the sessions start around

session_rows = st.lists(st.fixed_dictionaries({
    "startup": st.integers(0, 2),
    "boundary": st.integers(0, len(BOUNDARIES) - 1),
    "minutes_off": st.integers(-26 * 60, 26 * 60),  # within a day or so of the local midnight
    "duration": st.integers(15, 480),
    "status": st.sampled_from([SessionStatus.HELD, SessionStatus.HELD, SessionStatus.CANCELLED,
                               SessionStatus.SCHEDULED]),
    "rating": st.one_of(st.none(), st.integers(1, 5)),
}), max_size=15)


@PROPERTY
@given(zone_name=st.sampled_from(SESSION_ZONES), rows=session_rows)
def test_mentoring_is_added_up_by_the_organisations_month(session, zone_name, rows):
    savepoint = session.begin_nested()
    try:
        org = OrgFactory(slug="prop-mentoring", name="Mentoring", timezone=zone_name)
        cohort = _cohort(org, "M")
        startups = [_startup(session, org, f"S{i}", None) for i in range(3)]
        for startup in startups:
            session.add(Enrolment(org_id=org.id, cohort_id=cohort.id, startup_id=startup.id,
                                  status=EnrolmentStatus.ACTIVE, enrolled_on=date(YEAR, 1, 1)))
        mentor = MentorProfile(org_id=org.id, user=member(org, Role.MENTOR))
        matches = [Match(org_id=org.id, cohort_id=cohort.id, startup_id=s.id, mentor=mentor,
                         status=MatchStatus.ACCEPTED) for s in startups]
        session.add_all([mentor, *matches])
        session.flush()
        zone = ZoneInfo(zone_name)
        labels = [m.strftime("%Y-%m") for m in SESSION_PERIOD.months]
        by_month = {label: [0, 0] for label in labels}
        per_startup = {s.name: [0, 0] for s in startups}
        totals = {"sessions": 0, "minutes": 0, "rated": 0, "rating_sum": 0}
        for row in rows:
            local = datetime.combine(BOUNDARIES[row["boundary"]], datetime.min.time(), zone) + timedelta(
                minutes=row["minutes_off"])
            starts_at = local.astimezone(UTC)
            session.add(MentorSession(org_id=org.id, match=matches[row["startup"]], mentor_id=mentor.id,
                                      starts_at=starts_at, duration_minutes=row["duration"], status=row["status"],
                                      rating=row["rating"]))
            label = starts_at.astimezone(zone).strftime("%Y-%m")  # the month on the organisation's wall clock
            if row["status"] != SessionStatus.HELD or label not in by_month:
                continue
            by_month[label][0] += 1
            by_month[label][1] += row["duration"]
            per_startup[startups[row["startup"]].name][0] += 1
            per_startup[startups[row["startup"]].name][1] += row["duration"]
            totals["sessions"] += 1
            totals["minutes"] += row["duration"]
            if row["rating"] is not None:
                totals["rated"] += 1
                totals["rating_sum"] += row["rating"]
        session.flush()

        for by_months in (True, False):  # the API and downloads, and the report page
            report = build_report(session, org, [cohort], SESSION_PERIOD, TODAY, by_month=by_months)
            found = report.mentoring
            assert found.by_month == by_month
            assert {"sessions": found.sessions, "minutes": found.minutes, "rated": found.rated,
                    "rating_sum": found.rating_sum} == totals
            assert {ln.name: [ln.mentoring_sessions, ln.mentoring_minutes] for ln in report.startups} == per_startup
    finally:
        savepoint.rollback()
