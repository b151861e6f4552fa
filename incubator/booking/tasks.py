"""Booking jobs, every five minutes: release expired holds and no-shows, then offer freed time to the
people waiting for it."""

from __future__ import annotations

from huey import crontab
from sqlalchemy import select

from incubator.booking import services, waitlist
from incubator.booking.models import Resource, WaitlistEntry
from incubator.core.jobs import periodic
from incubator.core.tenancy import all_orgs


@periodic(crontab(minute="*/5"))
def release_slots() -> dict[str, int]:
    from incubator.extensions import db

    session = db.session
    with all_orgs(session):  # a job over every organisation's labs
        result = {"expired_holds": services.expire_holds(session), "no_shows": services.release_no_shows(session)}
        resource_ids = set(session.execute(select(WaitlistEntry.resource_id).where(
            WaitlistEntry.status == "waiting")).scalars())
        offered = 0
        for resource in session.execute(select(Resource).where(Resource.id.in_(resource_ids))).scalars():
            offered += waitlist.offer_waiting(session, resource)
        result["offered"] = offered
    return result
