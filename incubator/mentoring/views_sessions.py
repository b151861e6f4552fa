"""Mentoring pages: my matches and their answers, sessions (schedule, log, rate, cancel, move), action items."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from incubator.accounts.forms import CSRFOnlyForm
from incubator.cohorts.models import Startup, StartupFounder
from incubator.core.actions import Outcome, attempt
from incubator.core.db import utcnow
from incubator.core.errors import NotAllowed
from incubator.core.permissions import Permission, require
from incubator.extensions import db
from incubator.mentoring import access, mentor_sessions, notifications, pairing, services
from incubator.mentoring.forms import AnswerForm, LogSessionForm, RateForm, RescheduleForm, ScheduleForm, as_int
from incubator.mentoring.models import (
    EXPERTISE,
    INDUSTRIES,
    LANGUAGES,
    Match,
    MentoringNeeds,
    SessionFormat,
    SessionStatus,
)
from incubator.mentoring.views import bp


def show_refusal(outcome: Outcome) -> None:
    """A refusal of the person (not of the request's merits) answers 403, as the API does; any other
    refusal is flashed."""
    if isinstance(outcome.error, NotAllowed):
        abort(403)
    if outcome.error is not None:
        flash(outcome.error.message, "danger")


@bp.route("/matches/<int:match_id>/answer", methods=["POST"])
@require(Permission.VIEW_DASHBOARD)
def answer(match_id: int) -> Any:
    match = access.visible_match_or_404(match_id)
    form = AnswerForm()
    if form.validate_on_submit():
        with attempt() as outcome:
            pairing.respond(match, current_user, form.answer.data == "accept")
        show_refusal(outcome)
        if outcome.ok:
            flash(_("Thank you: your answer is recorded."), "success")
    return redirect(url_for("mentoring.mine"))


@bp.route("/mentoring")
@require(Permission.VIEW_DASHBOARD)
def mine() -> Any:
    profile = access.own_profile(db.session, g.org, current_user)
    ids = access.visible_match_ids(db.session, g.org, current_user)  # their own, as the API lists them
    matches = db.session.execute(select(Match).where(Match.id.in_(ids)).order_by(Match.id)).scalars().all()
    founder_of = select(StartupFounder.startup_id).where(StartupFounder.user_id == current_user.id)
    startups = db.session.execute(select(Startup).where(Startup.id.in_(founder_of))).scalars().all()
    needs = {n.startup_id: n for n in db.session.execute(select(MentoringNeeds).where(
        MentoringNeeds.startup_id.in_([s.id for s in startups]))).scalars()}
    return render_template(
        "mentoring/mine.html", profile=profile, matches=matches, startups=startups, needs=needs,
        open_items=mentor_sessions.open_action_items_for(db.session, [m.id for m in matches]),
        hours=mentor_sessions.hours_used_for(db.session, [s.id for s in startups]), expertise=EXPERTISE,
        industries=INDUSTRIES, languages=LANGUAGES, formats=list(SessionFormat),
        button_form=CSRFOnlyForm(formdata=None), feed_url=request.args.get("feed"))


def _local_time(text: str, zone: str) -> datetime | None:
    """A date and time typed on a page, in ``zone`` unless it names its own offset; None if it is not one."""
    try:
        local = datetime.fromisoformat(text or "")
    except ValueError:
        return None
    return local.replace(tzinfo=ZoneInfo(zone)) if local.tzinfo is None else local


@bp.route("/matches/<int:match_id>/sessions", methods=["POST"])
@require(Permission.VIEW_DASHBOARD)
def schedule(match_id: int) -> Any:
    match = access.visible_match_or_404(match_id)
    form = ScheduleForm()
    if form.validate_on_submit():
        starts_at = _local_time(form.starts_at.data, match.mentor.timezone)
        if starts_at is None:
            flash(_("Give a date and a time."), "danger")
            return redirect(url_for("mentoring.mine"))
        with attempt(flash_error=True) as outcome:
            record = mentor_sessions.schedule_session(
                db.session, match, starts_at=starts_at, duration_minutes=as_int(form.duration.data) or 0,
                format=form.format.data, location=form.location.data, topics=form.topics.data)
        if outcome.ok:
            notifications.invite(record)
            flash(_("The session is scheduled and invitations are sent."), "success")
    return redirect(url_for("mentoring.mine"))


@bp.route("/mentor-sessions/<int:mentor_session_id>", methods=["GET", "POST"])
@require(Permission.VIEW_DASHBOARD)
def session_page(mentor_session_id: int) -> Any:
    record = access.visible_session_or_404(mentor_session_id)
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
        with attempt() as outcome:
            mentor_sessions.log_session(record, current_user, notes=form.notes.data, topics=form.topics.data,
                                 duration_minutes=as_int(form.duration.data) or 0, actions=actions, now=utcnow())
        show_refusal(outcome)
        if outcome.ok:
            flash(_("The session is logged."), "success")
            return redirect(url_for("mentoring.session_page", mentor_session_id=record.id))
    now = utcnow()
    upcoming = record.status == SessionStatus.SCHEDULED and services.as_utc(record.starts_at) > now
    return render_template("mentoring/session.html", record=record, button_form=CSRFOnlyForm(formdata=None),
                           agenda=mentor_sessions.open_action_items(db.session, record.match),
                           started=services.as_utc(record.starts_at) <= now,
                           can_change=upcoming and access.may_change_session(record),
                           local_start=record.starts_at.astimezone(ZoneInfo(record.match.mentor.timezone)))


@bp.route("/mentor-sessions/<int:mentor_session_id>/rate", methods=["POST"])
@require(Permission.VIEW_DASHBOARD)
def rate(mentor_session_id: int) -> Any:
    record = access.visible_session_or_404(mentor_session_id)
    form = RateForm()
    if form.validate_on_submit():
        with attempt() as outcome:
            mentor_sessions.rate_session(record, current_user, as_int(form.rating.data) or 0, form.comment.data)
        show_refusal(outcome)
        if outcome.ok:
            flash(_("Thank you for rating the session."), "success")
    return redirect(url_for("mentoring.session_page", mentor_session_id=record.id))


@bp.route("/mentor-sessions/<int:mentor_session_id>/cancel", methods=["POST"])
@require(Permission.VIEW_DASHBOARD)
def cancel_session(mentor_session_id: int) -> Any:
    record = access.visible_session_or_404(mentor_session_id)
    if CSRFOnlyForm().validate_on_submit():
        with attempt() as outcome:
            mentor_sessions.cancel_session(db.session, record, current_user, manager=access.is_manager(), now=utcnow())
        show_refusal(outcome)
        if outcome.ok:
            notifications.cancelled(record, current_user)
            flash(_("The session is cancelled and the others are told."), "success")
    return redirect(url_for("mentoring.session_page", mentor_session_id=record.id))


@bp.route("/mentor-sessions/<int:mentor_session_id>/reschedule", methods=["POST"])
@require(Permission.VIEW_DASHBOARD)
def reschedule_session(mentor_session_id: int) -> Any:
    record = access.visible_session_or_404(mentor_session_id)
    form = RescheduleForm()
    if form.validate_on_submit():
        starts_at = _local_time(form.starts_at.data, record.match.mentor.timezone)
        if starts_at is None:
            flash(_("Give a date and a time."), "danger")
            return redirect(url_for("mentoring.session_page", mentor_session_id=record.id))
        with attempt() as outcome:
            mentor_sessions.reschedule_session(db.session, record, current_user, manager=access.is_manager(),
                                        starts_at=starts_at, duration_minutes=as_int(form.duration.data) or 0,
                                        now=utcnow())
        show_refusal(outcome)
        if outcome.ok:
            notifications.rescheduled(record, current_user)
            flash(_("The session is moved and the others are told."), "success")
    return redirect(url_for("mentoring.session_page", mentor_session_id=record.id))


@bp.route("/action-items/<int:action_item_id>/done", methods=["POST"])
@require(Permission.VIEW_DASHBOARD)
def action_done(action_item_id: int) -> Any:
    item = access.visible_action_item_or_404(action_item_id)
    if CSRFOnlyForm().validate_on_submit():
        mentor_sessions.set_action_done(item, item.done_at is None, utcnow())
    return redirect(request.referrer or url_for("mentoring.mine"))
