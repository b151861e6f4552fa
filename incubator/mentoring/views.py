"""Mentoring pages: mentor profiles, conflicts of interest, a startup's needs, the mentor's feed.

The cohort's matching is in ``views_matching``, my matches and sessions in ``views_sessions`` (same
blueprint). Who may see and do what is decided in ``access``, for these pages and the API alike.
"""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Any

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from incubator.accounts.forms import CSRFOnlyForm
from incubator.cohorts.models import Startup
from incubator.core import formatting
from incubator.core.actions import attempt
from incubator.core.db import get_required, utcnow
from incubator.core.errors import DomainError
from incubator.core.feeds import FeedKind, issue_feed_token, live_feed_token
from incubator.core.pagination import paginate
from incubator.core.permissions import Permission, require
from incubator.core.tenancy import all_orgs, get_or_404, org_blueprint
from incubator.core.versioning import check_version
from incubator.extensions import db
from incubator.mentoring import access, calendar, labels, notifications, pairing, services
from incubator.mentoring.forms import ConflictForm, NeedsForm, ProfileForm, as_int
from incubator.mentoring.models import (
    EXPERTISE,
    INDUSTRIES,
    LANGUAGES,
    ConflictKind,
    Match,
    MatchStatus,
    MentorProfile,
    MentorSession,
)
from incubator.orgs.models import Organisation

bp = org_blueprint("mentoring", __name__)
feeds = Blueprint("mentoring_feeds", __name__)

WINDOW_RE = re.compile(r"^\s*(mon|tue|wed|thu|fri|sat|sun)\w*\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$", re.I)
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def parse_windows(text: str) -> list[tuple[int, time, time]]:
    windows = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        found = WINDOW_RE.match(line)
        if not found:
            raise DomainError(_("Write one window a line, like “Tue 18:00-20:00”."),
                              fields={"windows": _("Write one window a line, like “Tue 18:00-20:00”.")})
        day, h1, m1, h2, m2 = found.groups()
        try:
            windows.append((DAYS.index(day[:3].lower()), time(int(h1), int(m1)), time(int(h2), int(m2))))
        except ValueError as exc:
            raise DomainError(_("Write one window a line, like “Tue 18:00-20:00”."),
                              fields={"windows": _("Write one window a line, like “Tue 18:00-20:00”.")}) from exc
    return windows


def windows_text(profile: MentorProfile | None) -> str:
    if profile is None:
        return ""
    return "\n".join(f"{DAYS[w.weekday].title()} {w.starts:%H:%M}-{w.ends:%H:%M}" for w in profile.windows)


# -- mentor profiles --------------------------------------------------------------------------------

@bp.route("/mentors")
@require(Permission.VIEW_DASHBOARD)
@access.require_mentoring_role
def mentors() -> Any:
    """Mentor profiles, filtered by name, expertise and language: a manager's all, a mentor's own."""
    args = {name: request.args.get(name, "").strip() for name in ("q", "expertise", "language")}
    stmt = services.filter_profiles(access.visible_profiles_stmt(g.org), **args)
    page = paginate(db.session, stmt.order_by(MentorProfile.id))
    busy = pairing.active_matches_per_mentor(db.session, g.org)
    return render_template("mentoring/mentors.html", page=page, profiles=page.items, busy=busy, expertise=EXPERTISE,
                           languages=LANGUAGES, filters=args)


