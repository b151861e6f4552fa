"""Mentoring pages: mentor profiles, the cohort matching, my matches, sessions, the mentor's feed."""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import ColumnElement, or_, select

from incubator.accounts.forms import CSRFOnlyForm
from incubator.cohorts.models import Cohort, Startup, StartupFounder
from incubator.core.actions import attempt
from incubator.core.db import get_required, utcnow
from incubator.core.errors import DomainError
from incubator.core.feeds import FeedKind, issue_feed_token, live_feed_token
from incubator.core.mail import send_mail
from incubator.core.permissions import Permission, can, require
from incubator.core.tenancy import all_orgs, get_or_404, org_blueprint, org_today
from incubator.extensions import db
from incubator.mentoring import calendar, labels, matching, notifications, services
from incubator.mentoring.forms import (
    AnswerForm,
    ConflictForm,
    LogSessionForm,
    MatchingForm,
    NeedsForm,
    ProfileForm,
    RateForm,
    ReplaceMentorForm,
    RescheduleForm,
    ScheduleForm,
    as_int,
)
from incubator.mentoring.models import (
    EXPERTISE,
    INDUSTRIES,
    LANGUAGES,
    ActionItem,
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

bp = org_blueprint("mentoring", __name__)
feeds = Blueprint("mentoring_feeds", __name__)

WINDOW_RE = re.compile(r"^\s*(mon|tue|wed|thu|fri|sat|sun)\w*\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$", re.I)
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def is_manager() -> bool:
    return can(Permission.MANAGE_MENTORING)


def match_or_404(match_id: int) -> Match:
    match = get_or_404(Match, match_id)
    if not (is_manager() or match.mentor.user_id == current_user.id or match.startup.has_founder(current_user)):
        abort(404)
    if match.status in (MatchStatus.PROPOSED, MatchStatus.LOCKED) and not is_manager():
        abort(404)  # proposals are the manager's until published
    return match


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
@require(Permission.MANAGE_MENTORING)
def mentors() -> Any:
    profiles = db.session.execute(select(MentorProfile).where(MentorProfile.org_id == g.org.id)
                                  .order_by(MentorProfile.id)).scalars().all()
    busy = services.active_matches_per_mentor(db.session, g.org)
    return render_template("mentoring/mentors.html", profiles=profiles, busy=busy, expertise=EXPERTISE)


@bp.route("/mentor-profile", methods=["GET", "POST"], defaults={"mentor_profile_id": None})
@bp.route("/mentors/<int:mentor_profile_id>/edit", methods=["GET", "POST"])
@require(Permission.VIEW_DASHBOARD)
def profile(mentor_profile_id: int | None) -> Any:
    record: MentorProfile | None  # none yet when a mentor opens their own page the first time
    if mentor_profile_id is not None:
        if not is_manager():
            abort(403)
        record = get_or_404(MentorProfile, mentor_profile_id)
        user = record.user
    else:
        if not can(Permission.MENTOR_STARTUPS):
            abort(403)
        user = current_user
        record = db.session.execute(select(MentorProfile).where(MentorProfile.org_id == g.org.id,
                                                                MentorProfile.user_id == user.id)).scalar_one_or_none()
    errors: dict[str, str] = {}
    form = ProfileForm()
    if request.method == "POST" and form.validate_on_submit():
        with attempt() as outcome:
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
def add_conflict(mentor_profile_id: int) -> Any:
    record = get_or_404(MentorProfile, mentor_profile_id)
    if not (is_manager() or record.user_id == current_user.id):
        abort(404)
    form = ConflictForm()
    if form.validate_on_submit():
        with attempt(flash_error=True) as outcome:
            services.record_conflict(db.session, record, get_or_404(Startup, as_int(form.startup_id.data)),
                                     form.kind.data, form.reason.data, current_user,
                                     on_cancel=lambda s: notifications.cancelled(s, None))
        if outcome.ok:
            flash(_("The conflict of interest is recorded: this pair will never be matched."), "success")
    return redirect(request.referrer or url_for("mentoring.mine"))


def conflict_or_404(mentor_conflict_id: int) -> MentorConflict:
    conflict = get_or_404(MentorConflict, mentor_conflict_id)
    if not (is_manager() or conflict.mentor.user_id == current_user.id):
        abort(404)
    return conflict


@bp.route("/mentor-conflicts")
@require(Permission.VIEW_DASHBOARD)
def conflicts() -> Any:
    """Conflicts of interest with who recorded them and when: all of them for managers, a mentor's own."""
    if is_manager():
        mentor = None
    else:
        mentor = db.session.execute(select(MentorProfile).where(MentorProfile.org_id == g.org.id,
                                                                MentorProfile.user_id == current_user.id)
                                    ).scalar_one_or_none()
        if mentor is None:
            abort(403)
    return render_template("mentoring/conflicts.html", conflicts=services.conflicts_for(db.session, g.org, mentor),
                           button_form=CSRFOnlyForm(formdata=None), show_mentor=mentor is None)


@bp.route("/mentor-conflicts/<int:mentor_conflict_id>/delete", methods=["POST"])
@require(Permission.VIEW_DASHBOARD)
def remove_conflict(mentor_conflict_id: int) -> Any:
    conflict = conflict_or_404(mentor_conflict_id)
    if CSRFOnlyForm().validate_on_submit():
        services.remove_conflict(db.session, conflict)
        flash(_("The conflict of interest is removed: the pair may be matched again."), "success")
    return redirect(request.referrer or url_for("mentoring.conflicts"))


@bp.route("/startups/<int:startup_id>/needs", methods=["POST"])
@require(Permission.VIEW_DASHBOARD)
def save_needs(startup_id: int) -> Any:
    startup = get_or_404(Startup, startup_id)
    if not (is_manager() or can(Permission.MANAGE_COHORTS) or startup.has_founder(current_user)):
        abort(404)
    form = NeedsForm()
    if form.validate_on_submit():
        services.save_needs(db.session, startup, needs=form.needs.data, industry=form.industry.data,
                            languages=form.languages.data)
        flash(_("The mentoring needs are saved."), "success")
    return redirect(url_for("mentoring.mine"))


# -- the cohort's matching --------------------------------------------------------------------------

@bp.route("/cohorts/<int:cohort_id>/matching", methods=["GET", "POST"])
@require(Permission.MANAGE_MENTORING)
def cohort_matching(cohort_id: int) -> Any:
    cohort = get_or_404(Cohort, cohort_id)
    form = MatchingForm()
    if request.method == "POST" and form.validate_on_submit():
        with attempt(flash_error=True) as outcome:  # the service checks the weights as typed
            run = services.run_matching(
                db.session, g.org, cohort, current_user, weights=form.weights(),
                per_startup=as_int(form.per_startup.data) or 0,
                participation_first=bool(form.participation_first.data), today=org_today())
        if outcome.ok:
            flash(_("Matching done: total score %(score)s.", score=f"{run.total_score:.1f}"), "success")
        return redirect(url_for("mentoring.cohort_matching", cohort_id=cohort.id))
    latest = db.session.execute(select(MatchRun).where(MatchRun.cohort_id == cohort.id)
                                .order_by(MatchRun.id.desc()).limit(1)).scalar_one_or_none()
    matches = db.session.execute(select(Match).where(Match.cohort_id == cohort.id).join(Match.startup)
                                 .order_by(Startup.name, Match.score.desc())).scalars().all()
    profiles = db.session.execute(select(MentorProfile).where(MentorProfile.org_id == g.org.id)).scalars().all()
    names = {p.id: p.user.name for p in profiles}
    startups = {s.id: s.name for s in db.session.execute(select(Startup).where(Startup.org_id == g.org.id)).scalars()}
    return render_template(
        "mentoring/matching.html", cohort=cohort, run=latest, matches=matches, profiles=profiles,
        why_not_best=_why_not_best_lines(latest, names, startups),
        unmatched=[startups.get(sid, f"#{sid}") for sid in (latest.unmatched if latest else [])],
        weights=latest.weights if latest else matching.DEFAULT_WEIGHTS, criteria=matching.CRITERIA,
        stale={m.id for m in services.stale_matches(db.session, cohort, utcnow())}, expertise=EXPERTISE,
        button_form=CSRFOnlyForm(formdata=None))


def _why_not_best_lines(run: MatchRun | None, names: dict[int, str], startups: dict[int, str]) -> list[dict[str, Any]]:
    """The run's "why not the best mentor" notes with names instead of ids (JSON keeps ids as strings)."""
    lines = []
    for sid, why in ((run.why_not_best or {}) if run else {}).items():
        try:
            startup_id = int(sid)
        except (TypeError, ValueError):
            continue
        given_to = [startups.get(other, f"#{other}") for other in why.get("given_to") or []]
        lines.append({"startup": startups.get(startup_id, f"#{startup_id}"),
                      "mentor": names.get(why.get("mentor_id"), f"#{why.get('mentor_id')}"),
                      "score": f"{float(why.get('score') or 0):.1f}", "capacity": int(why.get("capacity") or 0),
                      "others": ", ".join(given_to) or "—"})
    return sorted(lines, key=lambda line: line["startup"])


@bp.route("/cohorts/<int:cohort_id>/matching/publish", methods=["POST"])
@require(Permission.MANAGE_MENTORING)
def publish(cohort_id: int) -> Any:
    cohort = get_or_404(Cohort, cohort_id)
    if CSRFOnlyForm().validate_on_submit():
        count = services.publish(db.session, cohort, notify=_notify_published)
        flash(_("%(n)d matches published: mentors and founders are asked to accept.", n=count), "success")
    return redirect(url_for("mentoring.cohort_matching", cohort_id=cohort.id))


def _notify_published(match: Match) -> None:
    link = url_for("mentoring.mine", _external=True)
    people = [match.mentor.user] + [f.user for f in match.startup.founders]
    for person in people:
        body = render_template("mentoring/email/published.txt", match=match, person=person, link=link)
        send_mail(db.session, person.email, _("New mentoring match: %(startup)s and %(mentor)s",
                                              startup=match.startup.name, mentor=match.mentor.user.name), body)


@bp.route("/matches/<int:match_id>/lock", methods=["POST"])
@require(Permission.MANAGE_MENTORING)
def lock(match_id: int) -> Any:
    match = get_or_404(Match, match_id)
    if CSRFOnlyForm().validate_on_submit():
        with attempt(flash_error=True):
            services.set_locked(match, match.status != MatchStatus.LOCKED)
    return redirect(url_for("mentoring.cohort_matching", cohort_id=match.cohort_id))


@bp.route("/matches/<int:match_id>/replace", methods=["POST"])
@require(Permission.MANAGE_MENTORING)
def replace(match_id: int) -> Any:
    match = get_or_404(Match, match_id)
    form = ReplaceMentorForm()
    if form.validate_on_submit():
        with attempt(flash_error=True):
            services.replace_mentor(db.session, match, get_or_404(MentorProfile, as_int(form.mentor_id.data)))
    return redirect(url_for("mentoring.cohort_matching", cohort_id=match.cohort_id))


@bp.route("/matches/<int:match_id>/answer", methods=["POST"])
@require(Permission.VIEW_DASHBOARD)
def answer(match_id: int) -> Any:
    match = match_or_404(match_id)
    form = AnswerForm()
    if form.validate_on_submit():
        with attempt(flash_error=True) as outcome:
            services.respond(match, current_user, form.answer.data == "accept")
        if outcome.ok:
            flash(_("Thank you: your answer is recorded."), "success")
    return redirect(url_for("mentoring.mine"))


# -- my matches and sessions ------------------------------------------------------------------------

@bp.route("/mentoring")
@require(Permission.VIEW_DASHBOARD)
def mine() -> Any:
    profile = db.session.execute(select(MentorProfile).where(MentorProfile.org_id == g.org.id,
                                                             MentorProfile.user_id == current_user.id)
                                 ).scalar_one_or_none()
    founder_of = select(StartupFounder.startup_id).where(StartupFounder.user_id == current_user.id)
    conditions: list[ColumnElement[bool]] = [Match.startup_id.in_(founder_of)]
    if profile is not None:
        conditions.append(Match.mentor_id == profile.id)
    matches = db.session.execute(select(Match).where(Match.org_id == g.org.id, or_(*conditions), Match.status.in_(
        (MatchStatus.PUBLISHED, MatchStatus.ACCEPTED, MatchStatus.DECLINED, MatchStatus.ENDED)))
        .order_by(Match.id)).scalars().all()
    matches = [m for m in matches if m.was_published]  # a proposal that ended was never shown to them
    startups = db.session.execute(select(Startup).where(Startup.id.in_(founder_of))).scalars().all()
    needs = {n.startup_id: n for n in db.session.execute(select(MentoringNeeds).where(
        MentoringNeeds.startup_id.in_([s.id for s in startups]))).scalars()}
    return render_template(
        "mentoring/mine.html", profile=profile, matches=matches, startups=startups, needs=needs,
        open_items=services.open_action_items_for(db.session, [m.id for m in matches]),
        hours=services.hours_used_for(db.session, [s.id for s in startups]), expertise=EXPERTISE,
        industries=INDUSTRIES, languages=LANGUAGES, formats=list(SessionFormat),
        button_form=CSRFOnlyForm(formdata=None), feed_url=request.args.get("feed"))


@bp.route("/matches/<int:match_id>/sessions", methods=["POST"])
@require(Permission.VIEW_DASHBOARD)
def schedule(match_id: int) -> Any:
    match = match_or_404(match_id)
    form = ScheduleForm()
    if form.validate_on_submit():
        try:
            local = datetime.fromisoformat(form.starts_at.data)
            zone = ZoneInfo(match.mentor.timezone)
            starts_at = local.replace(tzinfo=zone) if local.tzinfo is None else local
        except ValueError:
            flash(_("Give a date and a time."), "danger")
            return redirect(url_for("mentoring.mine"))
        with attempt(flash_error=True) as outcome:
            record = services.schedule_session(
                db.session, match, starts_at=starts_at, duration_minutes=as_int(form.duration.data) or 0,
                format=form.format.data, location=form.location.data, topics=form.topics.data)
        if outcome.ok:
            invite(record)
            flash(_("The session is scheduled and invitations are sent."), "success")
    return redirect(url_for("mentoring.mine"))


invite = notifications.invite  # kept for callers that import it from here


def session_or_404(mentor_session_id: int) -> MentorSession:
    record = get_or_404(MentorSession, mentor_session_id)
    match_or_404(record.match_id)  # notes: the mentor, the startup and managers only
    return record


@bp.route("/mentor-sessions/<int:mentor_session_id>", methods=["GET", "POST"])
@require(Permission.VIEW_DASHBOARD)
def session_page(mentor_session_id: int) -> Any:
    record = session_or_404(mentor_session_id)
    form = LogSessionForm()
    if request.method == "POST" and form.validate_on_submit():
        actions = []
        for title, owner, due in zip(form.action_title.data, form.action_owner.data, form.action_due.data,
                                     strict=False):
            try:
                due_on = datetime.fromisoformat(due).date() if due else None
            except ValueError:
                due_on = None
            actions.append((title, owner if owner in ("startup", "mentor") else "startup", due_on))
        with attempt(flash_error=True) as outcome:
            services.log_session(record, current_user, notes=form.notes.data, topics=form.topics.data,
                                 duration_minutes=as_int(form.duration.data) or 0, actions=actions, now=utcnow())
        if outcome.ok:
            flash(_("The session is logged."), "success")
            return redirect(url_for("mentoring.session_page", mentor_session_id=record.id))
    now = utcnow()
    upcoming = record.status == SessionStatus.SCHEDULED and services.as_utc(record.starts_at) > now
    return render_template("mentoring/session.html", record=record, button_form=CSRFOnlyForm(formdata=None),
                           agenda=services.open_action_items(db.session, record.match),
                           started=services.as_utc(record.starts_at) <= now,
                           can_change=upcoming and services.can_change_session(record, current_user,
                                                                               manager=is_manager()),
                           local_start=record.starts_at.astimezone(ZoneInfo(record.match.mentor.timezone)))


@bp.route("/mentor-sessions/<int:mentor_session_id>/rate", methods=["POST"])
@require(Permission.VIEW_DASHBOARD)
def rate(mentor_session_id: int) -> Any:
    record = session_or_404(mentor_session_id)
    form = RateForm()
    if form.validate_on_submit():
        with attempt(flash_error=True) as outcome:
            services.rate_session(record, current_user, as_int(form.rating.data) or 0, form.comment.data)
        if outcome.ok:
            flash(_("Thank you for rating the session."), "success")
    return redirect(url_for("mentoring.session_page", mentor_session_id=record.id))


@bp.route("/mentor-sessions/<int:mentor_session_id>/cancel", methods=["POST"])
@require(Permission.VIEW_DASHBOARD)
def cancel_session(mentor_session_id: int) -> Any:
    record = session_or_404(mentor_session_id)
    if CSRFOnlyForm().validate_on_submit():
        with attempt(flash_error=True) as outcome:
            services.cancel_session(db.session, record, current_user, manager=is_manager(), now=utcnow())
        if outcome.ok:
            notifications.cancelled(record, current_user)
            flash(_("The session is cancelled and the others are told."), "success")
    return redirect(url_for("mentoring.session_page", mentor_session_id=record.id))


@bp.route("/mentor-sessions/<int:mentor_session_id>/reschedule", methods=["POST"])
@require(Permission.VIEW_DASHBOARD)
def reschedule_session(mentor_session_id: int) -> Any:
    record = session_or_404(mentor_session_id)
    form = RescheduleForm()
    if form.validate_on_submit():
        try:
            local = datetime.fromisoformat(form.starts_at.data)
        except ValueError:
            flash(_("Give a date and a time."), "danger")
            return redirect(url_for("mentoring.session_page", mentor_session_id=record.id))
        starts_at = local.replace(tzinfo=ZoneInfo(record.match.mentor.timezone)) if local.tzinfo is None else local
        with attempt(flash_error=True) as outcome:
            services.reschedule_session(db.session, record, current_user, manager=is_manager(), starts_at=starts_at,
                                        duration_minutes=as_int(form.duration.data) or 0, now=utcnow())
        if outcome.ok:
            notifications.rescheduled(record, current_user)
            flash(_("The session is moved and the others are told."), "success")
    return redirect(url_for("mentoring.session_page", mentor_session_id=record.id))


@bp.route("/action-items/<int:action_item_id>/done", methods=["POST"])
@require(Permission.VIEW_DASHBOARD)
def action_done(action_item_id: int) -> Any:
    item = get_or_404(ActionItem, action_item_id)
    match_or_404(item.match_id)
    if CSRFOnlyForm().validate_on_submit():
        item.done_at = None if item.done_at else utcnow()
    return redirect(request.referrer or url_for("mentoring.mine"))


@bp.route("/mentor-profile/feed", methods=["POST"])
@require(Permission.MENTOR_STARTUPS)
def new_feed() -> Any:
    record = db.session.execute(select(MentorProfile).where(MentorProfile.org_id == g.org.id,
                                                            MentorProfile.user_id == current_user.id)
                                ).scalar_one_or_none()
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
    from flask_babel import format_datetime

    try:
        when = format_datetime(datetime.fromisoformat(event.get("at", "")), "short")
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
    profile = session.execute(select(MentorProfile).where(MentorProfile.org_id == org.id,
                                                          MentorProfile.user_id == membership.user_id)
                              ).scalar_one_or_none()
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
