"""Booking jobs, every five minutes: release expired holds and no-shows, then offer freed time to the
people waiting for it."""

from __future__ import annotations

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from huey import crontab
from sqlalchemy import select

from incubator.booking import services
from incubator.booking.models import Booking, Resource, WaitlistEntry
from incubator.core.db import get_required
from incubator.core.jobs import periodic
from incubator.core.mail import send_mail
from incubator.core.tenancy import all_orgs
from incubator.orgs.models import Organisation


def notify_offer(booking: Booking, link: str) -> None:
    from incubator.extensions import db

    org = get_required(db.session, Organisation, booking.org_id)
    with force_locale(booking.user.locale or org.default_locale):
        subject = _("A slot you waited for is held for you: %(resource)s", resource=booking.resource.name)
        body = render_template("booking/email/offer.txt", booking=booking, link=link, org=org)
    send_mail(db.session, booking.user.email, subject, body)


def offer_waiting(session, resource: Resource, link: str) -> int:
    return len(services.offer_freed_time(session, resource.org, resource, notify=lambda b: notify_offer(b, link)))


@periodic(crontab(minute="*/5"))
def release_slots() -> dict[str, int]:
    from incubator.extensions import db

    session = db.session
    with all_orgs(session):
        result = {"expired_holds": services.expire_holds(session), "no_shows": services.release_no_shows(session)}
        resource_ids = set(session.execute(select(WaitlistEntry.resource_id).where(
            WaitlistEntry.status == "waiting")).scalars())
        offered = 0
        for resource in session.execute(select(Resource).where(Resource.id.in_(resource_ids))).scalars():
            org = get_required(session, Organisation, resource.org_id)
            offered += offer_waiting(session, resource, f"{current_app.config['PUBLIC_URL']}/o/{org.slug}/bookings")
        result["offered"] = offered
    return result
