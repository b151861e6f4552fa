"""The booking panels of the organisation dashboard (registered by the app factory).

A founder sees their next bookings; those who run the labs see today's bookings and how many wait for
approval. A fixed number of queries whatever the number of bookings: counts in SQL, at most
``PANEL_ROWS`` rows listed, their resources and people loaded in the same query.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from incubator.booking.models import ACTIVE_STATUSES, Booking, BookingStatus
from incubator.core.db import utcnow
from incubator.core.permissions import Permission
from incubator.core.timezones import to_local

PANEL_ROWS = 5


def dashboard_panels(session: Any, org: Any, membership: Any) -> dict[str, Any]:
    now = utcnow()
    if membership.has(Permission.MANAGE_RESOURCES):
        return {"lab_day": _lab_day(session, org, now)}
    if membership.has(Permission.BOOK_RESOURCES):
        return {"my_bookings": _my_bookings(session, org, membership.user_id, now)}
    return {}


def _my_bookings(session: Any, org: Any, user_id: int, now: datetime) -> dict[str, Any]:
    """The member's next bookings here, shared labs' included (those belong to their owners' orgs)."""
    where = (Booking.user_id == user_id, or_(Booking.org_id == org.id, Booking.partner_org_id == org.id),
             Booking.ends_at > now, Booking.status.in_(ACTIVE_STATUSES))
    rows = session.execute(select(Booking).options(joinedload(Booking.resource)).where(*where)
                           .order_by(Booking.starts_at).limit(PANEL_ROWS)
                           # all_orgs: shared labs' bookings are their owners' rows
                           .execution_options(all_orgs=True)).scalars().all()
    total = session.execute(select(func.count()).select_from(Booking).where(*where)
                            # all_orgs: shared labs' bookings are their owners' rows
                            .execution_options(all_orgs=True)).scalar_one()
    return {"rows": rows, "total": total}


def _lab_day(session: Any, org: Any, now: datetime) -> dict[str, Any]:
    """Today's bookings in the organisation's labs (its own day), and the ones awaiting approval."""
    today = to_local(now, org.timezone).date()
    start = datetime.combine(today, time(0), ZoneInfo(org.timezone))
    end = start + timedelta(days=1)
    today_where = (Booking.org_id == org.id, Booking.starts_at < end, Booking.ends_at > start,
                   Booking.status.in_(ACTIVE_STATUSES))
    rows = session.execute(select(Booking).options(joinedload(Booking.resource), joinedload(Booking.user))
                           .where(*today_where).order_by(Booking.starts_at).limit(PANEL_ROWS)).scalars().all()
    total = session.execute(select(func.count()).select_from(Booking).where(*today_where)).scalar_one()
    pending = session.execute(select(func.count()).select_from(Booking).where(
        Booking.org_id == org.id, Booking.status == BookingStatus.PENDING_APPROVAL, Booking.ends_at > now)
    ).scalar_one()
    return {"rows": rows, "total": total, "pending": pending, "day": today}
