"""Mentoring rules for sessions: scheduling inside the mentor's availability, moving, cancelling,
logging (with action items), rating, and the hours and staleness figures built on them. Never commits."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from incubator.accounts.models import User
from incubator.cohorts.models import Cohort
from incubator.core.db import local_month, utcnow
from incubator.core.errors import Conflict, DomainError, NotAllowed
from incubator.core.weekly import inside_windows
from incubator.mentoring.models import (
    ACTIVE_MATCH,
    ActionItem,
    Match,
    MatchStatus,
    MentorProfile,
    MentorSession,
    SessionFormat,
    SessionStatus,
)
from incubator.mentoring.services import as_utc, conflict_between
from incubator.webhooks.services import emit_for

STALE_DAYS = 21  # a match with no session for this long is flagged to the manager


def _inside_availability(profile: MentorProfile, starts_at: datetime, ends_at: datetime) -> bool:
    if not profile.windows:
        return True  # no windows declared: any time
    return inside_windows(profile.windows, starts_at, ends_at, profile.timezone)


def _check_slot(session: Session, match: Match, *, starts_at: datetime, duration_minutes: int, format: str,
                exclude: MentorSession | None = None, now: datetime | None = None) -> None:
    """The rules of a session's time: an active match without a conflict of interest, a time zone,
    15 minutes to 8 hours, inside the mentor's availability, no overlap with another of the mentor's
    sessions, and (with ``now``) not in the past."""
    if match.status == MatchStatus.ENDED:
        raise Conflict(_("This match has ended: no more sessions can be booked."), code="match_not_active")
    if match.status not in ACTIVE_MATCH:
        raise DomainError(_("Sessions are for published matches."), code="match_not_active")
    if conflict_between(session, match.mentor_id, match.startup_id):
        raise Conflict(_("This mentor has a conflict of interest with the startup: no sessions can be booked."),
                       code="conflict_of_interest")
    fields = {}
    if starts_at.tzinfo is None:
        fields["starts_at"] = _("Give the time with its time zone.")
    if not 15 <= (duration_minutes or 0) <= 480:
        fields["duration_minutes"] = _("Between 15 minutes and 8 hours.")
    if format not in set(SessionFormat):
        fields["format"] = _("Not a valid choice.")
    if fields:
        raise DomainError(_("Please correct the highlighted fields."), fields=fields)
    if now is not None and starts_at < now:
        raise DomainError(_("This time is in the past."), code="session_in_past",
                          fields={"starts_at": _("This time is in the past.")})
    ends_at = starts_at + timedelta(minutes=duration_minutes)
    if not _inside_availability(match.mentor, starts_at, ends_at):
        raise DomainError(_("This time is outside the mentor's availability."), code="outside_availability",
                          fields={"starts_at": _("Outside the mentor's availability.")})
    stmt = select(MentorSession).where(
        MentorSession.mentor_id == match.mentor_id, MentorSession.status != SessionStatus.CANCELLED,
        MentorSession.starts_at < ends_at)
    if exclude is not None:
        stmt = stmt.where(MentorSession.id != exclude.id)
    if any(other.ends_at > starts_at for other in session.execute(stmt).scalars()):
        raise Conflict(_("The mentor has another session at that time."), code="session_overlap",
                       fields={"starts_at": _("The mentor has another session at that time.")})


def schedule_session(session: Session, match: Match, *, starts_at: datetime, duration_minutes: int,
                     format: str = SessionFormat.IN_PERSON, location: str = "", topics: str = "") -> MentorSession:
    """A new session of an active match. A time in the past is allowed: it puts on record a session that
    took place, which the mentor then logs."""
    _check_slot(session, match, starts_at=starts_at, duration_minutes=duration_minutes, format=format)
    record = MentorSession(org_id=match.org_id, match=match, mentor_id=match.mentor_id, starts_at=starts_at,
                           duration_minutes=duration_minutes, format=SessionFormat(format), location=location,
                           topics=topics)
    session.add(record)
    session.flush()
    return record


def can_change_session(record: MentorSession, user: User, *, manager: bool) -> bool:
    """Who may cancel or move a session: the mentor, the startup's founders, a manager."""
    return manager or record.match.mentor.user_id == user.id or record.match.startup.has_founder(user)


