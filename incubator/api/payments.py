"""Checkout for bookings and the list of payments over the API (the same rules as the pages)."""

from __future__ import annotations

from typing import Any

from flask import abort, g
from flask_smorest.pagination import PaginationParameters
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from incubator.api import api_blueprint, error_responses
from incubator.api.paging import api_page
from incubator.core.permissions import Permission, require
from incubator.core.tenancy import get_or_404, signed_in
from incubator.extensions import db
from incubator.intake.access import may_apply
from incubator.intake.models import Application
from incubator.ledger.models import PaymentStatus
from incubator.payments import services
from incubator.payments.access import booking_to_pay_or_404, payment_or_404, refundable_or_404, sees_everyone
from incubator.payments.checkout import checkout_answer, start_application_checkout, start_checkout

bp = api_blueprint("api_payments", __name__, org=True, description="Checkout and payments")
NOT_FOUND = (404, "Not found, or not visible to the caller")


class CheckoutOut(Schema):
    checkout_url = fields.String(required=True, metadata={"description": "Send the customer here to pay"})
    session_id = fields.String(required=True, metadata={"description": "The Stripe Checkout Session id"})
    payment_id = fields.Integer(required=True)


class PaymentOut(Schema):
    id = fields.Integer(required=True)
    booking_id = fields.Integer(allow_none=True, metadata={"description": "The booking it pays, if it pays one"})
    application_id = fields.Integer(allow_none=True, metadata={"description": "The application whose fee it pays"})
    amount = fields.Integer(required=True, metadata={"description": "Minor currency units (VND has none)"})
    amount_refunded = fields.Integer(required=True)
    currency = fields.String(required=True)
    status = fields.String(required=True, metadata={
        "description": "pending | paid | expired | partially_refunded | refunded"})
    description = fields.String(required=True)
    receipt_number = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    paid_at = fields.DateTime(allow_none=True)


@bp.route("/bookings/<int:booking_id>/checkout", methods=["POST"])
@require(Permission.BOOK_RESOURCES)
@bp.response(200, CheckoutOut)
@error_responses(bp, NOT_FOUND, (403, "The caller's role does not book"),
                 (409, "Not awaiting payment, already paid, or no Stripe account"),
                 (502, "The payment gateway refused"), (503, "Online payment is not set up"))
def checkout(booking_id: int) -> Any:
    """Open (or reopen) the Stripe Checkout Session of one's own booking awaiting payment (this
    organisation's, or a partner booking of a shared resource). The booking counts as paid only when
    Stripe's webhook confirms it."""
    return checkout_answer(start_checkout(booking_to_pay_or_404(booking_id)))


@bp.route("/applications/<int:application_id>/checkout", methods=["POST"])
@bp.response(200, CheckoutOut)
@error_responses(bp, NOT_FOUND, (409, "No fee to pay, or no Stripe account"),
                 (422, "Not ready to submit (`fields` names the answers), or the deadline passed"),
                 (502, "The payment gateway refused"), (503, "Online payment is not set up"))
@signed_in  # an applicant pays the fee without being a member
def application_checkout(application_id: int) -> Any:
    """Pay a call's application fee. The application is submitted when Stripe's webhook confirms the
    payment; until then it stays a draft."""
    application = get_or_404(Application, application_id)
    if not application.is_owned_by(g.api_user) or not may_apply(g.membership):
        abort(404)
    return checkout_answer(start_application_checkout(application))


class PaymentsQuery(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf([s.value for s in PaymentStatus]))
    from_ = fields.Date(data_key="from", load_default=None,
                        metadata={"description": "Made on or after this day (the organisation's time zone)"})
    to = fields.Date(load_default=None, metadata={"description": "Made on or before this day"})

    @validates_schema
    def _order(self, data: dict[str, Any], **_kw: Any) -> None:
        if data.get("from_") and data.get("to") and data["from_"] > data["to"]:
            raise ValidationError("Must not be before `from`.", field_name="to")


@bp.route("/payments")
@bp.arguments(PaymentsQuery, location="query")
@bp.response(200, PaymentOut(many=True))
@bp.paginate()
@error_responses(bp, NOT_FOUND)
@signed_in  # as the receipts page: one's own payments, member or not (an applicant's fee)
def list_payments(query: dict[str, Any], pagination_parameters: PaginationParameters) -> Any:
    """Managers see the organisation's payments; everyone else their own. Newest first."""
    stmt = services.payments_query(g.org, g.api_user, everyone=sees_everyone(), start=query["from_"],
                                   end=query["to"], status=query["status"])
    return api_page(stmt, pagination_parameters)


@bp.route("/payments/<int:payment_id>")
@bp.response(200, PaymentOut)
@error_responses(bp, NOT_FOUND)
@signed_in  # as the payment's page: the payer need not be a member (an applicant's fee)
def get_payment(payment_id: int) -> Any:
    return payment_or_404(payment_id)


@bp.route("/payments/<int:payment_id>/refund", methods=["POST"])
@require(Permission.MANAGE_PAYMENTS)
@bp.response(200, PaymentOut)
@error_responses(bp, NOT_FOUND, (403, "Only those who manage payments refund"),
                 (409, "`not_refundable`: not paid"), (502, "The payment gateway refused"))
def refund(payment_id: int) -> Any:
    """Give back what is left of a paid payment, once (a second call changes nothing)."""
    payment = refundable_or_404(payment_id)
    services.refund(db.session, payment)
    return payment


class PaymentAccountIn(Schema):
    stripe_account_id = fields.String(required=True, validate=validate.Length(min=1, max=64),
                                      metadata={"description": "The Stripe Connect account id",
                                                "example": "acct_1AbCdEf"})


class PaymentAccountOut(Schema):
    stripe_account_id = fields.String(required=True)
    connected_at = fields.DateTime(required=True)


MANAGERS = (403, "Only those who manage payments")


@bp.route("/payment-account")
@require(Permission.MANAGE_PAYMENTS)
@bp.response(200, PaymentAccountOut)
@error_responses(bp, (404, "Not found, or no account is connected yet"), MANAGERS)
def get_payment_account() -> Any:
    """The organisation's Stripe account, which receives its payments (the payments page shows it)."""
    account = services.account_for(db.session, g.org)
    if account is None:
        abort(404)
    return account


@bp.route("/payment-account", methods=["PUT"])
@require(Permission.MANAGE_PAYMENTS)
@bp.arguments(PaymentAccountIn)
@bp.response(200, PaymentAccountOut)
@error_responses(bp, NOT_FOUND, MANAGERS,
                 (422, "`invalid_account`: not a Stripe account id (`fields.stripe_account_id`)"))
def put_payment_account(data: dict[str, Any]) -> Any:
    """Connect (or replace) the organisation's Stripe account, as the payments page does."""
    return services.connect_account(db.session, g.org, data["stripe_account_id"])
