"""Managers' pages: calls, the form builder, the rubric, decision letter templates."""

from __future__ import annotations

import re
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from incubator.accounts.forms import CSRFOnlyForm
from incubator.cohorts.models import Cohort, Programme
from incubator.core.actions import attempt
from incubator.core.money import to_major, to_minor
from incubator.core.pagination import paginate
from incubator.core.permissions import Permission, require
from incubator.core.tenancy import get_or_404
from incubator.core.timezones import to_local
from incubator.core.versioning import check_version
from incubator.extensions import db
from incubator.intake import calls, decisions, formspec
from incubator.intake.forms import CallForm, CriterionForm, LetterForm, QuestionForm
from incubator.intake.models import Application, Call
from incubator.intake.views import bp, locale, to_utc


@bp.route("/calls/manage")
@require(Permission.MANAGE_PROGRAMMES)
def manage_calls() -> Any:
    status = request.args.get("status") or None
    status = status if status in calls.STATUSES else None
    q = request.args.get("q", "").strip()[:100]
    page = paginate(db.session, calls.calls_stmt(g.org, status=status, q=q).options(selectinload(Call.programme)))
    return render_template("intake/manage_calls.html", calls=page.items, calls_page=page, status=status, q=q,
                           statuses=calls.STATUSES, counts=calls.application_counts(db.session, page.items))


def _call_form(call: Call | None) -> CallForm:
    form = CallForm(obj=call)
    form.programme_id.choices = [SelectChoice(p.id, p.name) for p in db.session.execute(
        select(Programme).where(Programme.org_id == g.org.id).order_by(Programme.name)).scalars()]
    form.cohort_id.choices = [SelectChoice(0, "—")] + [
        SelectChoice(c.id, f"{c.name} ({c.programme.name})") for c in db.session.execute(
        select(Cohort).where(Cohort.org_id == g.org.id).order_by(Cohort.starts_on.desc())).scalars()]
    if call is not None and request.method == "GET":
        form.opens_at.data = to_local(call.opens_at, g.org.timezone).replace(tzinfo=None)
        form.closes_at.data = to_local(call.closes_at, g.org.timezone).replace(tzinfo=None)
        form.cohort_id.data = call.cohort_id or 0
        form.fee.data = to_major(call.fee_minor, g.org.currency) if call.fee_minor is not None else None
        form.version.data = call.version
    return form


def _expected() -> set[str] | None:
    """The form's or rubric's tag the page was rendered from (a post without one is not checked, as an
    API edit without ``If-Match``)."""
    return {request.form["version"]} if "version" in request.form else None


def _flash_stale(outcome: Any) -> None:
    """A stale edit's message sits on a hidden field: it is said above the form instead."""
    if outcome.error is not None and outcome.error.code == "stale":
        flash(outcome.error.message, "danger")


@bp.route("/calls/new", methods=["GET", "POST"], defaults={"call_id": None})
@bp.route("/calls/<int:call_id>/edit", methods=["GET", "POST"])
@require(Permission.MANAGE_PROGRAMMES)
def edit_call(call_id: int | None) -> Any:
    call = get_or_404(Call, call_id) if call_id is not None else None
    form = _call_form(call)
    if form.validate_on_submit():
        programme = db.session.get(Programme, form.programme_id.data)
        cohort = db.session.get(Cohort, form.cohort_id.data) if form.cohort_id.data else None
        with attempt(form=form) as outcome:
            if call is not None and "version" in request.form:
                check_version(call, form.version.data)
            saved = calls.save_call(
                db.session, g.org, call, programme=programme if programme and programme.org_id == g.org.id else None,
                cohort=cohort, title_en=form.title_en.data, title_vi=form.title_vi.data,
                description_en=form.description_en.data or "", description_vi=form.description_vi.data or "",
                opens_at=to_utc(form.opens_at.data, g.org.timezone), closes_at=to_utc(form.closes_at.data,
                                                                                      g.org.timezone),
                is_public=form.is_public.data, cap=form.cap.data,
                fee_minor=to_minor(form.fee.data, g.org.currency) if form.fee.data is not None else None,
                allow_edits=form.allow_edits.data, blind_review=form.blind_review.data,
                reviewers_per_application=form.reviewers_per_application.data)
        _flash_stale(outcome)
        if outcome.ok:
            flash(_("The call is saved."), "success")
            return redirect(url_for("intake.form_builder", call_id=saved.id))
    title = _("Edit call") if call else _("New call")
    return render_template("intake/call_form.html", form=form, call=call, title=title), 422 if form.errors else 200


