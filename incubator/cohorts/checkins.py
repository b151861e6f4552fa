"""KPI check-ins: periods, validation, revisions, verification and locking, gaps, reminders."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, contains_eager

from incubator.accounts.models import User
from incubator.cohorts.models import (  # noqa: F401  (STANDARD_KPIS is re-exported)
    MONEY_KPIS,
    STANDARD_KPIS,
    CheckIn,
    CheckInRevision,
    Cohort,
    Enrolment,
    EnrolmentStatus,
    Frequency,
    KpiDefinition,
    KpiType,
    Milestone,
    Stage,
    Startup,
)
from incubator.core import formatting
from incubator.core.db import utcnow
from incubator.core.errors import Conflict, DomainError
from incubator.core.money import to_major, to_minor
from incubator.core.timezones import add_months
from incubator.orgs.models import Organisation
from incubator.webhooks.services import emit_for

PERIOD_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
MAX_COUNT = 10**9  # people, customers, products: anything larger is a typing error
MAX_MONEY_MINOR = 10**17  # fits a 64-bit column with room to add up
GRACE_DAYS = 10  # a period's check-in is due this many days after the period ends
ALUMNI_YEARS = 5  # graduates report once a year for five years


# -- periods ----------------------------------------------------------------------------------------

def period_length(frequency: str) -> int:
    return 3 if frequency == Frequency.QUARTERLY else 1


def align(day: date, frequency: str) -> date:
    start = day.replace(day=1)
    if frequency == Frequency.QUARTERLY:
        start = start.replace(month=(start.month - 1) // 3 * 3 + 1)
    return start


def period_end(period: date, months: int) -> date:
    return add_months(period, months) - timedelta(days=1)


def due_date(period: date, months: int) -> date:
    return period_end(period, months) + timedelta(days=GRACE_DAYS)


def due_periods(cohort: Cohort, enrolment: Enrolment, today: date) -> list[tuple[date, int]]:
    """The (period, months) a startup owes check-ins for, up to the last period that has ended."""
    months = period_length(cohort.checkin_frequency)
    start = align(max(cohort.starts_on, enrolment.enrolled_on), cohort.checkin_frequency)
    stop = cohort.ends_on
    if enrolment.status != EnrolmentStatus.ACTIVE and enrolment.status_changed_on:
        stop = min(stop, enrolment.status_changed_on)
    periods = []
    period = start
    while period <= stop and period_end(period, months) < today:
        periods.append((period, months))
        period = add_months(period, months)
    if enrolment.status in (EnrolmentStatus.GRADUATED, EnrolmentStatus.ALUMNI) and enrolment.status_changed_on:
        for year in range(enrolment.status_changed_on.year + 1, enrolment.status_changed_on.year + 1 + ALUMNI_YEARS):
            annual = date(year, 1, 1)
            if period_end(annual, 12) < today:
                periods.append((annual, 12))
    return periods


def parse_period(value: Any) -> date:
    match = PERIOD_RE.match(str(value or ""))
    if not match:
        raise DomainError(_("Use the form YYYY-MM."), fields={"period": _("Use the form YYYY-MM.")})
    return date(int(match.group(1)), int(match.group(2)), 1)


# -- validation -------------------------------------------------------------------------------------

@dataclass
class CleanCheckIn:
    period: date
    values: dict[str, int]
    custom: dict[str, Any]


def _number(raw: Any, *, integer: bool) -> Decimal:
    if isinstance(raw, bool) or raw is None or raw == "":
        raise ValueError
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation as exc:
        raise ValueError from exc
    if not value.is_finite() or (integer and value != value.to_integral_value()):
        raise ValueError
    return value


def _clean_period(data: dict[str, Any], cohort: Cohort | None, today: date, fields: dict[str, str]) -> date | None:
    try:
        period = parse_period(data.get("period"))
    except DomainError as error:
        fields.update(error.fields)
        return None
    if period > today.replace(day=1):
        fields["period"] = _("This period has not started yet.")
    elif cohort is not None and period != align(period, cohort.checkin_frequency):
        fields["period"] = _("This cohort reports quarterly: use the first month of a quarter.")
    return period


def _clean_standard(org: Organisation, name: str, raw: Any) -> int:
    """One standard KPI in stored units (money in minor units); a ValueError carries the message."""
    if raw is None or raw == "":
        raise ValueError(_("This field is required."))
    money = name in MONEY_KPIS
    try:
        number = _number(raw, integer=not money)
    except ValueError as exc:
        raise ValueError(_("Enter a number.") if money else _("Enter a whole number.")) from exc
    if number < 0:
        raise ValueError(_("Must not be negative."))
    try:
        value = to_minor(number, org.currency) if money else int(number)
    except ValueError as exc:
        raise ValueError(_("Too many decimals for %(currency)s.", currency=org.currency)) from exc
    if value > (MAX_MONEY_MINOR if money else MAX_COUNT):
        raise ValueError(_("This number is too large."))
    return value


def _clean_custom_value(definition: KpiDefinition, raw: Any) -> Any:
    try:
        number = _number(raw, integer=definition.type == KpiType.INTEGER)
    except ValueError as exc:
        raise ValueError(_("Enter a number.")) from exc
    if number < 0 or number > MAX_MONEY_MINOR:
        raise ValueError(_("Must not be negative.") if number < 0 else _("This number is too large."))
    return int(number) if definition.type == KpiType.INTEGER else str(number)


def _clean_custom(kpis: list[KpiDefinition], raw_custom: Any, fields: dict[str, str]) -> dict[str, Any]:
    if not isinstance(raw_custom, dict):
        fields["custom"] = _("Expected an object of KPI keys and numbers.")
        return {}
    by_key = {k.key: k for k in kpis if k.active}
    custom: dict[str, Any] = {}
    for key, raw in raw_custom.items():
        definition = by_key.get(key)
        if definition is None:
            fields[f"custom.{key}"] = _("Unknown KPI.")
        elif raw is not None and raw != "":
            try:
                custom[key] = _clean_custom_value(definition, raw)
            except ValueError as error:
                fields[f"custom.{key}"] = str(error)
    return custom


def clean_checkin(org: Organisation, cohort: Cohort | None, kpis: list[KpiDefinition], data: dict[str, Any],
                  today: date, *, check_period: bool = True) -> CleanCheckIn:
    """Validate numbers and the period; every error names its field."""
    fields: dict[str, str] = {}
    period = _clean_period(data, cohort, today, fields) if check_period else None
    values: dict[str, int] = {}
    for name in STANDARD_KPIS:
        try:
            values[name] = _clean_standard(org, name, data.get(name))
        except ValueError as error:
            fields[name] = str(error)
    custom = _clean_custom(kpis, data.get("custom") or {}, fields)
    if fields:
        raise DomainError(_("Please correct the highlighted fields."), fields=fields)
    return CleanCheckIn(period=period or date.min, values=values, custom=custom)


def custom_kpis(session: Session, org: Organisation) -> list[KpiDefinition]:
    return list(session.execute(select(KpiDefinition).where(KpiDefinition.org_id == org.id,
                                                            KpiDefinition.active.is_(True))
                                .order_by(KpiDefinition.name)).scalars())


# -- submitting, revising, verifying, locking --------------------------------------------------------

def submit_checkin(session: Session, startup: Startup, clean: CleanCheckIn, user: User, *,
                   notes: str = "") -> CheckIn:
    """A new check-in; the one for the first period of the startup's enrolment is its baseline."""
    from incubator.cohorts.services import current_enrolment

    enrolment = current_enrolment(session, startup)
    is_baseline = enrolment is not None and clean.period == align(
        max(enrolment.cohort.starts_on, enrolment.enrolled_on), enrolment.cohort.checkin_frequency)
    existing = session.execute(select(CheckIn.id).where(CheckIn.startup_id == startup.id,
                                                        CheckIn.period == clean.period)).first()
    if existing:
        raise Conflict(_("%(period)s is already reported.", period=formatting.date_(clean.period, "yMMMM")),
                       code="period_reported", fields={"period": _("Already reported.")})
    checkin = CheckIn(org_id=startup.org_id, startup=startup, period=clean.period, custom=clean.custom,
                      is_baseline=is_baseline, notes=notes or "", submitted_by_id=user.id, **clean.values)
    try:
        with session.begin_nested():  # a racing duplicate hits the unique constraint: same answer
            session.add(checkin)
    except IntegrityError as exc:
        raise Conflict(_("%(period)s is already reported.", period=formatting.date_(clean.period, "yMMMM")),
                       code="period_reported", fields={"period": _("Already reported.")}) from exc
    emit_for(checkin, "checkin.submitted", "startup_id", "period", "is_baseline", "submitted_by_id")
    return checkin


