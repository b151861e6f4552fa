"""The applicant portal: open calls, apply (registering on the way), drafts, submit, withdraw, status."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from incubator.accounts.forms import CSRFOnlyForm
from incubator.core.actions import attempt
from incubator.core.db import utcnow
from incubator.core.money import format_money
from incubator.core.pagination import paginate
from incubator.core.tenancy import public
from incubator.core.urls import absolute
from incubator.extensions import db
from incubator.intake import formspec, services
from incubator.intake.access import may_apply, own_application_or_404, visible_call_or_404
from incubator.intake.forms import WithdrawForm
from incubator.intake.models import Application, Call
from incubator.intake.views import applicant_page, bp, open_calls_stmt
from incubator.ledger import signals as ledger_signals


@bp.route("/calls")
@public
def open_calls() -> Any:
    """The organisation's public page of open calls."""
    calls = db.session.execute(open_calls_stmt().where(Call.org_id == g.org.id)).scalars().all()
    return render_template("intake/open_calls.html", calls=calls, orgs={g.org.id: g.org}, platform_wide=False)


def _mine(call: Call) -> Application | None:
    if not current_user.is_authenticated:
        return None
    stmt = select(Application).where(Application.call_id == call.id, Application.applicant_id == current_user.id)
    return db.session.execute(stmt).scalar_one_or_none()


@bp.route("/calls/<int:call_id>")
@public
def call_page(call_id: int) -> Any:
    """A call as applicants see it (unlisted calls too, by their link; not before it opens but to managers)."""
    call = visible_call_or_404(call_id)
    return render_template("intake/call.html", call=call, mine=_mine(call), now=utcnow(), form=CSRFOnlyForm(),
                           questions=call.current_form.questions)


@bp.route("/calls/<int:call_id>/apply", methods=["POST"])
@public
def apply(call_id: int) -> Any:
    call = visible_call_or_404(call_id)
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login", next=url_for("intake.call_page", call_id=call.id)))
    if not CSRFOnlyForm().validate_on_submit():
        abort(400)
    if not may_apply(g.membership):
        abort(403)  # a manager or reviewer of the organisation does not apply to its calls
    with attempt() as outcome:
        application = services.start_application(db.session, g.org, call, current_user)
    if (error := outcome.error) is not None:
        flash(error.message, "danger")
        return render_template("intake/call.html", call=call, mine=None, now=utcnow(), form=CSRFOnlyForm(),
                               questions=call.current_form.questions), 422
    return redirect(url_for("intake.edit_application", application_id=application.id))


def _save_from_request(application: Application) -> dict[str, str]:
    """Uploads and answers from the posted form; answers ``{key: message}`` for what failed."""
    errors: dict[str, str] = {}
    for question in application.form_version.questions:
        upload = request.files.get(question["key"]) if question["type"] == "file" else None
        if upload is not None and upload.filename:
            with attempt() as outcome:
                services.upload_file(db.session, application, current_user, question["key"], upload.stream,
                                     upload.filename)
            if (error := outcome.error) is not None:
                errors[question["key"]] = error.fields.get("file") or error.message
    answers = formspec.answers_from_form(application.form_version.questions, request.form)
    with attempt() as outcome:
        services.save_answers(db.session, application, current_user, answers)
    if (error := outcome.error) is not None:
        errors.update(error.fields or {"_": error.message})
    return errors


