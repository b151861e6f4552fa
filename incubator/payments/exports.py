"""The organisation's payments as CSV: one row per payment, amounts in the currency's major unit
(UTF-8 with a BOM; text cells guarded against formulas by ``core.csvutil``)."""

from __future__ import annotations

import io

from incubator.core import csvutil
from incubator.core.money import to_major
from incubator.ledger.models import Payment

COLUMNS = ["receipt", "created_at", "paid_at", "payer", "startup_id", "booking_id", "application_id", "description",
           "currency", "amount", "refunded", "platform_fee", "net", "status", "payment_intent"]


def payments_csv(payments: list[Payment]) -> str:
    out = io.StringIO()
    writer = csvutil.writer(out)
    writer.writerow(COLUMNS)
    for p in payments:
        settled = p.is_settled
        writer.writerow([p.receipt_number, p.created_at.isoformat(), p.paid_at.isoformat() if p.paid_at else "",
                         p.user.email, p.startup_id or "", p.booking_id or "", p.application_id or "",
                         p.description, p.currency, to_major(p.amount, p.currency),
                         to_major(p.amount_refunded, p.currency),
                         to_major(p.platform_fee if settled else 0, p.currency),
                         to_major(p.amount - p.amount_refunded if settled else 0, p.currency), p.status,
                         p.payment_intent_id or ""])
    return out.getvalue()
