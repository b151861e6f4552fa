"""Check-in reminders: once when a period's check-in falls due, once when it is overdue.

A startup without a founder account has nobody to remind: nothing is logged as sent for it (so the
reminder goes out once a founder joins), and the organisation's managers get one mail per run listing
the startups that could not be reminded, each startup and period told once (``NO_FOUNDER``)."""

from __future__ import annotations

from datetime import date, timedelta

from flask import render_template
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from huey import crontab
from sqlalchemy import select
from sqlalchemy.orm import Session

from incubator.accounts.models import User
from incubator.cohorts.checkins import due_date, due_periods
from incubator.cohorts.models import CheckIn, Enrolment, EnrolmentStatus, ReminderLog, Startup
from incubator.core import formatting
from incubator.core.db import utcnow
from incubator.core.jobs import periodic
from incubator.core.mail import send_mail
from incubator.core.permissions import Role
from incubator.core.tenancy import all_orgs
from incubator.core.timezones import to_local
from incubator.orgs.models import Membership, Organisation

DUE_SOON_DAYS = 7  # the "due" reminder goes out this many days before the due date
NO_FOUNDER = "checkin_no_founder"  # a ReminderLog kind: the managers were told nobody could be reminded


def send_checkin_reminders(session: Session, now_utc=None) -> int:
    """Email founders about check-ins due soon or overdue; answers how many reminders were sent."""
    now_utc = now_utc or utcnow()
    sent = 0
    unreachable: dict[int, list[tuple[Startup, date, date]]] = {}
    with all_orgs(session):  # a job over every organisation
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
                if not _remind(session, org, startup, period, deadline, kind):
                    if (startup.id, NO_FOUNDER, period) not in logged:
                        unreachable.setdefault(org.id, []).append((startup, period, deadline))
                        session.add(ReminderLog(org_id=org.id, startup_id=startup.id, kind=NO_FOUNDER, period=period))
                        logged.add((startup.id, NO_FOUNDER, period))
                    continue
                session.add(ReminderLog(org_id=org.id, startup_id=startup.id, kind=kind, period=period))
                logged.add((startup.id, kind, period))
                sent += 1
        for org_id, missed in unreachable.items():
            _tell_managers(session, orgs[org_id], missed)
        session.flush()  # the logs are every organisation's rows: written while the job spans them
    return sent


def _founder_users(startup: Startup) -> list:
    return [f.user for f in startup.founders if f.user is not None and f.user.active]


def _remind(session: Session, org: Organisation, startup: Startup, period: date, deadline: date, kind: str) -> bool:
    """Mail the startup's founders; answers whether anyone was there to receive it."""
    users = _founder_users(startup)
    for user in users:
        with force_locale(user.locale or org.default_locale):
            subject = (_("Overdue: KPI check-in for %(period)s", period=formatting.date_(period, "yMMMM"))
                       if kind == "checkin_overdue" else
                       _("KPI check-in for %(period)s is due", period=formatting.date_(period, "yMMMM")))
            body = render_template("cohorts/email/reminder.txt", user=user, org=org, startup=startup,
                                   period=formatting.date_(period, "yMMMM"), deadline=deadline,
                                   overdue=kind == "checkin_overdue")
        send_mail(session, user.email, subject, body)
    return bool(users)


def _tell_managers(session: Session, org: Organisation, missed: list[tuple[Startup, date, date]]) -> None:
    """One mail to each owner and manager listing the startups nobody could be reminded for."""
    managers = session.execute(select(User).join(Membership, Membership.user_id == User.id).where(
        Membership.org_id == org.id, Membership.role.in_((Role.OWNER, Role.MANAGER)), User.active.is_(True))
        .order_by(User.id)).scalars().all()
    missed = sorted(missed, key=lambda item: (item[0].name.lower(), item[1]))
    for user in managers:
        with force_locale(user.locale or org.default_locale):
            subject = ngettext("%(num)d startup could not be reminded of its KPI check-in",
                               "%(num)d startups could not be reminded of their KPI check-ins", len(missed))
            body = render_template("cohorts/email/no_founder.txt", user=user, org=org, missed=[
                (startup.name, formatting.date_(period, "yMMMM"), deadline) for startup, period, deadline in missed])
        send_mail(session, user.email, subject, body)


@periodic(crontab(minute="15", hour="1"))
def daily_checkin_reminders() -> int:
    from incubator.extensions import db

    return send_checkin_reminders(db.session)
