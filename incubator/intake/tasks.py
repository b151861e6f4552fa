"""Jobs of the intake: the 24-hour deadline reminder (periodic, sent once) and decision letters."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from huey import crontab
from sqlalchemy import select
from sqlalchemy.orm import Session

from incubator.core.db import get_required, utcnow
from incubator.core.jobs import job, periodic
from incubator.core.mail import send_mail
from incubator.core.tenancy import all_orgs, set_current_org
from incubator.intake.models import Application, Call, Stage
from incubator.orgs.models import Organisation

REMINDER_BEFORE = timedelta(hours=24)


def send_deadline_reminders(session: Session, now: datetime | None = None) -> int:
    """Applicants with a draft in a call closing within 24 hours get one reminder; answers how many."""
    now = now or utcnow()
    sent = 0
    with all_orgs(session):  # a job over every organisation's drafts
        drafts = session.execute(
            select(Application).join(Call).where(Application.stage == Stage.DRAFT, Application.reminded_at.is_(None),
                                                 Call.closes_at > now, Call.closes_at <= now + REMINDER_BEFORE)
            .order_by(Application.id)).scalars().all()
        for application in drafts:
            org = get_required(session, Organisation, application.org_id)
            user, call = application.applicant, application.call
            locale = user.locale or org.default_locale
            with force_locale(locale):
                subject = _("Your application to %(call)s is not submitted yet", call=call.title(locale))
                body = render_template("intake/email/reminder.txt", application=application, call=call, org=org,
                                       locale=locale)
            send_mail(session, user.email, subject, body)
            application.reminded_at = now
            sent += 1
        session.flush()
    return sent


@periodic(crontab(minute="*/15"))
def deadline_reminders() -> int:
    from incubator.extensions import db

    return send_deadline_reminders(db.session)


@job()
def send_decision_letters(org_id: int, call_id: int) -> int:
    from incubator.extensions import db
    from incubator.intake.decisions import send_letters

    session = db.session
    with all_orgs(session):  # a job: the call names its organisation
        call = session.execute(select(Call).where(Call.id == call_id, Call.org_id == org_id)).scalar_one_or_none()
    if call is None:
        return 0
    set_current_org(session, call.org)  # the rest is that organisation's own work
    return send_letters(session, call)
