"""Pipeline, review and decision pages: the list with ranking and bulk actions, an application's page
(answers, timeline, reviews, the review form), side-by-side comparison, letters, exports, files."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from flask import Response, abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from incubator.accounts.forms import CSRFOnlyForm
from incubator.accounts.models import User
from incubator.cohorts.models import Cohort
from incubator.core.actions import attempt
from incubator.core.db import get_required
from incubator.core.errors import DomainError
from incubator.core.pagination import MAX_PAGE, paginate
from incubator.core.permissions import Permission, can, require
from incubator.core.storage import storage
from incubator.core.tenancy import get_or_404
from incubator.extensions import db
from incubator.intake import access, decisions, exports, formspec, pipeline, ranking, review
from incubator.intake import bulk as bulk_actions
from incubator.intake.access import visible_application_or_404
from incubator.intake.forms import AssignForm, ConflictForm, DeadlineForm, DecisionForm, MoveForm
from incubator.intake.models import Application, ApplicationFile, Call, Recommendation, Review, Stage
from incubator.intake.views import applicant_page, bp, locale

PER_PAGE = 25
PIPELINE_PER_PAGE = 50  # the ranking page ticks applications in bulk: a longer page


def _cohort_choices() -> list[SelectChoice]:
    return [SelectChoice(0, "—")] + [SelectChoice(c.id, c.name) for c in db.session.execute(
        select(Cohort).where(Cohort.org_id == g.org.id).order_by(Cohort.starts_on.desc())).scalars()]


def _reviewer_choices() -> list[SelectChoice]:
    return [SelectChoice(u.id, u.name) for u in review.reviewers_of(db.session, g.org)]


def _list_state(source: Any, prefix: str = "") -> dict[str, Any]:
    """The pipeline list's filters, sort and page, from its query string (or the bulk form's ``list_`` fields)."""
    stage = source.get(f"{prefix}stage") or None
    return {"stage": stage if stage in set(Stage) else None, "sort": source.get(f"{prefix}sort") or "total",
            "min_reviews": max(0, source.get(f"{prefix}min_reviews", 0, type=int) or 0),
            "page": min(max(1, source.get(f"{prefix}page", 1, type=int) or 1), MAX_PAGE)}


@bp.route("/calls/<int:call_id>/applications")
@require(Permission.MANAGE_PROGRAMMES)
def pipeline_list(call_id: int) -> Any:
    call = get_or_404(Call, call_id)
    state = _list_state(request.args)
    rows = ranking.rank_page(db.session, call, page=state["page"], per_page=PIPELINE_PER_PAGE, stage=state["stage"],
                             sort=state["sort"], min_reviews=state["min_reviews"])
    move_form = MoveForm()
    move_form.stage.choices = [SelectChoice(s.value, s.label) for s in pipeline.MANAGER_STAGES]
    decision_form = DecisionForm()
    decision_form.cohort_id.choices = _cohort_choices()
    decision_form.cohort_id.data = call.cohort_id or 0
    assign_form = AssignForm()
    assign_form.reviewer_id.choices = _reviewer_choices()
    return render_template("intake/pipeline.html", call=call, rows=rows.items, rows_page=rows, stage=state["stage"],
                           sort=state["sort"], min_reviews=state["min_reviews"],
                           stages=[s for s in Stage if s != Stage.DRAFT], move_form=move_form,
                           decision_form=decision_form, assign_form=assign_form, action_form=CSRFOnlyForm(),
                           letters_due=decisions.letters_due_count(db.session, call))


@bp.route("/calls/<int:call_id>/bulk", methods=["POST"])
@require(Permission.MANAGE_PROGRAMMES)
def bulk(call_id: int) -> Any:
    """Bulk actions on the ticked applications: move stage, assign a reviewer, auto-assign, decide."""
    call = get_or_404(Call, call_id)
    if not CSRFOnlyForm().validate_on_submit():
        abort(400)
    form = request.form
    ids = [int(i) for i in form.getlist("application_id") if i.isdigit()]
    action = form.get("action", "")
    deadline = DeadlineForm(meta={"csrf": False})  # the assignments' optional deadline
    if action in ("assign", "auto_assign") and not deadline.validate():
        flash(_("Enter the deadline as a date."), "danger")
    else:
        with attempt(flash_error=True) as outcome:
            result = bulk_actions.run(
                db.session, call, bulk_actions.chosen(db.session, call, ids), current_user, g.membership,
                action, stage=form.get("stage", ""), comment=form.get("comment", ""),
                reviewer_id=form.get("reviewer_id", 0, type=int), decision=form.get("decision", ""),
                cohort_id=form.get("cohort_id", 0, type=int), due_on=deadline.due_on.data, locale=locale())
        if outcome.ok:
            flash(_BULK_DONE[action](result.done), "success")
            for line in (*result.skipped, *result.warnings):
                flash(f"{line.application.display_name}: {line.message}", "warning")
    # Back to the page of the list the applications were ticked on, with its filters and sort.
    defaults = {"stage": None, "sort": "total", "min_reviews": 0, "page": 1}
    state = {k: v for k, v in _list_state(form, "list_").items() if v != defaults[k]}
    return redirect(url_for("intake.pipeline_list", call_id=call.id, **state))


_BULK_DONE = {
    "move": lambda n: _("%(n)d applications moved.", n=n),
    "auto_assign": lambda n: _("%(n)d review assignments made.", n=n),
    "assign": lambda n: _("%(n)d review assignments made.", n=n),
    "decide": lambda n: _("%(n)d decisions recorded.", n=n),
}


def _cohort(cohort_id: int) -> Cohort | None:
    if not cohort_id:
        return None
    return db.session.execute(select(Cohort).where(Cohort.id == cohort_id, Cohort.org_id == g.org.id)) \
        .scalar_one_or_none()


@bp.route("/applications/<int:application_id>")
@applicant_page  # reviewers and managers, or the applicant (a member or not)
def application_page(application_id: int) -> Any:
    application = visible_application_or_404(application_id)
    manager = access.may_manage(g.membership)
    if application.is_owned_by(current_user) and not manager:
        return redirect(url_for("intake.edit_application", application_id=application.id))
    blind = access.is_blind_for(application, current_user, g.membership)
    mine = review.assignment(db.session, application, current_user)
    move_form = MoveForm()
    move_form.stage.choices = [SelectChoice(s.value, s.label)
                               for s in pipeline.allowed_moves(application, g.membership) if s != Stage.ACCEPTED]
    decision_form = DecisionForm()
    decision_form.cohort_id.choices = _cohort_choices()
    decision_form.cohort_id.data = application.call.cohort_id or 0
    assign_form = AssignForm()
    assign_form.reviewer_id.choices = _reviewer_choices()
    reviews = access.visible_reviews(application, current_user, g.membership)
    return render_template(
        "intake/application.html", application=application, call=application.call, blind=blind,
        name=review.display_name(application, blind), answers=review.answers_for(application, blind),
        manager=manager, mine=mine, reviews=reviews, move_form=move_form, decision_form=decision_form,
        assign_form=assign_form, conflict_form=ConflictForm(), action_form=CSRFOnlyForm(),
        recommendations=list(Recommendation), totals={r.id: ranking.review_total(r, application.call.criteria)
                                                      for r in reviews},
        letter=decisions.render_letter(db.session, application) if manager and application.stage in
        pipeline.DECISIONS else None, errors={}, posted={})


@bp.route("/applications/<int:application_id>/move", methods=["POST"])
@require(Permission.MANAGE_PROGRAMMES)
def move(application_id: int) -> Any:
    application = visible_application_or_404(application_id)
    form = MoveForm()
    form.stage.choices = [SelectChoice(s.value, s.label) for s in Stage]
    if not form.validate_on_submit():
        abort(400)
    with attempt(flash_error=True):
        pipeline.move(db.session, application, current_user, g.membership, form.stage.data, form.comment.data or "")
    return redirect(url_for("intake.application_page", application_id=application.id))


@bp.route("/applications/<int:application_id>/assign", methods=["POST"])
@require(Permission.MANAGE_PROGRAMMES)
def assign(application_id: int) -> Any:
    application = visible_application_or_404(application_id)
    form = AssignForm()
    form.reviewer_id.choices = _reviewer_choices()
    if form.validate_on_submit():
        with attempt(flash_error=True) as outcome:
            review.assign(db.session, application, get_required(db.session, User, form.reviewer_id.data),
                          due_on=form.due_on.data)
        if outcome.ok:
            flash(_("The reviewer is assigned and told by email."), "success")
    elif form.due_on.errors:
        flash(_("Enter the deadline as a date."), "danger")
    else:
        flash(_("Choose a reviewer."), "danger")
    return redirect(url_for("intake.application_page", application_id=application.id))


@bp.route("/applications/<int:application_id>/unassign", methods=["POST"])
@require(Permission.MANAGE_PROGRAMMES)
def unassign(application_id: int) -> Any:
    application = visible_application_or_404(application_id)
    form = AssignForm()
    form.reviewer_id.choices = _reviewer_choices()
    if not form.validate_on_submit():
        abort(400)
    mine = next((r for r in application.reviews if r.reviewer_id == form.reviewer_id.data), None)
    if mine is None:
        abort(404)
    with attempt(flash_error=True) as outcome:
        review.unassign(db.session, mine)
    if outcome.ok:
        flash(_("The assignment is removed."), "success")
    return redirect(url_for("intake.application_page", application_id=application.id))


@bp.route("/applications/<int:application_id>/decide", methods=["POST"])
@require(Permission.MANAGE_PROGRAMMES)
def decide(application_id: int) -> Any:
    application = visible_application_or_404(application_id)
    form = DecisionForm()
    form.cohort_id.choices = _cohort_choices()
    if not form.validate_on_submit():
        abort(400)
    # All or nothing: a full cohort leaves no startup, no transition and no invitation to its team.
    with attempt(flash_error=True) as outcome:
        decisions.decide(db.session, application, current_user, g.membership, form.decision.data,
                         _cohort(form.cohort_id.data), form.comment.data or "")
    if not outcome.ok:
        return redirect(url_for("intake.application_page", application_id=application.id))
    flash(_("The decision is recorded. Send the letter from the call's list."), "success")
    for problem in decisions.mapping_problems(application, locale()):
        flash(problem, "warning")
    return redirect(url_for("intake.application_page", application_id=application.id))


@bp.route("/applications/<int:application_id>/review", methods=["POST"])
def submit_review(application_id: int) -> Any:
    application = visible_application_or_404(application_id)  # another's row: 404 before the role's 403
    if not can(Permission.REVIEW_APPLICATIONS):
        abort(403)
    if not CSRFOnlyForm().validate_on_submit():
        abort(400)
    scores = {c.key: request.form.get(f"score-{c.key}", "") for c in application.call.criteria}
    with attempt() as outcome:
        review.submit_review(db.session, application, current_user, scores=scores,
                             recommendation=request.form.get("recommendation"),
                             comment=request.form.get("comment", ""))
    if (error := outcome.error) is not None:
        blind = access.is_blind_for(application, current_user, g.membership)
        flash(error.message, "danger")
        return render_template(
            "intake/application.html", application=application, call=application.call, blind=blind,
            name=review.display_name(application, blind), answers=review.answers_for(application, blind),
            manager=False, mine=review.assignment(db.session, application, current_user), reviews=[],
            conflict_form=ConflictForm(), action_form=CSRFOnlyForm(), recommendations=list(Recommendation),
            totals={}, letter=None, errors=error.fields, posted=request.form), 422
    flash(_("Your review is submitted."), "success")
    return redirect(url_for("intake.application_page", application_id=application.id))


@bp.route("/applications/<int:application_id>/conflict", methods=["POST"])
def declare_conflict(application_id: int) -> Any:
    application = visible_application_or_404(application_id)  # another's row: 404 before the role's 403
    if not can(Permission.REVIEW_APPLICATIONS):
        abort(403)
    form = ConflictForm()
    mine = review.assignment(db.session, application, current_user)
    if mine is None:
        abort(404)
    with attempt() as outcome:
        review.declare_conflict(db.session, mine, current_user, form.reason.data if form.validate_on_submit() else "")
    if (error := outcome.error) is not None:
        flash(error.message, "danger")
        return redirect(url_for("intake.application_page", application_id=application.id))
    flash(_("The conflict of interest is recorded and the assignment declined."), "success")
    return redirect(url_for("intake.my_reviews"))


@bp.route("/applications/<int:application_id>/files/<int:application_file_id>")
@applicant_page  # reviewers and managers, or the applicant (a member or not)
def download_file(application_id: int, application_file_id: int) -> Any:
    """An uploaded PDF, only to people who may see the application, always as an attachment."""
    application = visible_application_or_404(application_id)
    record = get_or_404(ApplicationFile, application_file_id)
    if record.application_id != application.id:
        abort(404)
    blind = access.is_blind_for(application, current_user, g.membership)
    if not blind:
        return storage().send(record.storage_key, mimetype="application/pdf", as_attachment=True,
                              download_name=record.filename)
    # Blind review: the document's metadata (author, title, XMP) goes, and the name says nothing.
    try:
        with storage().open(record.storage_key) as stream:
            data = review.without_identity(stream.read())
    except (FileNotFoundError, ValueError):
        abort(404)
    except DomainError as error:
        flash(error.message, "danger")
        return redirect(url_for("intake.application_page", application_id=application.id))
    return send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=True,
                     download_name=f"application-{application.id}-{record.question_key}.pdf")


@bp.route("/reviews")
@require(Permission.REVIEW_APPLICATIONS)
def my_reviews() -> Any:
    reviews = paginate(db.session, access.assigned_reviews(current_user).options(
        selectinload(Review.application).selectinload(Application.call),
        selectinload(Review.application).selectinload(Application.applicant)), per_page=PER_PAGE)
    rows = reviews.items
    return render_template("intake/my_reviews.html", reviews=rows, reviews_page=reviews, today=review.org_today(g.org),
                           blind={r.id: access.is_blind_for(r.application, current_user, g.membership) for r in rows})


@bp.route("/calls/<int:call_id>/review-progress")
@require(Permission.MANAGE_PROGRAMMES)
def review_progress(call_id: int) -> Any:
    """Per reviewer of the call: assignments, reviews done and overdue ones."""
    call = get_or_404(Call, call_id)
    rows = review.review_progress(db.session, call, review.org_today(g.org))
    return render_template("intake/review_progress.html", call=call, rows=rows, tab="progress")


@bp.app_template_global("intake_today")
def intake_today() -> date:
    """Today in the organisation's time zone, against which review deadlines are overdue."""
    return review.org_today(g.org)


