"""Checkout for bookings and the list of payments over the API (the same rules as the pages)."""

from __future__ import annotations

from typing import Any

from flask import abort, g
from marshmallow import Schema, fields

from incubator.api import api_blueprint, error_responses
from incubator.booking.access import booking_or_404
from incubator.core.permissions import Permission
from incubator.core.tenancy import get_or_404, signed_in
from incubator.extensions import db
from incubator.intake.access import may_apply
from incubator.intake.models import Application
from incubator.payments import services
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
@bp.response(200, CheckoutOut)
@error_responses(bp, NOT_FOUND, (409, "Not awaiting payment, already paid, or no Stripe account"),
                 (502, "The payment gateway refused"), (503, "Online payment is not set up"))
def checkout(booking_id: int) -> Any:
    """Open (or reopen) the Stripe Checkout Session of a booking awaiting payment. The booking counts as
    paid only when Stripe's webhook confirms it."""
    if not g.membership.has(Permission.BOOK_RESOURCES):
        abort(404)
    booking = booking_or_404(booking_id)  # this organisation's, or a partner booking of a shared resource
    if booking.user_id != g.api_user.id:
        abort(404)
    return checkout_answer(start_checkout(booking))


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


@bp.route("/payments")
@bp.response(200, PaymentOut(many=True))
@error_responses(bp, NOT_FOUND)
def list_payments() -> Any:
    """Managers see the organisation's payments; everyone else their own."""
    everyone = g.membership.has(Permission.MANAGE_PAYMENTS)
    return services.visible_payments(db.session, g.org, g.api_user, everyone=everyone)
