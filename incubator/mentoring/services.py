"""Mentoring rules: profiles, running and publishing a matching, answers, sessions, ratings."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, String, cast, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from incubator.accounts.models import User
from incubator.cohorts.checkins import gaps_for
from incubator.cohorts.models import Cohort, Enrolment, EnrolmentStatus, Startup
from incubator.core.db import utcnow
from incubator.core.errors import Conflict, DomainError, NotAllowed
from incubator.core.pagination import text_filter
from incubator.core.timezones import is_valid_timezone
from incubator.core.weekly import inside_windows
from incubator.mentoring import matching
from incubator.mentoring.models import (
    ACTIVE_MATCH,
    EXPERTISE,
    INDUSTRIES,
    LANGUAGES,
    LIVE_MATCH,
    ActionItem,
    AvailabilityWindow,
    ConflictKind,
    Match,
    MatchRun,
    MatchStatus,
    MentorConflict,
    MentoringNeeds,
    MentorProfile,
    MentorSession,
    SessionFormat,
    SessionStatus,
)
from incubator.orgs.models import Organisation
from incubator.webhooks.services import emit_for

STALE_DAYS = 21  # a match with no session for this long is flagged to the manager


# -- profiles ---------------------------------------------------------------------------------------

PROFILE_FIELDS = ("expertise", "industries", "stages", "languages", "capacity", "hours_per_month", "timezone",
                  "headline", "bio", "affiliation", "windows")
AFFILIATIONS = ("state", "university", "business")


def _profile_errors(merged: dict[str, Any], windows: list[tuple[int, Any, Any]]) -> dict[str, str]:
    """The fields of a profile (as it would be once saved) that are out of range, with their messages."""
    capacity, hours_per_month, languages = merged["capacity"], merged["hours_per_month"], merged["languages"]
    checks = [
        ("capacity", capacity is None or not 0 <= capacity <= 50, _("Between 0 and 50 startups.")),
        ("hours_per_month", hours_per_month is None or not 0 <= hours_per_month <= 200, _("Between 0 and 200 hours.")),
        ("languages", not languages, _("Choose at least one language.")),
        ("languages", bool(set(languages or []) - set(LANGUAGES)), _("Not a valid choice.")),
        ("industries", bool(set(merged["industries"]) - set(INDUSTRIES)), _("Not a valid choice.")),
        ("timezone", not is_valid_timezone(merged["timezone"]), _("Unknown time zone.")),
        ("affiliation", merged["affiliation"] not in AFFILIATIONS, _("Not a valid choice.")),
        ("windows", any(not (0 <= weekday <= 6 and starts < ends) for weekday, starts, ends in windows),
         _("Each window needs a weekday and a start before its end.")),
    ]
    fields: dict[str, str] = {}
    for name, failed, message in checks:
        if failed:
            fields.setdefault(name, message)
    return fields


def _normalised(name: str, value: Any) -> Any:
    """A profile field as it is stored: tags lower-case with underscores, lists sorted and unique."""
    if name == "expertise":
        return sorted({t.strip().lower().replace(" ", "_") for t in value if t.strip()})
    if name in ("industries", "stages"):
        return sorted(set(value))
    if name == "languages":
        return list(dict.fromkeys(value))
    if name == "headline":
        return (value or "").strip()
    return value


def save_profile(session: Session, org: Organisation, user: User, **changes: Any) -> MentorProfile:
    """Create or update a member's mentor profile. Only the fields given change (a partial update);
    a new profile takes the defaults for the others. ``windows`` is a list of (weekday, starts, ends)."""
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"unknown profile fields: {sorted(unknown)}")
    profile = session.execute(select(MentorProfile).where(MentorProfile.org_id == org.id,
                                                          MentorProfile.user_id == user.id)).scalar_one_or_none()
    current: dict[str, Any] = {
        "expertise": [], "industries": [], "stages": [], "languages": ["vi"], "capacity": 2, "hours_per_month": 4,
        "timezone": org.timezone or "Asia/Ho_Chi_Minh", "headline": "", "bio": "", "affiliation": "business",
    } if profile is None else {name: getattr(profile, name) for name in PROFILE_FIELDS if name != "windows"}
    merged = {**current, **changes}
    fields = _profile_errors(merged, changes.get("windows") or [])
    if fields:
        raise DomainError(_("Please correct the highlighted fields."), fields=fields)
    is_new = profile is None
    if profile is None:
        profile = MentorProfile(org_id=org.id, user=user)
        session.add(profile)
    for name in PROFILE_FIELDS:
        if name != "windows" and (is_new or name in changes):
            setattr(profile, name, _normalised(name, merged[name]))
    if changes.get("windows") is not None:
        profile.windows = [AvailabilityWindow(org_id=org.id, weekday=w, starts=s, ends=e)
                           for w, s, e in changes["windows"]]
    session.flush()
    return profile


def _json_list_has(column: Any, value: str) -> ColumnElement[bool]:
    """Whether a JSON list of short codes holds ``value`` (compared on the stored text, on every database)."""
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return cast(column, String).like(f'%"{escaped}"%', escape="\\")


def filter_profiles(stmt: Select[Any], *, q: str = "", expertise: str = "", language: str = "") -> Select[Any]:
    """Narrow a SELECT of mentor profiles to a name (typed text), an expertise tag and a language."""
    condition = text_filter(q, User.name)
    if condition is not None:
        stmt = stmt.where(MentorProfile.user_id.in_(select(User.id).where(condition)))
    if expertise:
        stmt = stmt.where(_json_list_has(MentorProfile.expertise, expertise))
    if language:
        stmt = stmt.where(_json_list_has(MentorProfile.languages, language))
    return stmt


def record_conflict(session: Session, profile: MentorProfile, startup: Startup, kind: str, reason: str,
                    by: User, *, now: datetime | None = None,
                    on_cancel: Callable[[MentorSession], None] | None = None) -> MentorConflict:
    """Record that the mentor must never be matched with the startup.

    Side effects: every live match of the pair (proposed, locked, published or accepted) ends, with a
    note in its history; its sessions still to come are cancelled and ``on_cancel`` is called for each
    (the caller tells both sides). The same pair twice is refused (409 ``conflict_exists``)."""
    if kind not in set(ConflictKind):
        raise DomainError(_("Not a valid choice."), fields={"kind": _("Not a valid choice.")})
    if not (reason or "").strip():
        raise DomainError(_("Say what the conflict is."), fields={"reason": _("This field is required.")})
    duplicate = Conflict(_("This conflict of interest is already recorded."), code="conflict_exists")
    if _conflict_between(session, profile.id, startup.id):
        raise duplicate
    conflict = MentorConflict(org_id=profile.org_id, mentor_id=profile.id, startup=startup, kind=ConflictKind(kind),
                              reason=reason.strip(), recorded_by_id=by.id)
    try:
        with session.begin_nested():  # a racing duplicate hits the unique constraint: same answer
            session.add(conflict)
            session.flush()
    except IntegrityError:
        raise duplicate from None
    now = now or utcnow()
    matches = session.execute(select(Match).where(Match.mentor_id == profile.id, Match.startup_id == startup.id,
                                                  Match.status.in_(LIVE_MATCH))).scalars().all()
    for match in matches:
        match.history = [*(match.history or []), {"at": now.isoformat(), "by": by.id, "by_name": by.name,
                                                  "event": "conflict_of_interest", "kind": str(kind),
                                                  "from": str(match.status)}]
        match.status = MatchStatus.ENDED
        for record in match.sessions:
            if record.status == SessionStatus.SCHEDULED and as_utc(record.starts_at) > now:
                record.status = SessionStatus.CANCELLED
                record.sequence += 1
                session.flush()
                if on_cancel is not None:
                    on_cancel(record)
    session.flush()
    return conflict


def remove_conflict(session: Session, conflict: MentorConflict) -> None:
    """Forget a conflict of interest: the pair may be matched again by a later run (an ended match stays ended)."""
    session.delete(conflict)
    session.flush()


def conflicts_stmt(org: Organisation, mentor: MentorProfile | None = None, *,
                   everyone: bool = False) -> Select[MentorConflict]:
    """The organisation's conflicts of interest (``everyone``) or one mentor's (none without a
    profile), newest first."""
    stmt = select(MentorConflict).where(MentorConflict.org_id == org.id)
    if not everyone:
        stmt = stmt.where(MentorConflict.mentor_id == (mentor.id if mentor is not None else None))
    return stmt.order_by(MentorConflict.created_at.desc(), MentorConflict.id.desc())


def conflicts_for(session: Session, org: Organisation, mentor: MentorProfile | None = None) -> list[MentorConflict]:
    """The organisation's conflicts of interest (or one mentor's), newest first."""
    return list(session.execute(conflicts_stmt(org, mentor, everyone=mentor is None)).scalars())


def _conflict_between(session: Session, mentor_id: int, startup_id: int) -> bool:
    return session.execute(select(MentorConflict.id).where(MentorConflict.mentor_id == mentor_id,
                                                           MentorConflict.startup_id == startup_id)).first() is not None


def as_utc(moment: datetime) -> datetime:
    from datetime import UTC

    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def save_needs(session: Session, startup: Startup, *, needs: list[str], industry: str,
               languages: list[str]) -> MentoringNeeds:
    """What a startup asks mentors for; unknown tags, industries and languages are dropped."""
    record = session.execute(select(MentoringNeeds).where(MentoringNeeds.startup_id == startup.id)) \
        .scalar_one_or_none() or MentoringNeeds(org_id=startup.org_id, startup_id=startup.id)
    record.needs = [n for n in needs if n in EXPERTISE]
    record.industry = industry if industry in INDUSTRIES else "other"
    record.languages = [code for code in languages if code in LANGUAGES] or ["vi"]
    session.add(record)
    session.flush()
    return record


def active_matches_per_mentor(session: Session, org: Organisation, exclude_cohort: int | None = None) -> dict[int, int]:
    stmt = select(Match.mentor_id, func.count()).where(Match.org_id == org.id, Match.status.in_(ACTIVE_MATCH))
    if exclude_cohort is not None:
        stmt = stmt.where(Match.cohort_id != exclude_cohort)
    return dict(session.execute(stmt.group_by(Match.mentor_id)).all())


def weekly_hours_utc(windows: list[AvailabilityWindow], tz_name: str) -> frozenset[int]:
    """Hours of the week (0..167, Monday 00:00 UTC = 0) that a mentor's local windows cover."""
    zone = ZoneInfo(tz_name)
    monday = date(2026, 1, 5)  # any Monday; the offset is what matters
    hours = set()
    for window in windows:
        day = monday + timedelta(days=window.weekday)
        start = datetime.combine(day, window.starts, zone).astimezone(ZoneInfo("UTC"))
        end = datetime.combine(day, window.ends, zone).astimezone(ZoneInfo("UTC"))
        cursor = start
        while cursor < end:
            hours.add(((cursor.weekday() * 24) + cursor.hour) % 168)
            cursor += timedelta(hours=1)
    return frozenset(hours)


