"""Checkout for bookings and the list of payments over the API (the same rules as the pages)."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, g
from flask_login import current_user
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
from incubator.payments.exports import FORMATS, einvoice_file

bp = api_blueprint("api_payments", __name__, org=True, description="Checkout and payments")
NOT_FOUND = (404, "Not found, or not visible to the caller")
MANAGERS = (403, "Only those who manage payments")


class CheckoutOut(Schema):
    checkout_url = fields.String(required=True, metadata={"description": "Send the customer here to pay"})
    session_id = fields.String(required=True, metadata={
        "description": "The gateway's id of the checkout: a Stripe Checkout Session id, or a payOS order code"})
    payment_id = fields.Integer(required=True)


class PaymentOut(Schema):
    id = fields.Integer(required=True)
    booking_id = fields.Integer(allow_none=True, metadata={"description": "The booking it pays, if it pays one"})
    application_id = fields.Integer(allow_none=True, metadata={"description": "The application whose fee it pays"})
    amount = fields.Integer(required=True, metadata={"description": "Minor currency units (VND has none)"})
    amount_refunded = fields.Integer(required=True)
    refund_owed = fields.Integer(required=True, metadata={
        "description": "A refund the gateway cannot make (payOS), owed by bank transfer until a manager confirms it"})
    gateway = fields.String(required=True, metadata={"description": "stripe | payos | transfer"})
    currency = fields.String(required=True)
    status = fields.String(required=True, metadata={
        "description": "pending | paid | expired | partially_refunded | refunded"})
    description = fields.String(required=True)
    receipt_number = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    paid_at = fields.DateTime(allow_none=True)


class BuyerIn(Schema):
    name = fields.String(load_default="", metadata={"description": "The person's name on the receipt"})
    company = fields.String(load_default="", metadata={
        "description": "The company's legal name, when a company pays: then `tax_code` and `address` are required"})
    tax_code = fields.String(load_default="", metadata={"description": "Mã số thuế: 10 digits, or 10 + `-` + 3",
                                                        "example": "0312345678"})
    address = fields.String(load_default="")


class CheckoutIn(Schema):
    buyer = fields.Nested(BuyerIn, load_default=None, metadata={
        "description": "Who the receipt names; optional for a person. Errors name `fields.buyer_<field>`"})


BUYER_422 = (422, "`invalid_buyer`: see `fields` (`buyer_tax_code`, `buyer_address`, …)")


@bp.route("/bookings/<int:booking_id>/checkout", methods=["POST"])
@require(Permission.BOOK_RESOURCES)
@bp.arguments(CheckoutIn, required=False)
@bp.response(200, CheckoutOut)
@error_responses(bp, NOT_FOUND, (403, "The caller's role does not book"),
                 (409, "Not awaiting payment, already paid, or no Stripe account"), BUYER_422,
                 (502, "The payment gateway refused"), (503, "Online payment is not set up"))
def checkout(data: dict[str, Any], booking_id: int) -> Any:
    """Open (or reopen) the Stripe Checkout Session of one's own booking awaiting payment (this
    organisation's, or a partner booking of a shared resource). The booking counts as paid only when
    Stripe's webhook confirms it."""
    return checkout_answer(start_checkout(booking_to_pay_or_404(booking_id), buyer=data.get("buyer")))


@bp.route("/applications/<int:application_id>/checkout", methods=["POST"])
@bp.arguments(CheckoutIn, required=False)
@bp.response(200, CheckoutOut)
@error_responses(bp, NOT_FOUND, (409, "No fee to pay, or no Stripe account"),
                 (422, "Not ready to submit (`fields` names the answers), the deadline passed, or "
                       "`invalid_buyer`"),
                 (502, "The payment gateway refused"), (503, "Online payment is not set up"))
@signed_in  # an applicant pays the fee without being a member
def application_checkout(data: dict[str, Any], application_id: int) -> Any:
    """Pay a call's application fee. The application is submitted when Stripe's webhook confirms the
    payment; until then it stays a draft."""
    application = get_or_404(Application, application_id)
    if not application.is_owned_by(g.api_user) or not may_apply(g.membership):
        abort(404)
    return checkout_answer(start_application_checkout(application, buyer=data.get("buyer")))


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


class ExportQuery(Schema):
    month = fields.String(required=True, validate=validate.Regexp(r"^[1-9]\d{3}-(0[1-9]|1[0-2])$", error="YYYY-MM"),
                          metadata={"description": "The month, in the organisation's time zone", "example": "2026-11"})
    format = fields.String(load_default="csv", validate=validate.OneOf(list(FORMATS)))


@bp.route("/payments/export")
@require(Permission.MANAGE_PAYMENTS)
@bp.arguments(ExportQuery, location="query")
@bp.doc(responses={"200": {"description": "One row per payment and per refund of the month (README: the monthly "
                                          "e-invoice export)",
                           "content": {media: {"schema": {"type": "string", "format": "binary"}}
                                       for media in FORMATS.values()}}})
@error_responses(bp, NOT_FOUND, MANAGERS)
def einvoice_export(query: dict[str, Any]) -> Any:
    """The month's payments and refunds (refunds negative, in the month they were made) with the buyer and
    the VAT, for the organisation's e-invoice software: CSV (UTF-8 with a BOM) or XLSX."""
    from datetime import date

    body, mimetype, filename = einvoice_file(db.session, g.org, date.fromisoformat(f"{query['month']}-01"),
                                             query["format"])
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


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


