"""Shared labs: what other organisations share with a partner, and the owner's monthly usage statement
per partner organisation. These queries span organisations on purpose (``all_orgs``): a share names
the owner and the partner, and the partner's bookings belong to the owner."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from incubator.booking.models import Booking, BookingStatus, Resource, ResourceShare
from incubator.core.timezones import add_months
from incubator.orgs.models import Organisation


def shared_with(session: Session, partner: Organisation) -> list[tuple[Any, Resource, Organisation]]:
    """What other organisations share with ``partner``: (share, resource, owner), in one query."""
    rows = session.execute(select(ResourceShare, Resource, Organisation)
                           .join(Resource, Resource.id == ResourceShare.resource_id)
                           .join(Organisation, Organisation.id == ResourceShare.org_id)
                           .where(ResourceShare.partner_org_id == partner.id)
                           .options(joinedload(Resource.lab)).order_by(Organisation.name, Resource.name)
                           .execution_options(all_orgs=True)).all()  # shares are the owners' rows (module docstring)
    return [(share, resource, owner) for share, resource, owner in rows]


def share_for(session: Session, partner: Organisation, resource_id: int) -> Any:
    return session.execute(select(ResourceShare).where(
        ResourceShare.partner_org_id == partner.id, ResourceShare.resource_id == resource_id)
        .execution_options(all_orgs=True)).scalar_one_or_none()  # shares are the owners' rows (module docstring)


def partner_statement(session: Session, owner: Organisation, month: date) -> list[dict[str, Any]]:
    """The owner's monthly usage statement: per partner organisation, bookings, hours and amount."""
    start = datetime.combine(month.replace(day=1), time(0), ZoneInfo(owner.timezone))
    end = datetime.combine(add_months(month, 1), time(0), ZoneInfo(owner.timezone))
    rows = session.execute(select(Booking).where(
        Booking.org_id == owner.id, Booking.partner_org_id.is_not(None), Booking.starts_at >= start,
        Booking.starts_at < end, Booking.status.in_((BookingStatus.CONFIRMED, BookingStatus.COMPLETED,
                                                    BookingStatus.NO_SHOW)))).scalars().all()
    totals: dict[int, dict[str, Any]] = {}
    for booking in rows:
        partner_id = booking.partner_org_id
        if partner_id is None:  # the query asked for partner bookings only
            continue
        line = totals.setdefault(partner_id, {"partner_org_id": partner_id, "bookings": 0, "minutes": 0, "amount": 0})
        line["bookings"] += 1
        line["minutes"] += booking.minutes
        line["amount"] += booking.price
    return sorted(totals.values(), key=lambda line: line["partner_org_id"])