@bp.route("/applications/<int:application_id>/edit", methods=["GET", "POST"])
@applicant_page
def edit_application(application_id: int) -> Any:
    application = own_application_or_404(application_id)
    form = CSRFOnlyForm()
    values: dict[str, Any] = dict(application.answers)
    errors: dict[str, str] = {}
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        values = {**values, **formspec.answers_from_form(application.form_version.questions, request.form)}
        errors = _save_from_request(application)
        if not errors and request.form.get("action") == "submit":
            with attempt() as outcome:
                services.submit_application(db.session, application, current_user)
            if (error := outcome.error) is not None:
                if error.code != "payment_required":
                    errors = error.fields or {"_": error.message}
                else:  # the answers are kept; paying submits the application (the payment's webhook does)
                    with attempt() as checkout:
                        # who the receipt names (optional; a company gives its tax code and address)
                        buyer = {key.removeprefix("buyer_"): value for key, value in request.form.items()
                                 if key.startswith("buyer_") and value.strip()}
                        payment = ledger_signals.ask(ledger_signals.fee_checkout_requested, application,
                                                     buyer=buyer or None)
                    if (refused := checkout.error) is not None:
                        errors = dict(refused.fields) if refused.code == "invalid_buyer" else {"_": refused.message}
                    else:
                        return redirect(absolute(payment.checkout_url or ""))
        if errors:
            # Nothing of this request is kept (it answers 422): files chosen now must be chosen again.
            files = [q["key"] for q in application.form_version.questions if q["type"] == "file"]
            db.session.rollback()
            for key in files:
                values[key] = application.answers.get(key)  # as saved before this request
                if request.files.get(key) and key not in errors:
                    errors[key] = _("Nothing was saved: choose this file again.")
        else:
            flash(_("Your application is submitted. A receipt is on its way by email.")
                  if request.form.get("action") == "submit" else _("Your answers are saved."), "success")
            return redirect(url_for("intake.edit_application", application_id=application.id)
                            if services.can_edit(application) else url_for("intake.my_applications"))
        flash(errors.pop("_", "") or _("Please correct the highlighted answers."), "danger")
    fee_paid = bool(application.call.fee_minor) and services.fee_paid(db.session, application)
    return render_template("intake/apply.html", application=application, call=application.call, form=form,
                           values=values, errors=errors, editable=services.can_edit(application),
                           withdraw_form=WithdrawForm(), fee_paid=fee_paid,
                           fee_refunded_on_withdrawal=fee_paid and services.withdrawal_refunds_fee(application)), \
        422 if errors else 200


@bp.route("/applications/<int:application_id>/autosave", methods=["POST"])
@applicant_page
def autosave(application_id: int) -> Any:
    """The draft saved in the background while the applicant types (files are not part of it)."""
    application = own_application_or_404(application_id)
    if not CSRFOnlyForm().validate_on_submit():
        return jsonify({"saved": False}), 400
    answers = formspec.answers_from_form(application.form_version.questions, request.form)
    with attempt() as outcome:
        services.save_answers(db.session, application, current_user, answers)
    if (error := outcome.error) is not None:
        return jsonify({"saved": False, "code": error.code, "fields": error.fields}), 422
    return jsonify({"saved": True, "at": utcnow().isoformat()})


@bp.route("/applications/<int:application_id>/withdraw", methods=["POST"])
@applicant_page
def withdraw(application_id: int) -> Any:
    application = own_application_or_404(application_id)
    form = WithdrawForm()
    if not form.validate_on_submit():
        abort(400)
    with attempt() as outcome:  # a refused withdrawal (or refund) leaves nothing behind
        refunded = services.withdraw_application(db.session, application, current_user, form.comment.data or "")
    if (error := outcome.error) is not None:
        flash(error.message, "danger")
        return redirect(url_for("intake.my_applications"))
    flash(_("Your application is withdrawn."), "success")
    if refunded:
        flash(_("The application fee of %(amount)s is refunded; a receipt is on its way by email.",
                amount=format_money(refunded, g.org.currency, str(get_locale()))), "success")
    return redirect(url_for("intake.my_applications"))


@bp.route("/applications/mine")
@applicant_page
def my_applications() -> Any:
    applications = paginate(db.session, select(Application).where(Application.applicant_id == current_user.id)
                            .options(selectinload(Application.call))
                            .order_by(Application.created_at.desc(), Application.id.desc()))
    return render_template("intake/mine.html", applications=applications.items, applications_page=applications,
                           can_edit=services.can_edit,
                           withdraw_form=WithdrawForm(), may_apply=may_apply(g.membership))