# -- matching ---------------------------------------------------------------------------------------

def build_problem(session: Session, org: Organisation, cohort: Cohort, *, weights: dict[str, float],
                  per_startup: int, participation_first: bool,
                  today: date) -> tuple[matching.Problem, dict[tuple[int, int], Match]]:
    enrolled = session.execute(select(Startup).join(Enrolment, Enrolment.startup_id == Startup.id).where(
        Enrolment.cohort_id == cohort.id, Enrolment.status == EnrolmentStatus.ACTIVE)
        .order_by(Startup.id)).scalars().all()
    needs = {n.startup_id: n for n in session.execute(select(MentoringNeeds).where(
        MentoringNeeds.startup_id.in_([s.id for s in enrolled]))).scalars()}
    startups = []
    gaps = gaps_for(session, list(enrolled), today)
    for startup in enrolled:
        own = needs.get(startup.id)
        gap_needs = {gap.need for gap in gaps[startup.id] if gap.need in EXPERTISE}
        startups.append(matching.StartupIn(
            id=startup.id, needs=frozenset(set(own.needs if own else []) | gap_needs),
            industry=own.industry if own else "other", stage=str(startup.stage),
            languages=tuple(own.languages) if own and own.languages else ("vi",)))
    busy = active_matches_per_mentor(session, org, exclude_cohort=cohort.id)
    profiles = session.execute(select(MentorProfile).where(MentorProfile.org_id == org.id)
                               .order_by(MentorProfile.id)).scalars().all()
    ratings: dict[int, Any] = {mentor_id: rating for mentor_id, rating in session.execute(
        select(MentorSession.mentor_id, func.avg(MentorSession.rating)).where(
            MentorSession.org_id == org.id, MentorSession.rating.is_not(None)).group_by(MentorSession.mentor_id))}
    mentors = [matching.MentorIn(
        id=p.id, expertise=frozenset(p.expertise), industries=frozenset(p.industries), stages=frozenset(p.stages),
        languages=frozenset(p.languages), capacity=max(0, p.capacity - busy.get(p.id, 0)),
        availability=weekly_hours_utc(p.windows, p.timezone),
        rating=float(ratings[p.id]) if p.id in ratings else None) for p in profiles]
    conflicts = {(startup_id, mentor_id) for startup_id, mentor_id in session.execute(
        select(MentorConflict.startup_id, MentorConflict.mentor_id).where(MentorConflict.org_id == org.id))}
    # A declined pair is not proposed again.
    conflicts |= {(startup_id, mentor_id) for startup_id, mentor_id in session.execute(
        select(Match.startup_id, Match.mentor_id).where(Match.cohort_id == cohort.id,
                                                         Match.status == MatchStatus.DECLINED))}
    kept = session.execute(select(Match).where(Match.cohort_id == cohort.id, Match.status.in_(
        (MatchStatus.LOCKED, *ACTIVE_MATCH)))).scalars().all()
    problem = matching.Problem(startups=startups, mentors=mentors, conflicts=conflicts, weights=weights,
                               per_startup=per_startup, participation_first=participation_first,
                               locked={(m.startup_id, m.mentor_id) for m in kept})
    return problem, {(m.startup_id, m.mentor_id): m for m in kept}


