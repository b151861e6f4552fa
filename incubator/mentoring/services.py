"""Mentoring rules: mentor profiles, conflicts of interest and a startup's mentoring needs.

Running, publishing and answering a matching are in ``mentoring.pairing``; sessions, their logs,
ratings and action items in ``mentoring.mentor_sessions``. Plain functions taking the session and what they
need; they never commit and raise ``DomainError``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, String, cast, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from incubator.accounts.models import User
from incubator.cohorts.models import Startup
from incubator.core.db import utcnow
from incubator.core.errors import Conflict, DomainError
from incubator.core.pagination import text_filter
from incubator.core.timezones import is_valid_timezone
from incubator.mentoring.models import (
    EXPERTISE,
    INDUSTRIES,
    LANGUAGES,
    LIVE_MATCH,
    AvailabilityWindow,
    ConflictKind,
    Match,
    MatchStatus,
    MentorConflict,
    MentoringNeeds,
    MentorProfile,
    MentorSession,
    SessionStatus,
)
from incubator.orgs.models import Organisation

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
    if conflict_between(session, profile.id, startup.id):
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


def conflict_between(session: Session, mentor_id: int, startup_id: int) -> bool:
    """Whether a conflict of interest keeps the mentor and the startup apart."""
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
