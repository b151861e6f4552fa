"""Who may see and do what in mentoring, in one place for the pages, the API and the templates.

Two kinds of answer, the same through both doors:

* a member whose role has nothing to do with the thing gets 403 (``require_mentoring_role``: managers
  hold ``MANAGE_MENTORING``, mentors ``MENTOR_STARTUPS``);
* a row the caller may not see answers 404 (the ``visible_*_or_404`` loaders), as another
  organisation's row does.

Rules:

* mentor profiles: a manager sees and edits every profile, a mentor their own;
* conflicts of interest: the same, through the conflict's mentor;
* matches: a manager sees every match; the mentor and the startup's founders see theirs once it was
  published (a proposal, or a proposal that ended before it was published, stays the manager's);
* sessions and action items: whoever sees their match;
* a startup's mentoring needs: managers of mentoring or cohorts, and the startup's founders;
* changing a session (cancel, move): the mentor, the founders, a manager (``mentor_sessions.can_change_session``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, g
from flask_login import current_user
from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import Session

from incubator.accounts.models import User
from incubator.cohorts.models import Startup, StartupFounder
from incubator.core.permissions import Permission
from incubator.core.tenancy import get_or_404
from incubator.mentoring import mentor_sessions, pairing
from incubator.mentoring.models import (
    ActionItem,
    Match,
    MatchStatus,
    MentorConflict,
    MentorProfile,
    MentorSession,
)

SHOWN_STATUSES = (MatchStatus.PUBLISHED, MatchStatus.ACCEPTED, MatchStatus.DECLINED, MatchStatus.ENDED)


# -- roles ------------------------------------------------------------------------------------------

def _membership(membership: Any = None) -> Any:
    return membership if membership is not None else g.get("membership")


def is_manager(membership: Any = None) -> bool:
    """Runs the organisation's mentoring: sees every profile, match and session."""
    member = _membership(membership)
    return member is not None and member.has(Permission.MANAGE_MENTORING)


def is_mentor(membership: Any = None) -> bool:
    member = _membership(membership)
    return member is not None and member.has(Permission.MENTOR_STARTUPS)


def has_mentoring_role(membership: Any = None) -> bool:
    return is_manager(membership) or is_mentor(membership)