def _question_form(call: Call) -> QuestionForm:
    form = QuestionForm()
    editing = request.args.get("edit")
    if request.method == "GET" and editing:
        question = next((q for q in call.current_form.questions if q["key"] == editing), None)
        if question is not None:
            form = QuestionForm(data={**question, "original_key": editing,
                                      "options_en": formspec.option_labels_text(question, "en"),
                                      "options_vi": formspec.option_labels_text(question, "vi")})
    if request.method == "GET":
        form.version.data = calls.form_tag(call)
    return form


@bp.route("/calls/<int:call_id>/form", methods=["GET", "POST"])
@require(Permission.MANAGE_PROGRAMMES)
def form_builder(call_id: int) -> Any:
    call = get_or_404(Call, call_id)
    form = _question_form(call)
    if form.validate_on_submit():
        raw = {name: getattr(form, name).data for name in ("type", "label_en", "label_vi", "help_en", "help_vi",
                                                            "required", "options_en", "options_vi", "max_length")}
        expected = _expected()
        with attempt(form=form) as outcome:
            if form.original_key.data:
                calls.edit_question(db.session, call, form.original_key.data, raw, expected)
            else:
                calls.add_question(db.session, call, raw, expected)
        _flash_stale(outcome)
        if outcome.ok:
            flash(_("The form is saved (version %(n)d).", n=call.current_form.number), "success")
            return redirect(url_for("intake.form_builder", call_id=call.id))
    answered = db.session.execute(select(func.count()).select_from(Application).where(
        Application.form_version_id == call.current_form.id)).scalar_one()
    editing = next((q for q in call.current_form.questions if q["key"] == form.original_key.data), None)
    return render_template("intake/form_builder.html", call=call, form=form, answered=answered, editing=editing,
                           action_form=CSRFOnlyForm(), form_tag=calls.form_tag(call)), \
        422 if form.errors else 200


@bp.route("/calls/<int:call_id>/form/preview")
@require(Permission.MANAGE_PROGRAMMES)
def form_preview(call_id: int) -> Any:
    """The current form as an applicant sees it, in the language asked for (``lang``): a page to look at,
    with nothing to send (it takes no post, and saves nothing)."""
    call = get_or_404(Call, call_id)
    lang = request.args.get("lang")
    lang = lang if lang in ("en", "vi") else locale()
    with force_locale(lang):
        return render_template("intake/form_preview.html", call=call, version=call.current_form, lang=lang)


@bp.route("/calls/<int:call_id>/form/change", methods=["POST"])
@require(Permission.MANAGE_PROGRAMMES)
def change_question(call_id: int) -> Any:
    call = get_or_404(Call, call_id)
    form = CSRFOnlyForm()
    key, action = request.form.get("key", ""), request.form.get("action", "")
    if form.validate_on_submit() and any(q["key"] == key for q in call.current_form.questions):
        expected = _expected()
        with attempt(flash_error=True) as outcome:
            if action == "remove":
                calls.remove_question(db.session, call, key, expected)
            elif action in ("up", "down"):
                calls.move_question(db.session, call, key, -1 if action == "up" else 1, expected)
        if outcome.ok:
            flash(_("The form is saved (version %(n)d).", n=call.current_form.number), "success")
    return redirect(url_for("intake.form_builder", call_id=call.id))


@bp.route("/calls/<int:call_id>/rubric", methods=["GET", "POST"])
@require(Permission.MANAGE_PROGRAMMES)
def rubric(call_id: int) -> Any:
    call = get_or_404(Call, call_id)
    form = CriterionForm()
    if request.method == "GET":
        form.version.data = calls.rubric_tag(call)
    if form.validate_on_submit():
        with attempt(form=form) as outcome:
            calls.save_criterion(db.session, call, None, key=form.key.data, label_en=form.label_en.data,
                                 label_vi=form.label_vi.data, scale_min=form.scale_min.data,
                                 scale_max=form.scale_max.data, weight=form.weight.data,
                                 expected=_expected())
        _flash_stale(outcome)
        if outcome.ok:
            flash(_("The rubric is saved."), "success")
            return redirect(url_for("intake.rubric", call_id=call.id))
    return _rubric_page(call, form)


