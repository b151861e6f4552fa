"""Receipts as PDF (WeasyPrint), in the payer's language, from the ledger."""

from __future__ import annotations

from flask import render_template
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import Session

from incubator.booking.models import Booking
from incubator.cohorts.models import Startup
from incubator.ledger.models import LedgerEntry, Payment


def receipt_pdf(session: Session, payment: Payment, locale: str) -> bytes:
    from weasyprint import HTML

    org = payment.org
    entries = session.execute(select(LedgerEntry).where(LedgerEntry.payment_id == payment.id)
                              .order_by(LedgerEntry.created_at, LedgerEntry.id)
                              # all_orgs: a shared resource's payment is its owner's; a partner reads it
                              .execution_options(all_orgs=True)).scalars().all()
    booking = session.get(Booking, payment.booking_id) if payment.booking_id else None
    startup = session.get(Startup, payment.startup_id) if payment.startup_id else None
    with force_locale(locale):
        html = render_template("payments/receipt_pdf.html", payment=payment, org=org, entries=entries,
                               booking=booking, startup=startup, locale=locale)
    return HTML(string=html).write_pdf()
