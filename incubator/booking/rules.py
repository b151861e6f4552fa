"""The booking rules but the overlap, each with its own code, and the ranges the overlap searches use.

The rules that need the database (closures, the person's training, the startup's weekly quota) are
answered by one statement, which also reads the startup's credit balance that the price needs: a
booking costs one round trip for all of them, not one each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, exists, func, literal, or_, select
from sqlalchemy.orm import Session

from incubator.accounts.models import User
from incubator.booking.credits import credit_balance_sql
from incubator.booking.models import ACTIVE_STATUSES, HOLD_STATUSES, Booking, Certification, Closure, Resource
from incubator.booking.usage import minutes_sql
from incubator.cohorts.models import Cohort, Startup
from incubator.core.errors import DomainError
from incubator.core.weekly import inside_windows
from incubator.orgs.models import Organisation
from incubator.webhooks.models import WebhookSubscription

MAX_BOOKING = timedelta(days=7)  # no booking is longer, and no buffer longer than a day:
LOOKBACK = MAX_BOOKING + timedelta(days=1)  # so overlap searches only look this far back (an index range)


def rule(code: str, message: str, field: str = "starts_at") -> DomainError:
    return DomainError(message, code=code, fields={field: message})


def overlapping(starts_at: datetime, blocked_until: datetime) -> tuple[ColumnElement[bool], ...]:
    """Bookings whose blocked range meets [starts_at, blocked_until) (an index range on the start)."""
    return (Booking.starts_at < blocked_until, Booking.starts_at > starts_at - LOOKBACK,
            Booking.blocked_until > starts_at)


def holds_slot(now: datetime) -> ColumnElement[bool]:
    """Bookings that keep their time at ``now``: active, and not a hold that ran out (which the
    periodic job, or the next booking of that time, releases)."""
    return and_(Booking.status.in_(ACTIVE_STATUSES), or_(
        Booking.status.not_in(HOLD_STATUSES), Booking.hold_expires_at.is_(None), Booking.hold_expires_at >= now))


def _local(moment: datetime, org: Organisation) -> datetime:
    return moment.astimezone(ZoneInfo(org.timezone))


@dataclass
class Request:
    """What is asked: who books which resource when, for which startup (and its cohort, whose credits apply)."""

    org: Organisation
    resource: Resource
    user: User
    starts_at: datetime
    ends_at: datetime
    startup: Startup | None = None
    cohort: Cohort | None = None
    subscriptions: bool = False  # also read whether the organisation has an active webhook subscription


@dataclass
class Facts:
    """What the rules read that the booking needs: the startup's credit balance in minutes of the
    resource's kind (0 without a cohort), and whether the organisation has an active webhook
    subscription (True when not asked: then the event's own lookup decides)."""

    credits: int
    subscribed: bool
    quota_used: int = 0  # the startup's minutes of the resource in the week of the start (0 without a quota)


def check_rules(session: Session, asked: Request, now: datetime) -> Facts:
    """Every rule but the overlap, each with its own code, in this order: the resource, the times, the
    calendar (notice, horizon, closures, opening hours), the person's training, the startup's quota.

    Answers the facts the booking goes on with (its credits, whether anyone subscribes to webhooks)."""
    org, resource = asked.org, asked.resource
    if not resource.active:
        raise rule("resource_inactive", _("This resource cannot be booked at the moment."), "resource_id")
    _check_times(org, resource, asked.starts_at, asked.ends_at)
    if asked.starts_at < now + timedelta(minutes=resource.min_notice_minutes):
        raise rule("too_late_notice", _("Book at least %(n)d minutes ahead.", n=resource.min_notice_minutes))
    if asked.starts_at > now + timedelta(days=resource.max_days_ahead):
        raise rule("too_far_ahead", _("Book at most %(n)d days ahead.", n=resource.max_days_ahead))
    facts = session.execute(select(*_facts(session, asked))).one()
    if facts.closed is not None:
        raise rule("closed", _("Closed at that time: %(reason)s", reason=facts.closed or _("maintenance")))
    if not resource.open_24h and not within_opening_hours(resource, org, asked.starts_at, asked.ends_at):
        raise rule("outside_opening_hours", _("Outside the opening hours."))
    if not facts.trained:
        training = resource.training  # loaded only when refusing, as before
        raise rule("training_required",
                   _("You need a valid “%(training)s” certification to book this machine.",
                     training=training.name if training is not None else ""), "resource_id")
    minutes = (asked.ends_at - asked.starts_at).total_seconds() / 60
    if _has_quota(asked) and int(facts.quota_used) + minutes > (resource.max_hours_per_week or 0) * 60:
        raise rule("quota_exceeded", _("This would pass %(n)d hours this week for your startup.",
                                       n=resource.max_hours_per_week))
    return Facts(int(facts.credits), bool(facts.subscribed), int(facts.quota_used))


def _has_quota(asked: Request) -> bool:
    return bool(asked.resource.max_hours_per_week) and asked.startup is not None


def _facts(session: Session, asked: Request) -> list[Any]:
    """The columns of the one statement: the reason of a closure at that time (NULL when open), whether
    the person holds the training the resource requires, the startup's minutes of the resource in the
    week, and its credit balance."""
    resource, starts_at, ends_at = asked.resource, asked.starts_at, asked.ends_at
    closed = select(Closure.reason).where(Closure.resource_id == resource.id, Closure.starts_at < ends_at,
                                          Closure.ends_at > starts_at).limit(1).scalar_subquery()
    trained: Any = literal(True)
    if resource.training_id is not None:
        trained = exists(_training(asked.user.id, resource.training_id, _local(ends_at, asked.org).date()))
    used: Any = literal(0)
    if _has_quota(asked) and asked.startup is not None:  # the week of the start, in the organisation's zone
        local_start = _local(starts_at, asked.org)
        week_start = (local_start - timedelta(days=local_start.weekday())).replace(hour=0, minute=0, second=0)
        used = _quota(session, resource.id, asked.startup.id, week_start,
                      week_start + timedelta(days=7)).scalar_subquery()
    credits: Any = literal(0)
    if asked.startup is not None and asked.cohort is not None:
        credits = credit_balance_sql(asked.startup, asked.cohort, resource.kind)
    subscribed: Any = literal(True)
    if asked.subscriptions:  # a confirmed booking's event looks them up only when there is one
        subscribed = exists(select(WebhookSubscription.id).where(WebhookSubscription.org_id == asked.org.id,
                                                                WebhookSubscription.paused.is_(False)))
    return [closed.label("closed"), trained.label("trained"), used.label("quota_used"), credits.label("credits"),
            subscribed.label("subscribed")]


def _quota(session: Session, resource_id: int, startup_id: int, week_start: datetime, week_end: datetime) -> Any:
    return select(func.coalesce(func.sum(minutes_sql(session)), 0)).where(
        Booking.startup_id == startup_id, Booking.resource_id == resource_id, Booking.status.in_(ACTIVE_STATUSES),
        Booking.starts_at < week_end, Booking.starts_at > week_start - LOOKBACK, Booking.ends_at > week_start)


def quota_minutes(session: Session, resource_id: int, startup_id: int, week_start: datetime,
                  week_end: datetime) -> int:
    """Minutes of the startup's active bookings of the resource that meet [week_start, week_end), summed
    by the database (index ``ix_bookings_startup_resource_start``)."""
    return int(session.execute(_quota(session, resource_id, startup_id, week_start, week_end)).scalar_one())


def _check_times(org: Organisation, resource: Resource, starts_at: datetime, ends_at: datetime) -> None:
    """Times with a zone, in order, on the resource's slots, between its shortest and longest booking."""
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise rule("invalid_time", _("Give times with their time zone."))
    if ends_at <= starts_at:
        raise rule("invalid_range", _("The end must come after the start."), "ends_at")
    minutes = (ends_at - starts_at).total_seconds() / 60
    local_start = _local(starts_at, org)
    if minutes % resource.slot_minutes or (local_start.hour * 60 + local_start.minute) % resource.slot_minutes \
            or local_start.second:
        raise rule("not_on_slot", _("Book in steps of %(n)d minutes.", n=resource.slot_minutes))
    if minutes < resource.min_minutes:
        raise rule("too_short", _("Book at least %(n)d minutes.", n=resource.min_minutes), "ends_at")
    if minutes > resource.max_minutes or ends_at - starts_at > MAX_BOOKING:
        raise rule("too_long", _("Book at most %(n)d minutes.", n=resource.max_minutes), "ends_at")


def within_opening_hours(resource: Resource, org: Organisation, starts_at: datetime, ends_at: datetime) -> bool:
    return inside_windows(resource.hours, starts_at, ends_at, org.timezone)


def _training(user_id: int, training_id: int, on: date) -> Any:
    return select(Certification.id).where(Certification.user_id == user_id, Certification.training_id == training_id,
                                          Certification.expires_on >= on)