def require_mentoring_role(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mentor profiles and conflicts of interest: managers and mentors; any other member gets 403."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not has_mentoring_role():
            abort(403)
        return view(*args, **kwargs)

    wrapper._permissions = (Permission.MANAGE_MENTORING, Permission.MENTOR_STARTUPS)  # type: ignore[attr-defined]
    return wrapper


def _user(user: User | None) -> User:
    return user if user is not None else current_user


# -- mentor profiles and conflicts ------------------------------------------------------------------

def own_profile(session: Session, org: Any, user: User) -> MentorProfile | None:
    """The user's own mentor profile in ``org``, if they have one."""
    return session.execute(select(MentorProfile).where(MentorProfile.org_id == org.id,
                                                       MentorProfile.user_id == user.id)).scalar_one_or_none()


def may_edit_profile(profile: MentorProfile, user: User | None = None, membership: Any = None) -> bool:
    return is_manager(membership) or profile.user_id == _user(user).id


def visible_profiles_stmt(org: Any, user: User | None = None) -> Select[Any]:
    """The mentor profiles the caller may see: all of them for a manager, a mentor's own."""
    stmt = select(MentorProfile).where(MentorProfile.org_id == org.id)
    if not is_manager():
        stmt = stmt.where(MentorProfile.user_id == _user(user).id)
    return stmt


def visible_profile_or_404(mentor_profile_id: int) -> MentorProfile:
    profile = get_or_404(MentorProfile, mentor_profile_id)
    if not may_edit_profile(profile):
        abort(404)
    return profile


def visible_conflict_or_404(mentor_conflict_id: int) -> MentorConflict:
    conflict = get_or_404(MentorConflict, mentor_conflict_id)
    if not may_edit_profile(conflict.mentor):
        abort(404)
    return conflict


def conflict_scope(session: Session, org: Any) -> tuple[bool, MentorProfile | None]:
    """Whose conflicts the caller lists: (True, None) all of them for a manager; a mentor's own
    (False, their profile or None when they have none yet, then the list is empty)."""
    if is_manager():
        return True, None
    return False, own_profile(session, org, _user(None))


# -- a startup's needs ------------------------------------------------------------------------------

def may_edit_needs(startup: Startup, user: User | None = None, membership: Any = None) -> bool:
    member = _membership(membership)
    staff = member is not None and (member.has(Permission.MANAGE_MENTORING) or member.has(Permission.MANAGE_COHORTS))
    return staff or startup.has_founder(_user(user))


def needs_startup_or_404(startup_id: int) -> Startup:
    startup = get_or_404(Startup, startup_id)
    if not may_edit_needs(startup):
        abort(404)
    return startup


# -- matches, sessions, action items ----------------------------------------------------------------

def is_party(match: Match, user: User | None = None) -> bool:
    """The match's mentor or a founder of its startup."""
    person = _user(user)
    return match.mentor.user_id == person.id or match.startup.has_founder(person)


def may_see_match(match: Match, user: User | None = None, membership: Any = None) -> bool:
    if is_manager(membership):
        return True
    return is_party(match, user) and match.was_published  # proposals are the manager's until published


def visible_match_or_404(match_id: int) -> Match:
    match = get_or_404(Match, match_id)
    if not may_see_match(match):
        abort(404)
    return match


def _party_condition(session: Session, org: Any, user: User) -> ColumnElement[bool]:
    founder_of = select(StartupFounder.startup_id).where(StartupFounder.user_id == user.id)
    conditions: list[ColumnElement[bool]] = [Match.startup_id.in_(founder_of)]
    profile = own_profile(session, org, user)
    if profile is not None:
        conditions.append(Match.mentor_id == profile.id)
    return or_(*conditions)


def visible_match_ids(session: Session, org: Any, user: User | None = None) -> list[int]:
    """Ids of the matches a mentor or founder sees (their own, once published), oldest first."""
    person = _user(user)
    candidates = session.execute(select(Match).where(Match.org_id == org.id, _party_condition(session, org, person),
                                                     Match.status.in_(SHOWN_STATUSES))
                                 .order_by(Match.id)).scalars()
    return [m.id for m in candidates if m.was_published]  # a proposal that ended was never shown to them


def visible_matches_stmt(session: Session, org: Any, user: User | None = None) -> Select[Any]:
    """The matches the caller may see, as a SELECT to filter and paginate."""
    stmt = select(Match).where(Match.org_id == org.id)
    if not is_manager():
        stmt = stmt.where(Match.id.in_(visible_match_ids(session, org, user)))
    return stmt


def visible_sessions_stmt(session: Session, org: Any, user: User | None = None) -> Select[Any]:
    """The sessions of the matches the caller may see."""
    stmt = select(MentorSession).join(MentorSession.match).where(MentorSession.org_id == org.id)
    if not is_manager():
        stmt = stmt.where(MentorSession.match_id.in_(visible_match_ids(session, org, user)))
    return stmt


def visible_action_items_stmt(session: Session, org: Any, user: User | None = None) -> Select[Any]:
    stmt = select(ActionItem).where(ActionItem.org_id == org.id)
    if not is_manager():
        stmt = stmt.where(ActionItem.match_id.in_(visible_match_ids(session, org, user)))
    return stmt


def visible_session_or_404(mentor_session_id: int) -> MentorSession:
    record = get_or_404(MentorSession, mentor_session_id)
    visible_match_or_404(record.match_id)  # notes: the mentor, the startup and managers only
    return record


def visible_action_item_or_404(action_item_id: int) -> ActionItem:
    item = get_or_404(ActionItem, action_item_id)
    visible_match_or_404(item.match_id)
    return item


def may_change_session(record: MentorSession, user: User | None = None, membership: Any = None) -> bool:
    """Cancel or move: the mentor, the startup's founders, a manager (the service refuses the others)."""
    return mentor_sessions.can_change_session(record, _user(user), manager=is_manager(membership))


def may_answer_match(match: Match, user: User | None = None) -> bool:
    """Whether the caller (its mentor or a founder) still has to accept or decline the match."""
    return pairing.awaits_answer_from(match, _user(user))


def may_log_session(record: MentorSession, user: User | None = None) -> bool:
    return mentor_sessions.can_log_session(record, _user(user))


def may_rate_session(record: MentorSession, user: User | None = None) -> bool:
    return mentor_sessions.can_rate_session(record, _user(user))