def _rubric_page(call: Call, form: CriterionForm, level_errors: dict[str, dict[str, str]] | None = None,
                 posted: Any = None) -> Any:
    failed = bool(form.errors or level_errors)
    return render_template("intake/rubric.html", call=call, form=form, action_form=CSRFOnlyForm(),
                           rubric_tag=calls.rubric_tag(call), level_scores=calls.level_scores,
                           level_errors=level_errors or {}, posted=posted or {}), 422 if failed else 200


LEVEL_FIELD = re.compile(r"^level-(-?\d{1,7})-(en|vi)$")


@bp.route("/calls/<int:call_id>/rubric/levels", methods=["POST"])
@require(Permission.MANAGE_PROGRAMMES)
def criterion_levels(call_id: int) -> Any:
    """What one criterion's scores mean (fields ``level-<score>-en`` and ``level-<score>-vi``)."""
    call = get_or_404(Call, call_id)
    criterion = next((c for c in call.criteria if c.key == request.form.get("key")), None)
    if not CSRFOnlyForm().validate_on_submit() or criterion is None:
        abort(400)
    levels: dict[str, dict[str, str]] = {}
    for name, text in request.form.items():
        if (found := LEVEL_FIELD.match(name)) is not None:
            levels.setdefault(found.group(1), {})[found.group(2)] = text
    with attempt() as outcome:
        calls.set_levels(db.session, call, criterion, levels, _expected())
    if (error := outcome.error) is not None:
        flash(error.message, "danger")
        form = CriterionForm(formdata=None)
        form.version.data = calls.rubric_tag(call)
        return _rubric_page(call, form, {criterion.key: error.fields}, request.form)
    flash(_("The rubric is saved."), "success")
    return redirect(url_for("intake.rubric", call_id=call.id))


@bp.route("/calls/<int:call_id>/rubric/remove", methods=["POST"])
@require(Permission.MANAGE_PROGRAMMES)
def remove_criterion(call_id: int) -> Any:
    call = get_or_404(Call, call_id)
    form = CSRFOnlyForm()
    criterion = next((c for c in call.criteria if c.key == request.form.get("key")), None)
    if form.validate_on_submit() and criterion is not None:
        with attempt(flash_error=True):
            calls.remove_criterion(db.session, call, criterion, _expected())
    return redirect(url_for("intake.rubric", call_id=call.id))


@bp.route("/letters", methods=["GET", "POST"])
@require(Permission.MANAGE_PROGRAMMES)
def letter_templates() -> Any:
    outcome = request.args.get("outcome", "accepted")
    lang = request.args.get("lang", "en")
    if outcome not in decisions.OUTCOMES or lang not in ("en", "vi"):
        outcome, lang = "accepted", "en"
    subject, body = decisions.letter_template(db.session, g.org.id, outcome, lang)
    form = LetterForm(data={"subject": subject, "body": body} if request.method == "GET" else None)
    previewing = request.form.get("action") == "preview"
    typed: decisions.Letter | None = None  # the sample letter of the text as typed (not saved)
    if form.validate_on_submit():
        if previewing:
            with attempt(form=form):
                typed = decisions.preview_letter(db.session, g.org, outcome, lang, form.subject.data,
                                                 form.body.data)
        else:
            with attempt(form=form) as saved:
                decisions.save_letter_template(db.session, g.org, outcome, lang, form.subject.data,
                                               form.body.data)
            if saved.ok:
                flash(_("The letter is saved."), "success")
                return redirect(url_for("intake.letter_templates", outcome=outcome, lang=lang))
    # The sample letter in both languages: the one edited as typed (after "Preview"), the other as saved.
    previews: dict[str, decisions.Letter | None] = {}
    for language in ("en", "vi"):
        if language == lang and request.method == "POST":
            previews[language] = typed  # None: the text typed has errors, or was saved with them refused
        else:
            saved_subject, saved_body = (subject, body) if language == lang else decisions.letter_template(
                db.session, g.org.id, outcome, language)
            previews[language] = decisions.compose(saved_subject, saved_body,
                                                 decisions.sample_values(db.session, g.org, outcome, language))
    return render_template("intake/letters.html", form=form, outcome=outcome, lang=lang,
                           outcomes=decisions.OUTCOMES, previews=previews, typed=typed,
                           placeholders=decisions.PLACEHOLDER_HELP), 422 if form.errors else 200

