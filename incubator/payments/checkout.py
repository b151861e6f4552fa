"""Opening a checkout from a page or the API request: where the customer comes back to, who pays.

The booking pages, the apply page (through ``fee_checkout_requested``, so that intake needs no payments
import) and the API open checkouts through here, with the same rules (``services.checkout_*``).
"""

from __future__ import annotations

from typing import Any

from flask import g, url_for
from flask_login import current_user

from incubator.booking.access import owner_of
from incubator.booking.models import Booking
from incubator.core.tenancy import all_orgs
from incubator.core.urls import absolute
from incubator.extensions import db
from incubator.ledger import signals
from incubator.ledger.models import Payment
from incubator.payments import services


def return_page(payment_id: int) -> str:
    """Where Stripe sends the customer back: the payment's own page (its query string proves nothing)."""
    return url_for("payments.status", payment_id=payment_id, _external=True) + "?session_id={CHECKOUT_SESSION_ID}"


def start_checkout(booking: Booking, buyer: dict[str, str] | None = None) -> Payment:
    """A booking's checkout, for the page and the API. A partner organisation's booking of a shared
    resource belongs to its owner: it is paid from the partner's pages into the owner's account.
    ``buyer``: the name, company, tax code and address for the receipt (``services.clean_buyer``)."""
    with all_orgs(db.session):  # the booking (from booking_or_404) may be the owner's
        return services.checkout_booking(db.session, owner_of(booking), booking, current_user,
                                         success_url=return_page, cancel_url=url_for("booking.mine", _external=True),
                                         buyer=buyer)


def start_application_checkout(application: Any, buyer: dict[str, str] | None = None, **_kw: Any) -> Payment:
    """The fee of an application ready to submit, for the page and the API."""
    return services.checkout_application(
        db.session, g.org, application, current_user, success_url=return_page,
        cancel_url=url_for("intake.edit_application", application_id=application.id, _external=True), buyer=buyer)


def buyer_from_form(form: Any) -> dict[str, str] | None:
    """The ``buyer_*`` fields a page posted, or None when it posted none of them."""
    values = {name: str(form.get(f"buyer_{name}", "")) for name in services.BUYER_FIELDS}
    return values if any(values.values()) else None


def checkout_answer(payment: Payment) -> dict[str, Any]:
    return {"checkout_url": absolute(payment.checkout_url or ""), "session_id": payment.checkout_session_id,
            "payment_id": payment.id}


signals.fee_checkout_requested.connect(start_application_checkout)
