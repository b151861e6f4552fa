"""Mentoring pages: the cohort's matching (run, lock, replace a mentor, publish). Managers only."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from incubator.accounts.forms import CSRFOnlyForm
from incubator.cohorts.models import Cohort, Startup
from incubator.core import formatting
from incubator.core.actions import attempt
from incubator.core.db import utcnow
from incubator.core.permissions import Permission, require
from incubator.core.tenancy import get_or_404, org_today
from incubator.extensions import db
from incubator.mentoring import access, criteria, mentor_sessions, notifications, pairing, tasks
from incubator.mentoring.forms import MatchingForm, ReplaceMentorForm, as_int
from incubator.mentoring.models import EXPERTISE, MatchRun, MatchRunStatus, MatchStatus, MentorProfile
from incubator.mentoring.views import bp


@bp.route("/cohorts/<int:cohort_id>/matching", methods=["GET", "POST"])
@require(Permission.MANAGE_MENTORING)
def cohort_matching(cohort_id: int) -> Any:
    cohort = get_or_404(Cohort, cohort_id)
    form = MatchingForm()
    if request.method == "POST" and form.validate_on_submit():
        with attempt(flash_error=True) as outcome:  # the service checks the weights as typed
            run = tasks.start_matching(
                db.session, g.org, cohort, current_user, weights=form.weights(),
                per_startup=as_int(form.per_startup.data) or 0,
                participation_first=bool(form.participation_first.data), today=org_today())
        if outcome.ok and run.status == MatchRunStatus.DONE:
            flash(_("Matching done: total score %(score)s.", score=formatting.number(run.total_score, 1)), "success")
        elif outcome.ok:
            flash(_("A large cohort: the matching runs in the background and this page shows its progress."), "info")
        return redirect(url_for("mentoring.cohort_matching", cohort_id=cohort.id))
    newest = pairing.latest_run(db.session, cohort)
    pending = newest if newest is not None and newest.status != MatchRunStatus.DONE else None
    latest = pairing.latest_done_run(db.session, cohort) if pending else newest
    matches = pairing.cohort_matches(db.session, cohort)
    profiles = db.session.execute(select(MentorProfile).where(MentorProfile.org_id == g.org.id)).scalars().all()
    names = {p.id: p.user.name for p in profiles}
    startups = {s.id: s.name for s in db.session.execute(select(Startup).where(Startup.org_id == g.org.id)).scalars()}
    return render_template(
        "mentoring/matching.html", cohort=cohort, run=latest, matches=matches, profiles=profiles,
        why_not_best=_why_not_best_lines(latest, names, startups),
        unmatched=[startups.get(sid, f"#{sid}") for sid in (latest.unmatched if latest else [])],
        weights=latest.weights if latest else criteria.DEFAULT_WEIGHTS, criteria=criteria.CRITERIA, pending=pending,
        stale={m.id for m in mentor_sessions.stale_matches(db.session, cohort, utcnow())}, expertise=EXPERTISE,
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
                      "score": formatting.number(float(why.get("score") or 0), 1),
                      "capacity": int(why.get("capacity") or 0),
                      "others": ", ".join(given_to) or "—"})
    return sorted(lines, key=lambda line: line["startup"])


@bp.route("/cohorts/<int:cohort_id>/matching/runs/<int:match_run_id>/status")
@require(Permission.MANAGE_MENTORING)
def run_status(cohort_id: int, match_run_id: int) -> Any:
    """What the matching page polls while a job runs the matching."""
    cohort = get_or_404(Cohort, cohort_id)
    run = get_or_404(MatchRun, match_run_id)
    if run.cohort_id != cohort.id:
        abort(404)
    return jsonify({"status": str(run.status), "progress": run.progress})


@bp.route("/cohorts/<int:cohort_id>/matching/publish", methods=["POST"])
@require(Permission.MANAGE_MENTORING)
def publish(cohort_id: int) -> Any:
    cohort = get_or_404(Cohort, cohort_id)
    if CSRFOnlyForm().validate_on_submit():
        count = pairing.publish(db.session, cohort, notify=notifications.published)
        flash(_("%(n)d matches published: mentors and founders are asked to accept.", n=count), "success")
    return redirect(url_for("mentoring.cohort_matching", cohort_id=cohort.id))


@bp.route("/matches/<int:match_id>/lock", methods=["POST"])
@require(Permission.MANAGE_MENTORING)
def lock(match_id: int) -> Any:
    match = access.visible_match_or_404(match_id)
    if CSRFOnlyForm().validate_on_submit():
        with attempt(flash_error=True):
            pairing.set_locked(match, match.status != MatchStatus.LOCKED)
    return redirect(url_for("mentoring.cohort_matching", cohort_id=match.cohort_id))


@bp.route("/matches/<int:match_id>/replace", methods=["POST"])
@require(Permission.MANAGE_MENTORING)
def replace(match_id: int) -> Any:
    match = access.visible_match_or_404(match_id)
    form = ReplaceMentorForm()
    if form.validate_on_submit():
        with attempt(flash_error=True):
            pairing.replace_mentor(db.session, match, get_or_404(MentorProfile, as_int(form.mentor_id.data)))
    return redirect(url_for("mentoring.cohort_matching", cohort_id=match.cohort_id))