def _weights(typed: dict[str, Any]) -> dict[str, float]:
    """Each criterion's weight as a number from 0 to 100 (text, "nan" or "inf" typed into the page is refused)."""
    weights: dict[str, float] = {}
    for name, value in typed.items():
        if name not in matching.CRITERIA:
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if not (math.isfinite(number) and 0 <= number <= 100):
            raise DomainError(_("Weights go from 0 to 100."), fields={"weights": _("Weights go from 0 to 100.")})
        weights[name] = number
    return weights


def run_matching(session: Session, org: Organisation, cohort: Cohort, user: User | None, *,
                 weights: dict[str, float] | None = None, per_startup: int = 2, participation_first: bool = False,
                 today: date) -> MatchRun:
    weights = _weights(weights or matching.DEFAULT_WEIGHTS)
    if not 1 <= per_startup <= 5:
        raise DomainError(_("Between 1 and 5 mentors per startup."),
                          fields={"per_startup": _("Between 1 and 5 mentors per startup.")})
    problem, kept = build_problem(session, org, cohort, weights=weights, per_startup=per_startup,
                                  participation_first=participation_first, today=today)
    scores = matching.score_matrix(problem)
    solution = matching.solve(problem, scores)
    for old in session.execute(select(Match).where(Match.cohort_id == cohort.id,
                                                   Match.status == MatchStatus.PROPOSED)).scalars():
        session.delete(old)
    run = MatchRun(org_id=org.id, cohort_id=cohort.id, weights=weights, per_startup=per_startup,
                   participation_first=participation_first, total_score=solution.total_score,
                   unmatched=solution.unmatched, created_by_id=user.id if user else None,
                   why_not_best={str(k): v for k, v in matching.why_not_best(problem, scores, solution).items()})
    session.add(run)
    session.flush()
    for startup_id, mentor_id, score in solution.pairs:
        reasons = [r.as_dict() for r in matching.explain_pair(problem, scores, startup_id, mentor_id)]
        existing = kept.get((startup_id, mentor_id))
        if existing is not None:
            existing.score, existing.reasons = score, reasons
            continue
        session.add(Match(org_id=org.id, cohort_id=cohort.id, run=run, startup_id=startup_id, mentor_id=mentor_id,
                          score=score, reasons=reasons))
    session.flush()
    return run


