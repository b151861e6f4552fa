"""Mentoring rules for a cohort's matching: the problem handed to the solver, a run, its proposals
(lock, replace), publishing, and the mentor's and founders' answers. Never commits."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from incubator.accounts.models import User
from incubator.cohorts.checkins import gaps_for
from incubator.cohorts.models import Cohort, Enrolment, EnrolmentStatus, Startup
from incubator.core.db import utcnow
from incubator.core.errors import DomainError, NotAllowed
from incubator.mentoring import criteria
from incubator.mentoring.models import (
    ACTIVE_MATCH,
    EXPERTISE,
    AvailabilityWindow,
    Match,
    MatchRun,
    MatchRunStatus,
    MatchStatus,
    MentorConflict,
    MentoringNeeds,
    MentorProfile,
    MentorSession,
)
from incubator.orgs.models import Organisation
from incubator.webhooks.services import emit_for

if TYPE_CHECKING:
    from incubator.mentoring import matching


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
    from incubator.mentoring import matching  # NumPy and the solver: loaded when a matching runs

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
        if name not in criteria.CRITERIA:
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if not (math.isfinite(number) and 0 <= number <= 100):
            raise DomainError(_("Weights go from 0 to 100."), fields={"weights": _("Weights go from 0 to 100.")})
        weights[name] = number
    return weights


def checked_settings(weights: dict[str, Any] | None, per_startup: int) -> dict[str, float]:
    """The weights as numbers from 0 to 100 and a number of mentors per startup from 1 to 5, or a DomainError."""
    checked = _weights(weights or criteria.DEFAULT_WEIGHTS)
    if not 1 <= per_startup <= 5:
        raise DomainError(_("Between 1 and 5 mentors per startup."),
                          fields={"per_startup": _("Between 1 and 5 mentors per startup.")})
    return checked


def matching_size(session: Session, org: Organisation, cohort: Cohort) -> int:
    """Startup x mentor pairs a run of the cohort's matching scores: what decides whether a job runs it."""
    startups = session.execute(select(func.count()).select_from(Enrolment).where(
        Enrolment.cohort_id == cohort.id, Enrolment.status == EnrolmentStatus.ACTIVE)).scalar_one()
    mentors = session.execute(select(func.count()).select_from(MentorProfile).where(
        MentorProfile.org_id == org.id)).scalar_one()
    return int(startups) * int(mentors)


def new_run(session: Session, org: Organisation, cohort: Cohort, user: User | None, *, weights: dict[str, float],
            per_startup: int, participation_first: bool, queued: bool) -> MatchRun:
    run = MatchRun(org_id=org.id, cohort_id=cohort.id, weights=weights, per_startup=per_startup,
                   participation_first=participation_first, created_by_id=user.id if user else None,
                   status=MatchRunStatus.QUEUED if queued else MatchRunStatus.RUNNING, progress=0)
    session.add(run)
    session.flush()
    return run


def fill_run(session: Session, org: Organisation, cohort: Cohort, run: MatchRun, *, today: date,
             progress: Callable[[int], None] | None = None) -> MatchRun:
    """Solve the run's matching and record it: its proposals replace the cohort's earlier ones."""
    from incubator.mentoring import matching  # NumPy and the solver: loaded when a matching runs

    report = progress or (lambda _percent: None)
    problem, kept = build_problem(session, org, cohort, weights=run.weights, per_startup=run.per_startup,
                                  participation_first=run.participation_first, today=today)
    report(20)
    scores = matching.score_matrix(problem)
    report(40)
    solution = matching.solve(problem, scores)
    report(80)
    for old in session.execute(select(Match).where(Match.cohort_id == cohort.id,
                                                   Match.status == MatchStatus.PROPOSED)).scalars():
        session.delete(old)
    run.total_score, run.unmatched = solution.total_score, solution.unmatched
    run.why_not_best = {str(k): v for k, v in matching.why_not_best(problem, scores, solution).items()}
    for startup_id, mentor_id, score in solution.pairs:
        reasons = [r.as_dict() for r in matching.explain_pair(problem, scores, startup_id, mentor_id)]
        existing = kept.get((startup_id, mentor_id))
        if existing is not None:
            existing.score, existing.reasons = score, reasons
            continue
        session.add(Match(org_id=org.id, cohort_id=cohort.id, run=run, startup_id=startup_id, mentor_id=mentor_id,
                          score=score, reasons=reasons))
    run.status, run.progress, run.finished_at = MatchRunStatus.DONE, 100, utcnow()
    session.flush()
    return run


def run_matching(session: Session, org: Organisation, cohort: Cohort, user: User | None, *,
                 weights: dict[str, float] | None = None, per_startup: int = 2, participation_first: bool = False,
                 today: date) -> MatchRun:
    """Run the cohort's matching now (``mentoring.tasks.start_matching`` hands large ones to a job)."""
    checked = checked_settings(weights, per_startup)
    run = new_run(session, org, cohort, user, weights=checked, per_startup=per_startup,
                  participation_first=participation_first, queued=False)
    return fill_run(session, org, cohort, run, today=today)


def latest_run(session: Session, cohort: Cohort) -> MatchRun | None:
    """The cohort's latest matching run (the proposal on show, or the one last published)."""
    return session.execute(select(MatchRun).where(MatchRun.cohort_id == cohort.id)
                           .order_by(MatchRun.id.desc()).limit(1)).scalar_one_or_none()


def latest_done_run(session: Session, cohort: Cohort) -> MatchRun | None:
    """The cohort's latest run that finished: the proposals on show (a later one may still run or have failed)."""
    return session.execute(select(MatchRun).where(MatchRun.cohort_id == cohort.id,
                                                  MatchRun.status == MatchRunStatus.DONE)
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
    run = latest_done_run(session, cohort)
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