def _changeable(record: MentorSession, user: User, *, manager: bool, now: datetime) -> None:
    if not can_change_session(record, user, manager=manager):
        raise NotAllowed(_("Only the mentor, the startup's founders and managers change a session."))
    if record.status != SessionStatus.SCHEDULED:
        raise Conflict(_("Only a scheduled session can be changed."), code="not_scheduled")
    if as_utc(record.starts_at) <= now:
        raise DomainError(_("This session has already started: it can no longer be changed."),
                          code="session_in_past")


def cancel_session(session: Session, record: MentorSession, user: User, *, manager: bool,
                   now: datetime | None = None) -> MentorSession:
    """Cancel a session still to come; the caller tells the others (an .ics with METHOD:CANCEL)."""
    _changeable(record, user, manager=manager, now=now or utcnow())
    record.status = SessionStatus.CANCELLED
    record.sequence += 1
    session.flush()
    return record


def reschedule_session(session: Session, record: MentorSession, user: User, *, manager: bool, starts_at: datetime,
                       duration_minutes: int | None = None, now: datetime | None = None) -> MentorSession:
    """Move a session still to come, under the rules of a new one and not into the past; the caller
    tells the others (an updated .ics: same UID, SEQUENCE bumped)."""
    now = now or utcnow()
    _changeable(record, user, manager=manager, now=now)
    duration = record.duration_minutes if duration_minutes is None else duration_minutes
    _check_slot(session, record.match, starts_at=starts_at, duration_minutes=duration, format=record.format,
                exclude=record, now=now)
    record.starts_at, record.duration_minutes = starts_at, duration
    record.sequence += 1
    session.flush()
    return record


def can_log_session(record: MentorSession, user: User) -> bool:
    """Who logs a session (notes, topics, action items): its mentor."""
    return record.match.mentor.user_id == user.id


def can_rate_session(record: MentorSession, user: User) -> bool:
    """Who rates a session: the startup's founders."""
    return record.match.startup.has_founder(user)


def log_session(record: MentorSession, user: User, *, notes: str, topics: str, duration_minutes: int,
                actions: list[tuple[str, str, date | None]], now: datetime | None = None) -> None:
    if not can_log_session(record, user):
        raise NotAllowed(_("Only the mentor logs the session."))
    if record.status == SessionStatus.CANCELLED:
        raise Conflict(_("This session was cancelled."), code="session_cancelled")
    if as_utc(record.starts_at) > (now or utcnow()):
        raise DomainError(_("A session is logged once it has started."), code="session_in_future")
    if not 15 <= (duration_minutes or 0) <= 480:
        raise DomainError(_("Between 15 minutes and 8 hours."),
                          fields={"duration_minutes": _("Between 15 minutes and 8 hours.")})
    record.notes, record.topics, record.duration_minutes = notes, topics, duration_minutes
    record.status = SessionStatus.HELD
    for title, owner, due_on in actions:
        if title.strip():
            record.action_items.append(ActionItem(org_id=record.org_id, match_id=record.match_id,
                                                  title=title.strip(), owner=owner, due_on=due_on))
    emit_for(record, "session.logged", "match_id", "mentor_id", "starts_at", "duration_minutes", "status")


def rate_session(record: MentorSession, user: User, rating: int, comment: str) -> None:
    """The startup rates a held session, once (a second rating is refused, 409 ``already_rated``)."""
    if not can_rate_session(record, user):
        raise NotAllowed(_("Only the startup rates its sessions."))
    if record.status != SessionStatus.HELD:
        raise DomainError(_("A session is rated once it has been held."), code="not_held")
    if record.rating is not None:
        raise Conflict(_("This session is already rated."), code="already_rated")
    if rating not in (1, 2, 3, 4, 5):
        raise DomainError(_("From 1 to 5."), fields={"rating": _("From 1 to 5.")})
    record.rating, record.rating_comment = rating, (comment or "").strip()