@bp.route("/mentor-profile", methods=["GET", "POST"], defaults={"mentor_profile_id": None})
@bp.route("/mentors/<int:mentor_profile_id>/edit", methods=["GET", "POST"])
@require(Permission.VIEW_DASHBOARD)
@access.require_mentoring_role
def profile(mentor_profile_id: int | None) -> Any:
    record: MentorProfile | None  # none yet when a mentor opens their own page the first time
    if mentor_profile_id is not None:
        record = access.visible_profile_or_404(mentor_profile_id)
        user = record.user
    else:
        if not access.is_mentor():
            abort(403)
        user = current_user
        record = access.own_profile(db.session, g.org, user)
    errors: dict[str, str] = {}
    form = ProfileForm()
    if request.method == "POST" and form.validate_on_submit():
        with attempt() as outcome:
            if record is not None and form.version.data is not None:  # as the API: no version, no check
                check_version(record, form.version.data)  # the mentor and a manager may both be editing
            services.save_profile(
                db.session, g.org, user, expertise=form.expertise.data + form.free_tags.data.split(","),
                industries=form.industries.data, stages=form.stages.data, languages=form.languages.data,
                capacity=as_int(form.capacity.data), hours_per_month=as_int(form.hours_per_month.data),
                timezone=form.timezone.data, headline=form.headline.data, bio=form.bio.data,
                affiliation=form.affiliation.data, windows=parse_windows(form.windows.data))
        if (error := outcome.error) is not None:
            errors = error.fields or {"form": error.message}
        else:
            flash(_("The mentor profile is saved."), "success")
            return redirect(url_for("mentoring.mentors") if mentor_profile_id else url_for("mentoring.mine"))
    return render_template("mentoring/profile.html", record=record, user=user, errors=errors, form=form,
                           expertise=EXPERTISE, industries=INDUSTRIES, languages=LANGUAGES,
                           windows=form.windows.data if request.method == "POST" else windows_text(record),
                           stages=["idea", "prototype", "mvp", "revenue", "growth"], conflict_kinds=list(ConflictKind),
                           conflicts=services.conflicts_for(db.session, g.org, record) if record else [],
                           startups=db.session.execute(select(Startup).where(Startup.org_id == g.org.id)
                                                       .order_by(Startup.name)).scalars().all()), \
        422 if errors else 200


@bp.route("/mentors/<int:mentor_profile_id>/conflicts", methods=["POST"])
@require(Permission.VIEW_DASHBOARD)
@access.require_mentoring_role
def add_conflict(mentor_profile_id: int) -> Any:
    record = access.visible_profile_or_404(mentor_profile_id)
    form = ConflictForm()
    if form.validate_on_submit():
        with attempt(flash_error=True) as outcome:
            services.record_conflict(db.session, record, get_or_404(Startup, as_int(form.startup_id.data)),
                                     form.kind.data, form.reason.data, current_user,
                                     on_cancel=lambda s: notifications.cancelled(s, None))
        if outcome.ok:
            flash(_("The conflict of interest is recorded: this pair will never be matched."), "success")
    return redirect(request.referrer or url_for("mentoring.mine"))


@bp.route("/mentor-conflicts")
@require(Permission.VIEW_DASHBOARD)
@access.require_mentoring_role
def conflicts() -> Any:
    """Conflicts of interest with who recorded them and when: all of them for managers, a mentor's own."""
    everyone, mentor = access.conflict_scope(db.session, g.org)
    page = paginate(db.session, services.conflicts_stmt(g.org, mentor, everyone=everyone))
    return render_template("mentoring/conflicts.html", page=page, conflicts=page.items,
                           button_form=CSRFOnlyForm(formdata=None), show_mentor=everyone)


@bp.route("/mentor-conflicts/<int:mentor_conflict_id>/delete", methods=["POST"])
@require(Permission.VIEW_DASHBOARD)
@access.require_mentoring_role
def remove_conflict(mentor_conflict_id: int) -> Any:
    conflict = access.visible_conflict_or_404(mentor_conflict_id)
    if CSRFOnlyForm().validate_on_submit():
        services.remove_conflict(db.session, conflict)
        flash(_("The conflict of interest is removed: the pair may be matched again."), "success")
    return redirect(request.referrer or url_for("mentoring.conflicts"))


@bp.route("/startups/<int:startup_id>/needs", methods=["POST"])
@require(Permission.VIEW_DASHBOARD)
def save_needs(startup_id: int) -> Any:
    startup = access.needs_startup_or_404(startup_id)
    form = NeedsForm()
    if form.validate_on_submit():
        services.save_needs(db.session, startup, needs=form.needs.data, industry=form.industry.data,
                            languages=form.languages.data)
        flash(_("The mentoring needs are saved."), "success")
    return redirect(url_for("mentoring.mine"))


@bp.route("/mentor-profile/feed", methods=["POST"])
@require(Permission.MENTOR_STARTUPS)
def new_feed() -> Any:
    record = access.own_profile(db.session, g.org, current_user)
    if record is None or not CSRFOnlyForm().validate_on_submit():
        abort(404)
    token = issue_feed_token(db.session, org_id=record.org_id, kind=FeedKind.MENTOR, owner_id=record.id)
    flash(_("A new calendar address is made; the old one no longer works."), "success")
    return redirect(url_for("mentoring.mine", feed=url_for("mentoring_feeds.feed", token=token, _external=True)))


