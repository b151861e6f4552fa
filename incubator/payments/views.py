"""Payment pages: pay for a booking, the return page, receipts, the organisation's payments report
and its Stripe account."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from incubator.accounts.forms import CSRFOnlyForm
from incubator.booking.models import Booking
from incubator.cohorts.models import Startup
from incubator.core.actions import attempt
from incubator.core.db import utcnow
from incubator.core.pagination import paginate
from incubator.core.permissions import Permission, can, require
from incubator.core.tenancy import all_orgs, get_or_404, org_blueprint, signed_in
from incubator.core.timezones import add_months, parse_month, to_local
from incubator.core.urls import absolute
from incubator.extensions import db
from incubator.intake.models import Application
from incubator.ledger.models import Payment
from incubator.payments import services
from incubator.payments.access import booking_to_pay_or_404, is_founder_of, payment_or_404, refundable_or_404
from incubator.payments.checkout import buyer_from_form, start_checkout
from incubator.payments.exports import FORMATS, einvoice_file, payments_csv  # payments_csv: the worker's schedule
from incubator.payments.forms import BuyerForm, ConnectAccountForm, GatewayForm, SellerForm

bp = org_blueprint("payments", __name__)


@bp.route("/bookings/<int:booking_id>/pay", methods=["POST"])
@require(Permission.BOOK_RESOURCES)
def pay_booking(booking_id: int) -> Any:
    """Pay now, with the buyer's details for the receipt when the details page posted them."""
    booking = booking_to_pay_or_404(booking_id)
    form = BuyerForm()
    if not form.validate_on_submit():
        abort(400)
    with attempt() as outcome:
        payment = start_checkout(booking, buyer=buyer_from_form(request.form))
    if (exc := outcome.error) is not None:
        if exc.code == "invalid_buyer":
            return render_template("payments/buyer.html", booking=booking, form=form, errors=exc.fields), 422
        flash(exc.message, "danger")
        return redirect(url_for("booking.mine"))
    return redirect(absolute(payment.checkout_url or ""))


@bp.route("/bookings/<int:booking_id>/pay/details")
@require(Permission.BOOK_RESOURCES)
def buyer_details(booking_id: int) -> Any:
    """Who the receipt names (a company gives its tax code and address), then pay."""
    booking = booking_to_pay_or_404(booking_id)
    return render_template("payments/buyer.html", booking=booking, form=BuyerForm(formdata=None), errors={})


@bp.route("/payments/<int:payment_id>")
@signed_in  # the payer need not be a member (an applicant paying a call's fee): visible() decides
def status(payment_id: int) -> Any:
    """Where Stripe sends the customer back. Its query string proves nothing: only the webhook does."""
    payment = payment_or_404(payment_id)
    with all_orgs(db.session):  # what this payment pays, which may be a shared resource's owner's
        booking = db.session.get(Booking, payment.booking_id) if payment.booking_id else None
        application = db.session.get(Application, payment.application_id) if payment.application_id else None
        return render_template("payments/status.html", payment=payment, booking=booking, application=application,
                               entries=services.ledger_for(db.session, [payment.id]).get(payment.id, []))


@bp.route("/payments/<int:payment_id>/receipt.pdf")
@signed_in  # as the payment's page
def receipt(payment_id: int) -> Any:
    from incubator.payments.receipts import receipt_pdf

    payment = payment_or_404(payment_id)
    if not payment.is_settled:
        abort(404)
    with all_orgs(db.session):  # the receipt of a shared resource's payment reads the owner's rows
        pdf = receipt_pdf(db.session, payment, str(get_locale()))
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="receipt-{payment.receipt_number}.pdf"'})


@bp.route("/receipts")
@signed_in  # one's own payments only, member or not
def my_receipts() -> Any:
    payments = services.visible_payments(db.session, g.org, current_user, everyone=False)
    return render_template("payments/receipts.html", payments=payments, startup=None,
                           ledger=services.ledger_for(db.session, [p.id for p in payments]))


