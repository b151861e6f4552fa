"""Startups: profiles and founders, milestones, KPI check-ins. Founders and managers share these pages."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from incubator.accounts.forms import CSRFOnlyForm
from incubator.accounts.services import get_user_by_email
from incubator.cohorts import checkins, services
from incubator.cohorts.forms import (
    CheckInForm,
    EnrolmentStatusForm,
    FounderForm,
    MilestoneForm,
    MilestoneUpdateForm,
    StartupForm,
)
from incubator.cohorts.models import MONEY_KPIS, CheckIn, Enrolment, Milestone, Startup
from incubator.core.actions import attempt
from incubator.core.errors import DomainError
from incubator.core.permissions import Permission, Role, can, require
from incubator.core.storage import image_mimetype, image_suffix, storage
from incubator.core.tenancy import get_or_404, org_blueprint, org_today
from incubator.extensions import db
from incubator.orgs import services as org_services

bp = org_blueprint("startups", __name__)

EVIDENCE_TYPES = {".pdf", ".png", ".jpg", ".jpeg", ".xlsx", ".csv"}


def is_manager() -> bool:
    return can(Permission.MANAGE_COHORTS)


def startup_or_404(startup_id: int) -> Startup:
    """Managers see every startup; founders only their own; anyone else gets 404."""
    startup = get_or_404(Startup, startup_id)
    if not (is_manager() or startup.has_founder(current_user)):
        abort(404)
    return startup


def _store_evidence(file: Any) -> tuple[str, str] | None:
    if not file or not file.filename:
        return None
    suffix = PurePath(file.filename).suffix.lower()
    if suffix not in EVIDENCE_TYPES:
        raise DomainError(_("Upload a PDF, a spreadsheet or an image."),
                          fields={"evidence_file": _("Upload a PDF, a spreadsheet or an image.")})
    return storage().save(file.stream, suffix), PurePath(file.filename).name[:255]


def _store_logo(file: Any) -> str:
    """PNG or JPEG, recognised by its first bytes rather than its name."""
    head = file.stream.read(8)
    file.stream.seek(0)
    suffix = image_suffix(head)
    if suffix is None:
        raise DomainError(_("Upload a PNG or JPEG image."), fields={"logo": _("Upload a PNG or JPEG image.")})
    return storage().save(file.stream, suffix)


@bp.route("/startups/<int:startup_id>/logo")
@require(Permission.VIEW_DASHBOARD)
def logo(startup_id: int) -> Any:
    startup = startup_or_404(startup_id)
    if not startup.logo_key:
        abort(404)
    try:
        path = storage().path(startup.logo_key)
    except (FileNotFoundError, ValueError):
        abort(404)
    return send_file(path, mimetype=image_mimetype(startup.logo_key), max_age=3600)


@bp.route("/startups")
@require(Permission.MANAGE_COHORTS)
def index() -> Any:
    startups = db.session.execute(select(Startup).where(Startup.org_id == g.org.id)
                                  .order_by(Startup.name)).scalars().all()
    return render_template("cohorts/startups.html", startups=startups)


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
    if startup_id is None and not is_manager():
        abort(403)
    startup = startup_or_404(startup_id) if startup_id is not None else None
    form = StartupForm(obj=startup)
    if form.validate_on_submit():
        data = {name: field.data for name, field in form._fields.items() if name not in ("csrf_token", "logo")}
        with attempt(form=form) as outcome:
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
    startup = startup_or_404(startup_id)
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
        owed=owed, today=today, manager=is_manager(), gaps=checkins.startup_gaps(db.session, startup, today),
        founder_form=FounderForm(formdata=None), milestone_form=MilestoneForm(formdata=None),
        update_form=MilestoneUpdateForm(formdata=None), status_form=EnrolmentStatusForm(formdata=None),
        button_form=CSRFOnlyForm(formdata=None))


@bp.route("/startups/<int:startup_id>/founders", methods=["POST"])
@require(Permission.MANAGE_COHORTS)
def add_founder(startup_id: int) -> Any:
    startup = startup_or_404(startup_id)
    form = FounderForm()
    if form.validate_on_submit():
        user = get_user_by_email(db.session, form.email.data)
        if user is not None:
            services.add_founder(db.session, g.org, startup, user)
            flash(_("%(name)s is a founder of %(startup)s.", name=user.name, startup=startup.name), "success")
        else:
            with attempt(flash_error=True) as outcome:
                org_services.invite(db.session, g.org, form.email.data, Role.FOUNDER, current_user, actor=g.membership)
            if outcome.ok:
                flash(_("%(email)s has no account yet: an invitation to join as a founder is sent. Add them to "
                        "the startup once they have joined.", email=form.email.data), "info")
    return redirect(url_for("startups.show", startup_id=startup.id))


# -- milestones -------------------------------------------------------------------------------------

@bp.route("/startups/<int:startup_id>/milestones", methods=["POST"])
@require(Permission.VIEW_DASHBOARD)
def add_milestone(startup_id: int) -> Any:
    startup = startup_or_404(startup_id)
    form = MilestoneForm()
    if form.validate_on_submit():
        services.save_milestone(db.session, startup, None, title=form.title.data, due_on=form.due_on.data,
                                today=org_today())
        flash(_("The milestone is added."), "success")
    else:
        flash(_("Give the milestone a title and a due date."), "danger")
    return redirect(url_for("startups.show", startup_id=startup.id) + "#milestones")


@bp.route("/milestones/<int:milestone_id>", methods=["POST"])
@require(Permission.VIEW_DASHBOARD)
def update_milestone(milestone_id: int) -> Any:
    milestone = get_or_404(Milestone, milestone_id)
    startup = startup_or_404(milestone.startup_id)
    form = MilestoneUpdateForm()
    if form.validate_on_submit():
        with attempt() as outcome:
            stored = _store_evidence(form.evidence_file.data)
            services.save_milestone(db.session, startup, milestone, status=form.status.data,
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
    milestone = get_or_404(Milestone, milestone_id)
    startup_or_404(milestone.startup_id)
    return _send_evidence(milestone.evidence_key, milestone.evidence_name)


def _send_evidence(key: str | None, name: str | None) -> Any:
    if not key:
        abort(404)
    try:
        path = storage().path(key)
    except (FileNotFoundError, ValueError):
        abort(404)
    return send_file(path, as_attachment=True, download_name=name or key)


# -- check-ins --------------------------------------------------------------------------------------

def _checkin_data(form: CheckInForm, kpis: list[Any]) -> dict[str, Any]:
    data: dict[str, Any] = {name: field.raw_data[0] if field.raw_data else None
                            for name, field in form._fields.items() if name not in ("csrf_token", "evidence_file")}
    data["custom"] = {k.key: request.form.get(f"custom_{k.key}", "") for k in kpis}
    return data


def _render_checkin(startup: Startup, form: CheckInForm, kpis: list[Any], checkin: CheckIn | None,
                    errors: dict[str, str] | None = None, status: int = 200) -> Any:
    return render_template("cohorts/checkin.html", startup=startup, form=form, kpis=kpis, checkin=checkin,
                           errors=errors or {}, manager=is_manager(), money=MONEY_KPIS,
                           button_form=CSRFOnlyForm(formdata=None)), status


@bp.route("/startups/<int:startup_id>/checkins/new", methods=["GET", "POST"])
@require(Permission.VIEW_DASHBOARD)
def new_checkin(startup_id: int) -> Any:
    startup = startup_or_404(startup_id)
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
        flash(_("Check-in for %(period)s is submitted.", period=checkin.period_label), "success")
        return redirect(url_for("startups.show", startup_id=startup.id) + "#checkins")
    return _render_checkin(startup, form, kpis, None, status=422 if request.method == "POST" else 200)


@bp.route("/checkins/<int:checkin_id>", methods=["GET", "POST"])
@require(Permission.VIEW_DASHBOARD)
def checkin(checkin_id: int) -> Any:
    record = get_or_404(CheckIn, checkin_id)
    startup = startup_or_404(record.startup_id)
    kpis = checkins.custom_kpis(db.session, g.org)
    if request.method == "GET":
        data = checkins.money_for_form(record, g.org.currency)
        form = CheckInForm(formdata=None, data={**data, "period": record.period_label, "notes": record.notes})
        return _render_checkin(startup, form, kpis, record)
    form = CheckInForm()
    if form.validate_on_submit():
        with attempt(form=form) as outcome:
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
    record = get_or_404(CheckIn, checkin_id)
    if CSRFOnlyForm().validate_on_submit():
        with attempt(flash_error=True) as outcome:
            (checkins.lock_checkin if lock else checkins.verify_checkin)(record, current_user)
        if outcome.ok:
            flash(_("The check-in is verified and locked.") if lock else _("The check-in is verified."), "success")
    return redirect(url_for("startups.checkin", checkin_id=record.id))


@bp.route("/checkins/<int:checkin_id>/evidence")
@require(Permission.VIEW_DASHBOARD)
def checkin_evidence(checkin_id: int) -> Any:
    record = get_or_404(CheckIn, checkin_id)
    startup_or_404(record.startup_id)
    return _send_evidence(record.evidence_key, record.evidence_name)
