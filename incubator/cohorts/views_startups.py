"""Startups: profiles and founders, milestones, KPI check-ins. Founders and managers share these pages."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from incubator.accounts.forms import CSRFOnlyForm
from incubator.cohorts import access, checkins, progress, services
from incubator.cohorts.access import visible_checkin_or_404, visible_milestone_or_404, visible_startup_or_404
from incubator.cohorts.forms import (
    CheckInForm,
    EnrolmentStatusForm,
    FounderForm,
    MilestoneForm,
    MilestoneUpdateForm,
    StartupForm,
)
from incubator.cohorts.models import MONEY_KPIS, CheckIn, Enrolment, Startup
from incubator.core import formatting
from incubator.core.actions import attempt
from incubator.core.forms import LocaleNumber
from incubator.core.pagination import paginate
from incubator.core.permissions import Permission, require
from incubator.core.storage import image_mimetype, storage
from incubator.core.tenancy import org_blueprint, org_today
from incubator.core.versioning import check_version
from incubator.extensions import db

bp = org_blueprint("startups", __name__)

def _store_evidence(file: Any) -> tuple[str, str] | None:
    if not file or not file.filename:
        return None
    return progress.store_file(file.stream, file.filename, progress.EVIDENCE_TYPES, "evidence_file")


def _store_logo(file: Any) -> str:
    return services.store_logo(file.stream)


@bp.route("/startups/<int:startup_id>/logo")
@require(Permission.VIEW_DASHBOARD)
def logo(startup_id: int) -> Any:
    startup = visible_startup_or_404(startup_id)
    if not startup.logo_key:
        abort(404)
    return storage().send(startup.logo_key, mimetype=image_mimetype(startup.logo_key), max_age=3600)


@bp.route("/startups")
@require(Permission.VIEW_DASHBOARD)
def index() -> Any:
    """The startups the caller may see (staff: all; founders: their own), as the API lists them."""
    from incubator.cohorts.models import Cohort, EnrolmentStatus, Stage

    cohort_id = request.args.get("cohort", type=int)
    q, stage, status = (request.args.get(name, "") for name in ("q", "stage", "status"))
    filters: dict[str, Any] = {"q": q, "cohort": cohort_id or "", "stage": stage, "status": status}
    stmt = access.filter_startups(access.visible_startups_stmt(), q=q, cohort_id=cohort_id, stage=stage or None,
                                  status=status or None)
    page = paginate(db.session, stmt)
    cohorts = db.session.execute(select(Cohort).where(Cohort.org_id == g.org.id)
                                 .order_by(Cohort.starts_on.desc())).scalars().all()
    return render_template("cohorts/startups.html", startups=page.items, page=page, filters=filters,
                           cohorts=cohorts, stages=list(Stage), statuses=list(EnrolmentStatus))


@bp.route("/my-startup")
@require(Permission.SUBMIT_CHECKINS)
def mine() -> Any:
    startups = services.startups_of(db.session, g.org, current_user)
    if len(startups) == 1:
        return redirect(url_for("startups.show", startup_id=startups[0].id))
    return render_template("cohorts/startups.html", startups=startups)


@bp.route("/startups/new", methods=["GET", "POST"], defaults={"startup_id": None})
@bp.route("/startups/<int:startup_id>/edit", methods=["GET", "POST"])
@require(Permission.VIEW_DASHBOARD)
def edit(startup_id: int | None) -> Any:
    if startup_id is None and not access.may_manage():
        abort(403)
    startup = visible_startup_or_404(startup_id) if startup_id is not None else None
    form = StartupForm(obj=startup)
    if startup is None:
        del form.version
    if form.validate_on_submit():
        data = {name: field.data for name, field in form._fields.items()
                if name not in ("csrf_token", "logo", "version")}
        with attempt(form=form) as outcome:
            if startup is not None:
                check_version(startup, form.version.data)
            saved = services.save_startup(db.session, g.org, startup, **data)
            if form.logo.data and form.logo.data.filename:
                saved.logo_key = _store_logo(form.logo.data)
        if outcome.ok:
            flash(_("The startup's profile is saved."), "success")
            return redirect(url_for("startups.show", startup_id=saved.id))
    title = _("Edit %(name)s", name=startup.name) if startup else _("New startup")
    return render_template("cohorts/form.html", form=form, title=title), 422 if form.errors else 200


@bp.route("/startups/<int:startup_id>")
@require(Permission.VIEW_DASHBOARD)
def show(startup_id: int) -> Any:
    startup = visible_startup_or_404(startup_id)
    enrolment = services.current_enrolment(db.session, startup)
    today = org_today()
    history = db.session.execute(select(CheckIn).where(CheckIn.startup_id == startup.id)
                                 .order_by(CheckIn.period.desc())).scalars().all()
    reported = {c.period for c in history}
    owed = []
    if enrolment is not None:
        owed = [(p, checkins.due_date(p, m)) for p, m in checkins.due_periods(enrolment.cohort, enrolment, today)
                if p not in reported]
    enrolments = db.session.execute(select(Enrolment).where(Enrolment.startup_id == startup.id)).scalars().all()
    return render_template(
        "cohorts/startup.html", startup=startup, enrolment=enrolment, enrolments=enrolments, history=history,
        owed=owed, today=today, manager=access.may_manage(), gaps=checkins.startup_gaps(db.session, startup, today),
        founder_form=FounderForm(formdata=None), milestone_form=MilestoneForm(formdata=None),
        update_form=MilestoneUpdateForm(formdata=None), status_form=EnrolmentStatusForm(formdata=None),
        button_form=CSRFOnlyForm(formdata=None))


@bp.route("/startups/<int:startup_id>/founders", methods=["POST"])
@require(Permission.MANAGE_COHORTS)
def add_founder(startup_id: int) -> Any:
    startup = visible_startup_or_404(startup_id)
    form = FounderForm()
    if form.validate_on_submit():
        with attempt(flash_error=True) as outcome:
            added = services.add_founder_by_email(db.session, g.org, startup, form.email.data, by=current_user,
                                                  actor=g.membership)
        if outcome.ok and added.user is not None:
            flash(_("%(name)s is a founder of %(startup)s.", name=added.user.name, startup=startup.name), "success")
        elif outcome.ok:
            flash(_("%(email)s has no account yet: an invitation to join as a founder is sent. Add them to "
                    "the startup once they have joined.", email=form.email.data), "info")
    return redirect(url_for("startups.show", startup_id=startup.id))


# -- milestones -------------------------------------------------------------------------------------

@bp.route("/startups/<int:startup_id>/milestones", methods=["POST"])
@require(Permission.VIEW_DASHBOARD)
def add_milestone(startup_id: int) -> Any:
    startup = visible_startup_or_404(startup_id)
    form = MilestoneForm()
    if form.validate_on_submit():
        progress.save_milestone(db.session, startup, None, title=form.title.data, due_on=form.due_on.data,
                                today=org_today())
        flash(_("The milestone is added."), "success")
    else:
        flash(_("Give the milestone a title and a due date."), "danger")
    return redirect(url_for("startups.show", startup_id=startup.id) + "#milestones")


@bp.route("/milestones/<int:milestone_id>", methods=["POST"])
@require(Permission.VIEW_DASHBOARD)
def update_milestone(milestone_id: int) -> Any:
    milestone = visible_milestone_or_404(milestone_id)
    startup = milestone.startup
    form = MilestoneUpdateForm()
    if form.validate_on_submit():
        with attempt() as outcome:
            stored = _store_evidence(form.evidence_file.data)
            progress.save_milestone(db.session, startup, milestone, status=form.status.data,
                                    evidence_url=form.evidence_url.data, today=org_today())
        if (error := outcome.error) is not None:
            flash(error.message if not error.fields else "; ".join(error.fields.values()), "danger")
        else:
            if stored:
                milestone.evidence_key, milestone.evidence_name = stored
            flash(_("The milestone is updated."), "success")
    return redirect(url_for("startups.show", startup_id=startup.id) + "#milestones")


@bp.route("/milestones/<int:milestone_id>/evidence")
@require(Permission.VIEW_DASHBOARD)
def milestone_evidence(milestone_id: int) -> Any:
    milestone = visible_milestone_or_404(milestone_id)
    return _send_evidence(milestone.evidence_key, milestone.evidence_name)


def _send_evidence(key: str | None, name: str | None) -> Any:
    if not key:
        abort(404)
    return storage().send(key, as_attachment=True, download_name=name or key)


# -- check-ins --------------------------------------------------------------------------------------

def _checkin_data(form: CheckInForm, kpis: list[Any]) -> dict[str, Any]:
    # A number field hands over what it read with the reader's separators ("97.102.000"), plainly written.
    data: dict[str, Any] = {name: (str(field.data) if isinstance(field, LocaleNumber) and field.data is not None
                                   else field.raw_data[0] if field.raw_data else None)
                            for name, field in form._fields.items()
                            if name not in ("csrf_token", "evidence_file", "version")}
    data["custom"] = {k.key: request.form.get(f"custom_{k.key}", "") for k in kpis}
    return data


def _render_checkin(startup: Startup, form: CheckInForm, kpis: list[Any], checkin: CheckIn | None,
                    errors: dict[str, str] | None = None, status: int = 200) -> Any:
    return render_template("cohorts/checkin.html", startup=startup, form=form, kpis=kpis, checkin=checkin,
                           errors=errors or {}, manager=access.may_manage(), money=MONEY_KPIS,
                           button_form=CSRFOnlyForm(formdata=None)), status


@bp.route("/startups/<int:startup_id>/checkins/new", methods=["GET", "POST"])
@require(Permission.VIEW_DASHBOARD)
def new_checkin(startup_id: int) -> Any:
    startup = visible_startup_or_404(startup_id)
    kpis = checkins.custom_kpis(db.session, g.org)
    form = CheckInForm(data={"period": request.args.get("period", "")})
    if request.method == "POST" and form.validate_on_submit():
        enrolment = services.current_enrolment(db.session, startup)
        with attempt(form=form) as outcome:
            clean = checkins.clean_checkin(g.org, enrolment.cohort if enrolment else None, kpis,
                                           _checkin_data(form, kpis), org_today())
            checkin = checkins.submit_checkin(db.session, startup, clean, current_user, notes=form.notes.data or "")
            stored = _store_evidence(form.evidence_file.data)
        if (error := outcome.error) is not None:
            return _render_checkin(startup, form, kpis, None, error.fields, 422)
        if stored:
            checkin.evidence_key, checkin.evidence_name = stored
        flash(_("Check-in for %(period)s is submitted.", period=formatting.date_(checkin.period, "yMMMM")), "success")
        return redirect(url_for("startups.show", startup_id=startup.id) + "#checkins")
    return _render_checkin(startup, form, kpis, None, status=422 if request.method == "POST" else 200)


@bp.route("/checkins/<int:checkin_id>", methods=["GET", "POST"])
@require(Permission.VIEW_DASHBOARD)
def checkin(checkin_id: int) -> Any:
    record = visible_checkin_or_404(checkin_id)
    startup = record.startup
    kpis = checkins.custom_kpis(db.session, g.org)
    if request.method == "GET":
        data = checkins.money_for_form(record, g.org.currency)
        form = CheckInForm(formdata=None, data={**data, "period": record.period_label, "notes": record.notes,
                                                "version": record.version})
        return _render_checkin(startup, form, kpis, record)
    # A form without the hidden field (not a browser's) is not checked, as an API edit without If-Match.
    form = CheckInForm(data={"version": record.version})
    if form.validate_on_submit():
        with attempt(form=form) as outcome:
            if not record.is_locked:  # a locked one answers that it is locked, whatever the version
                check_version(record, form.version.data)
            clean = checkins.clean_checkin(g.org, None, kpis, _checkin_data(form, kpis), org_today(),
                                           check_period=False)
            checkins.update_checkin(db.session, record, clean, current_user, notes=form.notes.data or "")
        if (error := outcome.error) is not None:
            return _render_checkin(startup, form, kpis, record, error.fields, error.status)
        flash(_("The check-in is updated."), "success")
        return redirect(url_for("startups.checkin", checkin_id=record.id))
    return _render_checkin(startup, form, kpis, record, status=422)


@bp.route("/checkins/<int:checkin_id>/verify", methods=["POST"], defaults={"lock": False})
@bp.route("/checkins/<int:checkin_id>/lock", methods=["POST"], defaults={"lock": True})
@require(Permission.MANAGE_COHORTS)
def verify_checkin(checkin_id: int, lock: bool) -> Any:
    record = visible_checkin_or_404(checkin_id)
    if CSRFOnlyForm().validate_on_submit():
        with attempt(flash_error=True) as outcome:
            (checkins.lock_checkin if lock else checkins.verify_checkin)(record, current_user)
        if outcome.ok:
            flash(_("The check-in is verified and locked.") if lock else _("The check-in is verified."), "success")
    return redirect(url_for("startups.checkin", checkin_id=record.id))


@bp.route("/checkins/<int:checkin_id>/evidence")
@require(Permission.VIEW_DASHBOARD)
def checkin_evidence(checkin_id: int) -> Any:
    record = visible_checkin_or_404(checkin_id)
    return _send_evidence(record.evidence_key, record.evidence_name)