@bp.route("/startups/<int:startup_id>/receipts")
@require(Permission.VIEW_DASHBOARD)
def startup_receipts(startup_id: int) -> Any:
    startup = get_or_404(Startup, startup_id)
    if not (can(Permission.MANAGE_PAYMENTS) or is_founder_of(startup.id)):
        abort(404)
    payments = services.visible_payments(db.session, g.org, current_user, everyone=True, startup_id=startup.id)
    return render_template("payments/receipts.html", payments=payments, startup=startup,
                           ledger=services.ledger_for(db.session, [p.id for p in payments]))


def this_month() -> date:
    return to_local(utcnow(), g.org.timezone).date().replace(day=1)


def _report_rows(month: date) -> list[Payment]:
    return services.visible_payments(db.session, g.org, current_user, everyone=True, start=month,
                                     end=add_months(month, 1) - timedelta(days=1))


@bp.route("/manage/payments")
@require(Permission.MANAGE_PAYMENTS)
def report() -> Any:
    month = parse_month(request.args.get("month"), this_month())
    page = paginate(db.session, services.payments_query(g.org, current_user, everyone=True, start=month,
                                                        end=add_months(month, 1) - timedelta(days=1)), per_page=50)
    return _report_page(month, payments=page.items, page=page, totals=services.totals(_report_rows(month)))


def _report_page(month: date, *, status: int = 200, **context: Any) -> Any:
    account = services.account_for(db.session, g.org)
    gateway_form = context.pop("gateway_form", None) or GatewayForm(formdata=None, obj=account)
    seller_form = context.pop("seller_form", None) or SellerForm.of(account)
    return render_template("payments/report.html", month=month, account=account, form=CSRFOnlyForm(formdata=None),
                           gateway_form=gateway_form, seller_form=seller_form,
                           gateway=services.chosen_gateway(account), **context), status


