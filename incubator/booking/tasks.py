"""Booking jobs: release expired payment holds and no-shows, every five minutes."""

from __future__ import annotations

from huey import crontab

from incubator.booking import services
from incubator.core.jobs import periodic
from incubator.core.tenancy import all_orgs


@periodic(crontab(minute="*/5"))
def release_slots() -> dict[str, int]:
    from incubator.extensions import db

    with all_orgs(db.session):
        return {"expired_holds": services.expire_holds(db.session),
                "no_shows": services.release_no_shows(db.session)}