def update_checkin(session: Session, checkin: CheckIn, clean: CleanCheckIn, user: User, notes: str | None = None) -> \
        dict[str, list[Any]]:
    """Change a check-in that is not locked; the change is kept as a revision."""
    if checkin.is_locked:
        raise Conflict(_("This check-in is locked and cannot be changed."), code="locked")
    changes: dict[str, list[Any]] = {}
    for name, value in clean.values.items():
        old = getattr(checkin, name)
        if old != value:
            changes[name] = [old, value]
            setattr(checkin, name, value)
    if clean.custom != (checkin.custom or {}):
        changes["custom"] = [checkin.custom or {}, clean.custom]
        checkin.custom = dict(clean.custom)
    if notes is not None and notes != checkin.notes:
        changes["notes"] = [checkin.notes, notes]
        checkin.notes = notes
    if changes:
        checkin.verified_at = checkin.verified_by_id = None  # changed numbers need a new verification
        session.add(CheckInRevision(org_id=checkin.org_id, checkin=checkin, user_id=user.id, changes=changes))
        session.flush()
    return changes


def verify_checkin(checkin: CheckIn, user: User) -> None:
    if checkin.is_locked:
        raise Conflict(_("This check-in is locked and cannot be changed."), code="locked")
    checkin.verified_by_id, checkin.verified_at = user.id, utcnow()
    emit_for(checkin, "checkin.verified", "startup_id", "period", "verified_by_id", "verified_at")