@feeds.route("/feeds/mentors/<token>.ics")
def feed(token: str) -> Any:
    """A mentor's sessions as an iCalendar feed, at a secret address the mentor can revoke."""
    token_record = live_feed_token(db.session, token, FeedKind.MENTOR)
    if token_record is None:
        abort(404)
    with all_orgs(db.session):  # the address names no organisation: the token's decides
        record = db.session.execute(select(MentorProfile).where(
            MentorProfile.id == token_record.owner_id, MentorProfile.org_id == token_record.org_id)
        ).scalar_one_or_none()
        if record is None:
            abort(404)
        org = get_required(db.session, Organisation, record.org_id)
        sessions = db.session.execute(select(MentorSession).where(MentorSession.mentor_id == record.id)
                                      .order_by(MentorSession.starts_at)).scalars().all()
        body = calendar.calendar(sessions, f"Mentoring · {record.user.name}", org.timezone)
    return Response(body, mimetype="text/calendar", headers={"Cache-Control": "private, max-age=300"})


# -- words for the pages ----------------------------------------------------------------------------

@bp.app_template_filter("conflict_label")
def conflict_label(kind: str) -> str:
    labels = {"equity": _("Holds equity"), "advisory": _("Advisory role"), "competitor": _("Competitor"),
              "family": _("Family")}
    return labels.get(kind, kind)


bp.add_app_template_filter(labels.reason_text, "reason_text")
# The rules the pages show buttons by, from ``access`` (no template re-derives one).
bp.add_app_template_global(access.may_log_session, "may_log_session")
bp.add_app_template_global(access.may_rate_session, "may_rate_session")
bp.add_app_template_global(access.may_answer_match, "may_answer_match")


@bp.app_template_filter("criterion_label")
def criterion_label(name: str) -> str:
    labels = {"needs": _("Needs and expertise"), "industry": _("Industry"), "stage": _("Stage"),
              "language": _("Language"), "availability": _("Availability"), "feedback": _("Past feedback")}
    return labels.get(name, name)


@bp.app_template_filter("match_status_label")
def match_status_label(status: str) -> str:
    labels = {"proposed": _("proposed"), "locked": _("locked"), "published": _("published"),
              "accepted": _("accepted"), "declined": _("declined"), "ended": _("ended")}
    return labels.get(status, status)


@bp.app_template_filter("session_status_label")
def session_status_label(status: str) -> str:
    labels = {"scheduled": _("scheduled"), "held": _("held"), "cancelled": _("cancelled")}
    return labels.get(status, status)


@bp.app_template_filter("match_event_text")
def match_event_text(event: dict[str, Any]) -> str:
    """One entry of a match's history, in words."""
    try:
        when = formatting.datetime_(datetime.fromisoformat(event.get("at", "")))
    except (TypeError, ValueError):
        when = ""
    if event.get("event") == "conflict_of_interest":
        return _("%(when)s: ended, a conflict of interest was recorded by %(name)s (%(kind)s).", when=when,
                 name=event.get("by_name") or "—", kind=conflict_label(event.get("kind", "")))
    return f"{when}: {event.get('event', '')}"


def dashboard_panels(session: Any, org: Any, membership: Any) -> dict[str, Any]:
    """A mentor's startups and upcoming sessions on the organisation dashboard."""
    if not membership.has(Permission.MENTOR_STARTUPS):
        return {}
    profile = access.own_profile(session, org, membership.user)
    if profile is None:
        return {"mentor_matches": [], "upcoming_sessions": []}
    matches = session.execute(select(Match).where(Match.mentor_id == profile.id, Match.status.in_(
        (MatchStatus.PUBLISHED, MatchStatus.ACCEPTED)))).scalars().all()
    upcoming = session.execute(select(MentorSession).where(
        MentorSession.mentor_id == profile.id, MentorSession.starts_at >= utcnow(),
        MentorSession.status == "scheduled").order_by(MentorSession.starts_at).limit(5)).scalars().all()
    return {"mentor_matches": matches, "upcoming_sessions": upcoming}


from incubator.orgs.panels import PANEL_PROVIDERS  # noqa: E402

PANEL_PROVIDERS.append(dashboard_panels)

invite = notifications.invite  # kept for callers that import it from here

# The other pages of the blueprint (imported for their routes).
from incubator.mentoring import views_matching, views_sessions  # noqa: E402, F401