@bp.route("/manage/payments.csv")
@require(Permission.MANAGE_PAYMENTS)
def report_csv() -> Any:
    month = parse_month(request.args.get("month"), this_month())
    return Response(payments_csv(_report_rows(month)), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="payments-{g.org.slug}-{month:%Y-%m}.csv"'})


@bp.route("/manage/payments/export")
@require(Permission.MANAGE_PAYMENTS)
def einvoice_export() -> Any:
    """The month's payments and refunds for the e-invoice software, as CSV or XLSX."""
    raw, fmt = request.args.get("month", ""), request.args.get("format", "csv")
    errors: dict[str, str] = {}
    try:
        month = date.fromisoformat(f"{raw}-01") if len(raw) == 7 else None
    except ValueError:
        month = None
    if month is None:
        errors["month"] = _("Choose a month as YYYY-MM.")
    if fmt not in FORMATS:
        errors["format"] = _("Choose CSV or XLSX.")
    if month is None or errors:
        shown = month or this_month()
        return _report_page(shown, payments=_report_rows(shown), totals=services.totals(_report_rows(shown)),
                            export_errors=errors, status=422)
    body, mimetype, filename = einvoice_file(db.session, g.org, month, fmt)
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.route("/manage/payments/<int:payment_id>/refund", methods=["POST"])
@require(Permission.MANAGE_PAYMENTS)
def refund(payment_id: int) -> Any:
    payment = refundable_or_404(payment_id)
    if CSRFOnlyForm().validate_on_submit():
        with attempt(flash_error=True) as outcome:
            entry = services.refund(db.session, payment)
        if outcome.ok and entry is None and payment.refund_owed:  # payOS: the money goes back by bank transfer
            flash(_("The refund is owed: send it by bank transfer, then confirm it here."), "warning")
        elif outcome.ok:
            flash(_("Refunded.") if entry else _("This payment was already refunded."), "success")
    return redirect(url_for("payments.report"))


@bp.route("/manage/payments/account", methods=["POST"])
@require(Permission.MANAGE_PAYMENTS)
def connect() -> Any:
    form = ConnectAccountForm()
    if not form.validate_on_submit():
        abort(400)
    with attempt() as outcome:
        services.connect_account(db.session, g.org, form.stripe_account_id.data)
    if (exc := outcome.error) is not None:
        return _report_page(this_month(), payments=_report_rows(this_month()), totals=None, error=exc, status=422)
    flash(_("The Stripe account is connected: payments go to it."), "success")
    return redirect(url_for("payments.report"))


@bp.route("/manage/payments/gateway", methods=["POST"])
@require(Permission.MANAGE_PAYMENTS)
def configure_gateway() -> Any:
    """The organisation's gateway, its payOS credentials (never shown again) and its bank account."""
    form = GatewayForm()
    if not form.validate_on_submit():
        abort(400)
    with attempt() as outcome:
        services.configure_gateway(db.session, g.org, **{name: str(field.data or "") for name, field in
                                                         form._fields.items() if name != "csrf_token"})
    if (exc := outcome.error) is not None:
        return _report_page(this_month(), payments=_report_rows(this_month()), totals=None, gateway_error=exc,
                            gateway_form=form, status=422)
    flash(_("The payment settings are saved."), "success")
    return redirect(url_for("payments.report"))


@bp.route("/manage/payments/seller", methods=["POST"])
@require(Permission.MANAGE_PAYMENTS)
def configure_seller() -> Any:
    """The seller on receipts and in the e-invoice export: legal name, address, tax code, VAT rate."""
    form = SellerForm()
    if not form.validate_on_submit():
        abort(400)
    with attempt() as outcome:
        services.configure_seller(db.session, g.org, legal_name=form.legal_name.data or "",
                                  legal_address=form.legal_address.data or "", tax_code=form.tax_code.data or "",
                                  vat_rate=form.vat_rate.data or None)
    if (exc := outcome.error) is not None:
        return _report_page(this_month(), payments=_report_rows(this_month()), totals=None, seller_error=exc,
                            seller_form=form, status=422)
    flash(_("The seller's details for receipts are saved."), "success")
    return redirect(url_for("payments.report"))


@bp.route("/payments/<int:payment_id>/transfer")
@signed_in  # as the payment's page
def transfer(payment_id: int) -> Any:
    """Pay by plain bank transfer: the organisation's VietQR code for this amount and reference."""
    from incubator.payments import vietqr
    from incubator.payments.payos import reference

    payment = payment_or_404(payment_id)
    account = services.account_for(db.session, payment.org_id)
    if payment.gateway != "transfer" or account is None or not account.bank_account:
        abort(404)
    code = vietqr.payload(bank_bin=account.bank_bin, account=account.bank_account, amount=payment.amount,
                          reference=reference(payment.id))
    return render_template("payments/transfer.html", payment=payment, account=account, qr=vietqr.svg_data_uri(code),
                           reference=reference(payment.id))


@bp.route("/manage/payments/<int:payment_id>/received", methods=["POST"])
@require(Permission.MANAGE_PAYMENTS)
def mark_received(payment_id: int) -> Any:
    """A manager saw the bank transfer arrive: the payment is recorded, with who did it."""
    payment = refundable_or_404(payment_id)
    if CSRFOnlyForm().validate_on_submit():
        with attempt(flash_error=True) as outcome:
            done = services.mark_received(db.session, payment, current_user)
        if outcome.ok:
            flash(_("The transfer is recorded as received.") if done else _("This payment was already received."),
                  "success")
    return redirect(url_for("payments.report"))


@bp.route("/manage/payments/<int:payment_id>/refund-sent", methods=["POST"])
@require(Permission.MANAGE_PAYMENTS)
def refund_sent(payment_id: int) -> Any:
    """A manager confirms the bank transfer that gave back a refund payOS could not make."""
    payment = refundable_or_404(payment_id)
    if CSRFOnlyForm().validate_on_submit():
        entry = services.confirm_refund_sent(db.session, payment, current_user)
        flash(_("The refund is recorded.") if entry else _("No refund is owed on this payment."), "success")
    return redirect(url_for("payments.report"))


@bp.app_template_filter("payment_status_label")
def payment_status_label(status: str) -> str:
    labels = {"pending": _("awaiting payment"), "paid": _("paid"), "expired": _("expired, not charged"),
              "partially_refunded": _("partly refunded"), "refunded": _("refunded")}
    return labels.get(status, status)


@bp.app_template_filter("ledger_kind_label")
def ledger_kind_label(kind: str) -> str:
    labels = {"payment": _("payment"), "refund": _("refund"), "credit_use": _("credit hours used"),
              "credit_return": _("credit hours returned")}
    return labels.get(kind, kind)