class PaymentGatewayIn(Schema):
    gateway = fields.String(required=True, validate=validate.OneOf(["", "stripe", "payos", "transfer"]),
                            metadata={"description": "`stripe`, `payos`, `transfer` (plain bank transfer to the "
                                      "bank account, marked received by a manager), or empty for the platform's "
                                      "default (`PAYMENT_GATEWAY`)"})
    payos_client_id = fields.String(load_default="", validate=validate.Length(max=64))
    payos_api_key = fields.String(load_default="", load_only=True, validate=validate.Length(max=200), metadata={
        "description": "Stored encrypted, never answered back; blank keeps the stored one"})
    payos_checksum_key = fields.String(load_default="", load_only=True, validate=validate.Length(max=200))
    bank_bin = fields.String(load_default="", metadata={"description": "The bank's NAPAS BIN (6 digits)",
                                                        "example": "970436"})
    bank_account = fields.String(load_default="", validate=validate.Length(max=40))
    bank_account_name = fields.String(load_default="", validate=validate.Length(max=100))


class PaymentGatewayOut(Schema):
    gateway = fields.String(required=True, metadata={"description": "What the organisation chose (empty: default)"})
    effective = fields.String(required=True, metadata={"description": "The gateway its checkouts use"})
    payos_client_id = fields.String(required=True)
    has_payos_credentials = fields.Boolean(required=True)
    bank_bin = fields.String(required=True)
    bank_account = fields.String(required=True)
    bank_account_name = fields.String(required=True)


@bp.route("/payment-gateway", methods=["PUT"])
@require(Permission.MANAGE_PAYMENTS)
@bp.arguments(PaymentGatewayIn)
@bp.response(200, PaymentGatewayOut)
@error_responses(bp, NOT_FOUND, MANAGERS, (422, "`invalid_gateway`: see `fields`"))
def put_payment_gateway(data: dict[str, Any]) -> Any:
    """Choose the organisation's gateway and enter its payOS credentials and bank account, as the
    payments page does. The keys are stored encrypted and never answered back."""
    account = services.configure_gateway(db.session, g.org, **data)
    return {**{name: getattr(account, name) for name in PaymentGatewayOut().fields if hasattr(account, name)},
            "gateway": str(account.gateway), "effective": services.chosen_gateway(account)}


class PaymentSellerIn(Schema):
    legal_name = fields.String(load_default="", metadata={"description": "The seller's legal name on receipts"})
    legal_address = fields.String(load_default="")
    tax_code = fields.String(load_default="", metadata={"description": "Mã số thuế: 10 digits, or 10 + `-` + 3",
                                                        "example": "3700123456"})
    vat_rate = fields.Integer(load_default=None, allow_none=True, validate=validate.OneOf([0, 5, 8, 10]), metadata={
        "description": "0, 5, 8 or 10 (percent, included in the prices), or null: VAT not charged. With a rate "
                       "or a tax code, `legal_name` and `legal_address` are required"})


class PaymentSellerOut(Schema):
    legal_name = fields.String(required=True)
    legal_address = fields.String(required=True)
    tax_code = fields.String(required=True)
    vat_rate = fields.Integer(required=True, allow_none=True)
    prices_include_vat = fields.Boolean(required=True, metadata={"description": "Always true: prices are gross"})


def _seller(account: Any) -> dict[str, Any]:
    return {"legal_name": account.legal_name if account else "", "legal_address": account.legal_address if account
            else "", "tax_code": account.tax_code if account else "", "vat_rate": account.vat_rate if account else None,
            "prices_include_vat": True}


@bp.route("/payment-seller")
@require(Permission.MANAGE_PAYMENTS)
@bp.response(200, PaymentSellerOut)
@error_responses(bp, NOT_FOUND, MANAGERS)
def get_payment_seller() -> Any:
    """The seller on the organisation's receipts and e-invoice export (the payments page shows it)."""
    return _seller(services.account_for(db.session, g.org))


@bp.route("/payment-seller", methods=["PUT"])
@require(Permission.MANAGE_PAYMENTS)
@bp.arguments(PaymentSellerIn)
@bp.response(200, PaymentSellerOut)
@error_responses(bp, NOT_FOUND, MANAGERS, (422, "`invalid_seller`: see `fields`"))
def put_payment_seller(data: dict[str, Any]) -> Any:
    """Set the seller's legal name, address, tax code and VAT rate, as the payments page does. The rate
    applies to checkouts opened from now on."""
    return _seller(services.configure_seller(db.session, g.org, **data))


@bp.route("/payments/<int:payment_id>/refund-sent", methods=["POST"])
@require(Permission.MANAGE_PAYMENTS)
@bp.response(200, PaymentOut)
@error_responses(bp, NOT_FOUND, MANAGERS)
def refund_sent(payment_id: int) -> Any:
    """Confirm the bank transfer that gave back a refund the gateway could not make (payOS): recorded in
    the ledger with who confirmed it, once (a second call changes nothing)."""
    payment = refundable_or_404(payment_id)
    services.confirm_refund_sent(db.session, payment, current_user)
    return payment


@bp.route("/payments/<int:payment_id>/received", methods=["POST"])
@require(Permission.MANAGE_PAYMENTS)
@bp.response(200, PaymentOut)
@error_responses(bp, NOT_FOUND, MANAGERS, (409, "`not_a_transfer`: the payment goes through a gateway"))
def mark_received(payment_id: int) -> Any:
    """Mark a bank transfer's money received (an organisation with no gateway): recorded in the ledger
    with who did it, once (a second call changes nothing)."""
    payment = refundable_or_404(payment_id)
    services.mark_received(db.session, payment, current_user)
    return payment
