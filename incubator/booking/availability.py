"""Free time: a resource's opening hours minus its closures and the bookings that hold their time
(with their buffers), for the week grids of the pages and the API's availability."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from incubator.booking.models import Booking, Closure, Resource
from incubator.booking.rules import holds_slot, overlapping
from incubator.core.db import utcnow
from incubator.core.weekly import window_times
from incubator.orgs.models import Organisation


def free_intervals(session: Session, org: Organisation, resources: list[Resource], start: datetime,
                   end: datetime) -> dict[int, list[tuple[datetime, datetime]]]:
    """Free time per resource between ``start`` and ``end``, in the organisation's time zone: opening
    hours minus closures and bookings (with their buffers). A hold that ran out is free time.

    One query for the bookings and one for the closures, whatever the number of resources."""
    ids = [r.id for r in resources]
    busy: dict[int, list[tuple[datetime, datetime]]] = {i: [] for i in ids}
    for rid, s, e in session.execute(select(Booking.resource_id, Booking.starts_at, Booking.blocked_until).where(
            Booking.resource_id.in_(ids), holds_slot(utcnow()), *overlapping(start, end))).all():
        busy[rid].append((s, e))
    for rid, s, e in session.execute(select(Closure.resource_id, Closure.starts_at, Closure.ends_at).where(
            Closure.resource_id.in_(ids), Closure.starts_at < end, Closure.ends_at > start)).all():
        busy[rid].append((s, e))
    zone = ZoneInfo(org.timezone)
    out: dict[int, list[tuple[datetime, datetime]]] = {}
    for resource in resources:
        windows = [(start, end)] if resource.open_24h else window_times(resource.hours, start, end, org.timezone)
        out[resource.id] = [(s.astimezone(zone), e.astimezone(zone))
                            for s, e in _subtract(sorted(windows), sorted(busy[resource.id]))]
    return out


def _subtract(windows: list[tuple[datetime, datetime]],
              busy: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    free = []
    for w_start, w_end in windows:
        cursor = w_start
        for b_start, b_end in busy:
            if b_end <= cursor or b_start >= w_end:
                continue
            if b_start > cursor:
                free.append((cursor, b_start))
            cursor = max(cursor, b_end)
            if cursor >= w_end:
                break
        if cursor < w_end:
            free.append((cursor, w_end))
    return free
