"""Check-in reminders: once when a period's check-in falls due, once when it is overdue."""

from __future__ import annotations

from datetime import date, timedelta

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from huey import crontab
from sqlalchemy import select
from sqlalchemy.orm import Session

from incubator.cohorts.checkins import due_date, due_periods
from incubator.cohorts.models import CheckIn, Enrolment, EnrolmentStatus, ReminderLog, Startup
from incubator.core.db import utcnow
from incubator.core.jobs import periodic
from incubator.core.mail import send_mail
from incubator.core.tenancy import all_orgs
from incubator.core.timezones import to_local
from incubator.orgs.models import Organisation

DUE_SOON_DAYS = 7  # the "due" reminder goes out this many days before the due date


def send_checkin_reminders(session: Session, now_utc=None) -> int:
    """Email founders about check-ins due soon or overdue; answers how many reminders were sent."""
    now_utc = now_utc or utcnow()
    sent = 0
    with all_orgs(session):
        orgs = {o.id: o for o in session.execute(select(Organisation)).scalars()}
        enrolments = session.execute(select(Enrolment).where(Enrolment.status.in_(
            (EnrolmentStatus.ACTIVE, EnrolmentStatus.GRADUATED, EnrolmentStatus.ALUMNI)))).scalars().all()
        reported = {(sid, p) for sid, p in session.execute(select(CheckIn.startup_id, CheckIn.period)).all()}
        logged = {(sid, kind, p) for sid, kind, p in session.execute(
            select(ReminderLog.startup_id, ReminderLog.kind, ReminderLog.period)).all()}
        for enrolment in enrolments:
            org = orgs[enrolment.org_id]
            today = to_local(now_utc, org.timezone).date()
            startup = enrolment.startup
            # A period's check-in falls due GRACE_DAYS after it ends, so only ended periods matter.
            for period, months in due_periods(enrolment.cohort, enrolment, today):
                if (startup.id, period) in reported:
                    continue
                deadline = due_date(period, months)
                kind = "checkin_overdue" if deadline < today else \
                    "checkin_due" if deadline - timedelta(days=DUE_SOON_DAYS) <= today else None
                if kind is None or (startup.id, kind, period) in logged:
                    continue
                _remind(session, org, startup, period, deadline, kind)
                session.add(ReminderLog(org_id=org.id, startup_id=startup.id, kind=kind, period=period))
                logged.add((startup.id, kind, period))
                sent += 1
    session.flush()
    return sent


def _remind(session: Session, org: Organisation, startup: Startup, period: date, deadline: date, kind: str) -> None:
    for founder in startup.founders:
        user = founder.user
        with force_locale(user.locale or org.default_locale):
            subject = (_("Overdue: KPI check-in for %(period)s", period=period.strftime("%Y-%m"))
                       if kind == "checkin_overdue" else
                       _("KPI check-in for %(period)s is due", period=period.strftime("%Y-%m")))
            body = render_template("cohorts/email/reminder.txt", user=user, org=org, startup=startup,
                                   period=period.strftime("%Y-%m"), deadline=deadline,
                                   overdue=kind == "checkin_overdue")
        send_mail(session, user.email, subject, body)


@periodic(crontab(minute="15", hour="1"))
def daily_checkin_reminders() -> int:
    from incubator.extensions import db

    return send_checkin_reminders(db.session)