@bp.route("/calls/<int:call_id>/compare")
@require(Permission.MANAGE_PROGRAMMES)
def compare(call_id: int) -> Any:
    """Side by side: the reviews of the chosen applications, criterion by criterion."""
    call = get_or_404(Call, call_id)
    ids = [int(i) for i in request.args.getlist("application_id") if i.isdigit()][:6]
    rows = ranking.rank(db.session, call, only=ids)
    # The choice answers side by side too (sector, stage, country...), as their labels.
    choices = [q for q in call.current_form.questions if q["type"] in formspec.CHOICE_TYPES]
    answers = {}
    for row in rows:
        own = {q["key"]: q for q in row.application.form_version.questions}  # the version it answered
        answers[row.application.id] = {q["key"]: decisions.answer_text(own.get(q["key"], q), row.application.answers
                                                                       .get(q["key"]), locale()) for q in choices}
    return render_template("intake/compare.html", call=call, rows=rows, locale=locale(), choices=choices,
                           answers=answers)


@bp.route("/calls/<int:call_id>/letters", methods=["GET", "POST"])
@require(Permission.MANAGE_PROGRAMMES)
def letters(call_id: int) -> Any:
    """Preview the decision letters not sent yet, then send them from a job."""
    call = get_or_404(Call, call_id)
    form = CSRFOnlyForm()
    if form.validate_on_submit():
        queued = decisions.queue_letters(db.session, call)
        if queued:
            flash(_("%(n)d letters are being sent.", n=queued), "success")
        return redirect(url_for("intake.pipeline_list", call_id=call.id))
    previews = [(a, decisions.render_letter(db.session, a)) for a in decisions.letters_due(db.session, call)]
    return render_template("intake/letters_preview.html", call=call, previews=previews, form=form)


@bp.route("/calls/<int:call_id>/export")
@require(Permission.MANAGE_PROGRAMMES)
def export(call_id: int) -> Any:
    call = get_or_404(Call, call_id)
    fmt = request.args.get("format", "csv")
    if fmt == "xlsx":
        data = exports.to_xlsx(db.session, call, locale())
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        fmt, data, mimetype = "csv", exports.to_csv(db.session, call, locale()).encode("utf-8-sig"), "text/csv"
    return Response(data, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="call-{call.id}-applications.{fmt}"'})