def latest_run(session: Session, cohort: Cohort) -> MatchRun | None:
    """The cohort's latest matching run (the proposal on show, or the one last published)."""
    return session.execute(select(MatchRun).where(MatchRun.cohort_id == cohort.id)
                           .order_by(MatchRun.id.desc()).limit(1)).scalar_one_or_none()


def cohort_matches(session: Session, cohort: Cohort) -> list[Match]:
    """Every match of the cohort, by startup name and best score first: what the matching page shows."""
    return list(session.execute(select(Match).where(Match.cohort_id == cohort.id).join(Match.startup)
                                .order_by(Startup.name, Match.score.desc(), Match.id)).scalars())


def set_locked(match: Match, locked: bool) -> None:
    if match.status not in (MatchStatus.PROPOSED, MatchStatus.LOCKED):
        raise DomainError(_("Only proposals can be locked or unlocked."), code="not_a_proposal")
    match.status = MatchStatus.LOCKED if locked else MatchStatus.PROPOSED


def replace_mentor(session: Session, match: Match, mentor: MentorProfile) -> Match:
    """A manager's own choice for a pair; it is kept (locked) in later runs."""
    if match.status not in (MatchStatus.PROPOSED, MatchStatus.LOCKED):
        raise DomainError(_("Only proposals can be changed."), code="not_a_proposal")
    if session.execute(select(MentorConflict.id).where(MentorConflict.mentor_id == mentor.id,
                                                       MentorConflict.startup_id == match.startup_id)).first():
        raise DomainError(_("This mentor has a conflict of interest with the startup."), code="conflict_of_interest")
    match.mentor, match.status, match.score = mentor, MatchStatus.LOCKED, 0.0
    match.reasons = [{"criterion": "manual", "points": 0.0}]
    session.flush()
    return match