def set_action_done(item: ActionItem, done: bool, now: datetime | None = None) -> ActionItem:
    """Mark an action item done (keeping when it was first marked) or open again."""
    if not done:
        item.done_at = None
    elif item.done_at is None:
        item.done_at = now or utcnow()
    return item


def open_action_items(session: Session, match: Match) -> list[ActionItem]:
    return open_action_items_for(session, [match.id])[match.id]


def open_action_items_for(session: Session, match_ids: list[int]) -> dict[int, list[ActionItem]]:
    """Open action items per match, in one query: the agenda of each match's next session."""
    found: dict[int, list[ActionItem]] = {match_id: [] for match_id in match_ids}
    for item in session.execute(select(ActionItem).where(ActionItem.match_id.in_(match_ids),
                                                         ActionItem.done_at.is_(None))
                                .order_by(ActionItem.due_on)).scalars():
        found[item.match_id].append(item)
    return found


def hours_used(session: Session, startup_id: int) -> float:
    return hours_used_for(session, [startup_id]).get(startup_id, 0.0)


def hours_used_for(session: Session, startup_ids: list[int]) -> dict[int, float]:
    """Mentoring hours held per startup (counted against the cohort's included hours), in one query."""
    rows = session.execute(select(Match.startup_id, func.sum(MentorSession.duration_minutes)).join(
        Match, Match.id == MentorSession.match_id).where(Match.startup_id.in_(startup_ids),
                                                         MentorSession.status == SessionStatus.HELD)
        .group_by(Match.startup_id)).all()
    used = {startup_id: round((minutes or 0) / 60, 1) for startup_id, minutes in rows}
    return {startup_id: used.get(startup_id, 0.0) for startup_id in startup_ids}


def stale_matches(session: Session, cohort: Cohort, now: datetime) -> list[Match]:
    """Active matches without a session in the last STALE_DAYS days (or ever, once that long)."""
    cutoff = now - timedelta(days=STALE_DAYS)
    matches = session.execute(select(Match).where(Match.cohort_id == cohort.id,
                                                  Match.status.in_(ACTIVE_MATCH))).scalars().all()
    last = dict(session.execute(select(MentorSession.match_id, func.max(MentorSession.starts_at)).where(
        MentorSession.status != SessionStatus.CANCELLED,
        MentorSession.match_id.in_([m.id for m in matches])).group_by(MentorSession.match_id)).all())
    stale = []
    for match in matches:
        latest = last.get(match.id)
        if latest is not None and latest.tzinfo is None:
            from datetime import UTC

            latest = latest.replace(tzinfo=UTC)
        if (latest or match.created_at) < cutoff:
            stale.append(match)
    return stale


def held_session_sums(session: Session, *, cohort_ids: list[int], start: datetime, end: datetime, tz_name: str,
                      months: list[date]) -> tuple[list[Any], list[Any]]:
    """The sessions held for the cohorts' matches that started in [start, end) (the first days of ``months``
    at midnight in ``tz_name``, as UTC), added up by the database: per startup (startup_id, sessions, minutes,
    rated sessions, the sum of their ratings), and per month in that time zone ("YYYY-MM", sessions, minutes).
    For reports; the caller scopes the organisations."""
    if not cohort_ids:
        return [], []
    held = (Match.cohort_id.in_(cohort_ids), MentorSession.status == SessionStatus.HELD,
            MentorSession.starts_at >= start, MentorSession.starts_at < end)
    per_startup = session.execute(
        select(Match.startup_id, func.count(), func.sum(MentorSession.duration_minutes),
               func.count(MentorSession.rating), func.sum(MentorSession.rating))
        .join(Match, Match.id == MentorSession.match_id).where(*held).group_by(Match.startup_id)).all()
    month = local_month(session, MentorSession.starts_at, tz_name, months).label("month")
    per_month = session.execute(
        select(month, func.count(), func.sum(MentorSession.duration_minutes))
        .join(Match, Match.id == MentorSession.match_id).where(*held).group_by(month)).all()
    return list(per_startup), list(per_month)