def lock_checkin(checkin: CheckIn, user: User) -> None:
    if checkin.verified_at is None:
        verify_checkin(checkin, user)
    if checkin.locked_at is None:
        checkin.locked_at = utcnow()


def lock_period(session: Session, cohort: Cohort, period: date, user: User) -> int:
    """Verify and lock every check-in of the cohort's startups for ``period``; answers how many."""
    checkins = session.execute(select(CheckIn).join(Enrolment, Enrolment.startup_id == CheckIn.startup_id).where(
        Enrolment.cohort_id == cohort.id, CheckIn.period == period, CheckIn.locked_at.is_(None))).scalars().all()
    for checkin in checkins:
        lock_checkin(checkin, user)
    return len(checkins)


def money_for_form(checkin: CheckIn, currency: str) -> dict[str, Any]:
    """A check-in's values in the units a person types (major units for money)."""
    data = {name: getattr(checkin, name) for name in STANDARD_KPIS}
    for name in MONEY_KPIS:
        data[name] = to_major(data[name], currency)
    return data


# -- gaps: what a startup is missing now (used by mentor matching) ----------------------------------

@dataclass(frozen=True)
class Gap:
    kind: str  # overdue_milestone | missing_checkin | no_revenue | no_funding | no_ip
    need: str  # the kind of help it suggests: execution, reporting, go_to_market, fundraising, ip
    detail: str


def startup_gaps(session: Session, startup: Startup, today: date) -> list[Gap]:
    return gaps_for(session, [startup], today)[startup.id]


def gaps_for(session: Session, startups: list[Startup], today: date) -> dict[int, list[Gap]]:
    """Current gaps of many startups in three queries (milestones, check-ins, enrolments)."""
    from collections import defaultdict

    ids = [s.id for s in startups]
    milestones: dict[int, list[Milestone]] = defaultdict(list)
    for milestone in session.execute(select(Milestone).where(Milestone.startup_id.in_(ids))).scalars():
        milestones[milestone.startup_id].append(milestone)
    checkins: dict[int, list[CheckIn]] = defaultdict(list)
    for checkin in session.execute(select(CheckIn).where(CheckIn.startup_id.in_(ids))
                                   .order_by(CheckIn.period)).scalars():
        checkins[checkin.startup_id].append(checkin)
    enrolments: dict[int, Enrolment] = {}
    for enrolment in session.execute(select(Enrolment).join(Enrolment.cohort).where(Enrolment.startup_id.in_(ids))
                                     .options(contains_eager(Enrolment.cohort))
                                     .order_by((Enrolment.status == EnrolmentStatus.ACTIVE).desc(),
                                               Cohort.starts_on.desc())).scalars():
        enrolments.setdefault(enrolment.startup_id, enrolment)  # the same choice as current_enrolment()
    return {s.id: _gaps(s, milestones[s.id], checkins[s.id], enrolments.get(s.id), today) for s in startups}


def _gaps(startup: Startup, milestones: list[Milestone], checkins: list[CheckIn], enrolment: Enrolment | None,
          today: date) -> list[Gap]:
    gaps = [Gap("overdue_milestone", "execution", m.title) for m in milestones if m.is_overdue(today)]
    reported = {c.period for c in checkins}
    if enrolment is not None:
        for period, months in due_periods(enrolment.cohort, enrolment, today):
            if period not in reported and due_date(period, months) < today:
                gaps.append(Gap("missing_checkin", "reporting", period.strftime("%Y-%m")))
    latest = checkins[-1] if checkins else None
    if startup.stage in (Stage.MVP, Stage.REVENUE, Stage.GROWTH) and (latest is None or latest.revenue == 0):
        gaps.append(Gap("no_revenue", "go_to_market", startup.stage))
    year_ago = add_months(today.replace(day=1), -12)
    raised = sum(c.funding_equity + c.funding_debt + c.funding_grant for c in checkins if c.period >= year_ago)
    if startup.stage == Stage.GROWTH and raised == 0:
        gaps.append(Gap("no_funding", "fundraising", ""))
    if startup.stage != Stage.IDEA and not any(c.ip_filings for c in checkins):
        gaps.append(Gap("no_ip", "ip", ""))
    return gaps