def publish(session: Session, cohort: Cohort, notify: Any = None) -> int:
    matches = session.execute(select(Match).where(Match.cohort_id == cohort.id, Match.status.in_(
        (MatchStatus.PROPOSED, MatchStatus.LOCKED)))).scalars().all()
    for match in matches:
        match.status = MatchStatus.PUBLISHED
        emit_for(match, "match.published", "cohort_id", "startup_id", "mentor_id", "status")
    run = session.execute(select(MatchRun).where(MatchRun.cohort_id == cohort.id)
                          .order_by(MatchRun.id.desc()).limit(1)).scalar_one_or_none()
    if run is not None:
        run.published_at = utcnow()
    if notify is not None:
        for match in matches:
            notify(match)
    return len(matches)


def awaits_answer_from(match: Match, user: User) -> bool:
    """Whether ``user`` (the mentor or a founder) still has to accept or decline the published match."""
    if match.status not in ACTIVE_MATCH:
        return False
    if match.mentor.user_id == user.id and match.mentor_accepted is None:
        return True
    return match.startup.has_founder(user) and match.founder_accepted is None


def respond(match: Match, user: User, accept: bool) -> None:
    """The mentor and a founder each accept or decline; one decline frees the place."""
    if match.status not in ACTIVE_MATCH:
        raise DomainError(_("This match is not open for an answer."), code="not_published")
    if match.mentor.user_id == user.id:
        match.mentor_accepted = accept
    elif match.startup.has_founder(user):
        match.founder_accepted = accept
    else:
        raise NotAllowed(_("Only the mentor and the startup's founders answer a match."))
    if not accept:
        match.status = MatchStatus.DECLINED
    elif match.mentor_accepted and match.founder_accepted:
        match.status = MatchStatus.ACCEPTED


# -- sessions ---------------------------------------------------------------------------------------

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
    if _conflict_between(session, match.mentor_id, match.startup_id):
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


def held_sessions(session: Session, *, cohort_ids: list[int], start: datetime, end: datetime) -> list[Any]:
    """Sessions held for the cohorts' matches that started in [start, end): one row each with the
    startup, the cohort, the month it started (UTC), minutes and rating. For reports; the caller
    scopes the organisations (``all_orgs`` for a funder's cross-organisation report)."""
    if not cohort_ids:
        return []
    return list(session.execute(
        select(Match.startup_id, Match.cohort_id, MentorSession.starts_at, MentorSession.duration_minutes,
               MentorSession.rating)
        .join(Match, Match.id == MentorSession.match_id)
        .where(Match.cohort_id.in_(cohort_ids), MentorSession.status == SessionStatus.HELD,
               MentorSession.starts_at >= start, MentorSession.starts_at < end)
        .order_by(MentorSession.starts_at)).all())
