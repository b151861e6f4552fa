"""Receipts as PDF (WeasyPrint), in the viewer's language (vi or en), from the ledger: the seller's legal
name, address and tax code, the buyer as typed at checkout, and the VAT contained in what was paid
(``payments.vat``, at the rate the payment was sold at)."""

from __future__ import annotations

from flask import render_template
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import Session

from incubator.booking.models import Booking
from incubator.cohorts.models import Startup
from incubator.ledger.models import LedgerEntry, Payment
from incubator.payments import vat
from incubator.payments.services import account_for


def receipt_pdf(session: Session, payment: Payment, locale: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=receipt_html(session, payment, locale)).write_pdf()


def receipt_html(session: Session, payment: Payment, locale: str) -> str:
    org = payment.org
    entries = session.execute(select(LedgerEntry).where(LedgerEntry.payment_id == payment.id)
                              .order_by(LedgerEntry.created_at, LedgerEntry.id)
                              # all_orgs: a shared resource's payment is its owner's; a partner reads it
                              .execution_options(all_orgs=True)).scalars().all()
    booking = session.get(Booking, payment.booking_id) if payment.booking_id else None
    startup = session.get(Startup, payment.startup_id) if payment.startup_id else None
    seller = account_for(session, payment.org_id)
    with force_locale(locale):
        return render_template("payments/receipt_pdf.html", payment=payment, org=org, entries=entries,
                               booking=booking, startup=startup, locale=locale, seller=seller,
                               split=vat.split(payment.amount - payment.amount_refunded, payment.vat_rate))
