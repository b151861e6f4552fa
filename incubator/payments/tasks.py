"""Payment jobs: receipts by email (the PDF is made outside the webhook's request), and a sweep that
reads back payments whose sessions should have ended, in case a webhook never arrived."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from huey import crontab
from sqlalchemy import select
from sqlalchemy.orm import Session

from incubator.core import metrics
from incubator.core.db import deferred_begin, get_required, utcnow
from incubator.core.errors import DomainError
from incubator.core.jobs import after_commit, job, periodic
from incubator.core.mail import Attachment, send_mail
from incubator.core.tenancy import all_orgs
from incubator.ledger.models import LedgerEntry, LedgerKind, Payment, PaymentStatus
from incubator.orgs.models import Organisation


def send_receipt(session: Session, entry: LedgerEntry) -> None:
    """Email the payer a receipt for a payment or a refund, once the transaction has committed."""
    after_commit(session, email_receipt, entry.id)


@job(retries=3, retry_delay=60)
def email_receipt(entry_id: int) -> None:
    from incubator.extensions import db
    from incubator.payments.receipts import receipt_pdf

    with deferred_begin(), all_orgs(db.session):  # no write lock while the PDF renders
        entry = db.session.get(LedgerEntry, entry_id)
        if entry is None or entry.payment is None:
            return
        payment = entry.payment
        org = get_required(db.session, Organisation, payment.org_id)
        locale = payment.user.locale or org.default_locale
        pdf = receipt_pdf(db.session, payment, locale)
        with force_locale(locale):
            subject = (_("Receipt %(number)s: payment received", number=payment.receipt_number)
                       if entry.kind == LedgerKind.PAYMENT else
                       _("Receipt %(number)s: refund", number=payment.receipt_number))
            body = render_template("payments/email/receipt.txt", payment=payment, entry=entry, org=org)
        send_mail(db.session, payment.user.email, subject, body,
                  attachments=[Attachment(f"receipt-{payment.receipt_number}.pdf", "application/pdf", pdf)])


@periodic(crontab(minute="*/2"))
def reconcile_payments() -> int:
    """Read back every payment still open after two minutes: a lost webhook neither loses money nor
    keeps a paid booking waiting (its hold lasts five minutes past the session).

    Each payment is reconciled on its own, in its own savepoint and under its row lock (as a webhook
    delivery takes it): one the gateway cannot read is logged, left as it was and tried again on the
    next run, and the others go on. Answers how many were read back."""
    from incubator.extensions import db
    from incubator.payments import gateway as gateways
    from incubator.payments import services

    session = db.session
    with all_orgs(session):  # a job over every organisation's pending payments
        stale = session.execute(select(Payment.id).where(
            Payment.status == PaymentStatus.PENDING, Payment.created_at < utcnow() - timedelta(minutes=2))
            .order_by(Payment.id)).scalars().all()
        done = 0
        for payment_id in stale:
            try:
                with session.begin_nested():
                    payment = get_required(session, Payment, payment_id)
                    session.refresh(payment, with_for_update=True)
                    if payment.status == PaymentStatus.PENDING:  # a webhook may have got there first
                        services.sync(session, payment)
                        outcome = str(payment.status)
                    else:
                        outcome = "skipped"
                    done += 1
            except (gateways.GatewayError, DomainError) as exc:
                outcome = "error"
                current_app.logger.warning("reconcile: payment %s could not be read back, retried on the next "
                                           "run: %s", payment_id, exc)
            metrics.record_reconciliation(outcome)
    return done
