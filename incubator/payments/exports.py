"""The organisation's payments as CSV: one row per payment, amounts in the currency's major unit
(UTF-8 with a BOM; text cells guarded against formulas by ``core.csvutil``); and the monthly export
for its e-invoice software (CSV and XLSX): one row per payment and per refund, with the buyer and the
VAT (README, "The monthly e-invoice export")."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from incubator.core import csvutil
from incubator.core.money import to_major
from incubator.core.timezones import add_months, day_start_utc, to_local
from incubator.ledger.models import MONEY_KINDS, LedgerEntry, Payment
from incubator.orgs.models import Organisation
from incubator.payments import vat

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


# -- the monthly e-invoice export -------------------------------------------------------------------------

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX}


def einvoice_file(session: Session, org: Organisation, month: date, fmt: str) -> tuple[bytes, str, str]:
    """The export's bytes, media type and file name, for the page and the API."""
    rows = einvoice_rows(session, org, month)
    body = einvoice_csv(rows).encode() if fmt == "csv" else einvoice_xlsx(rows)
    return body, FORMATS[fmt], f"einvoice-{org.slug}-{month:%Y-%m}.{fmt}"


EINVOICE_COLUMNS = ["date", "receipt", "kind", "buyer_name", "buyer_company", "buyer_tax_code", "buyer_address",
                    "description", "currency", "gross", "vat_rate", "vat", "net", "gateway", "reference"]


@dataclass(frozen=True)
class InvoiceRow:
    """One money movement of the month, as the e-invoice software takes it (amounts in minor units)."""

    day: date
    receipt: str
    kind: str  # payment | refund
    buyer_name: str
    buyer_company: str
    buyer_tax_code: str
    buyer_address: str
    description: str
    currency: str
    gross: int  # VAT included; a refund is negative
    vat_rate: int | None  # None: VAT not charged
    vat: int
    net: int
    gateway: str
    reference: str


def einvoice_rows(session: Session, org: Organisation, month: date) -> list[InvoiceRow]:
    """Every payment and refund the ledger recorded in ``month`` (the organisation's time zone), oldest
    first: a refund lands in its own month, whenever its payment was made. The VAT is the rate the
    payment was sold at (``vat.split`` of the gross)."""
    start, end = day_start_utc(month, org.timezone), day_start_utc(add_months(month, 1), org.timezone)
    entries = session.execute(
        select(LedgerEntry).where(LedgerEntry.org_id == org.id, LedgerEntry.kind.in_(MONEY_KINDS),
                                  LedgerEntry.created_at >= start, LedgerEntry.created_at < end)
        .options(selectinload(LedgerEntry.payment).selectinload(Payment.user))
        .order_by(LedgerEntry.created_at, LedgerEntry.id)).scalars().all()
    rows = []
    for entry in entries:
        payment = entry.payment
        if payment is None:  # every money row records a payment's money
            continue
        part = vat.split(entry.amount, payment.vat_rate)
        rows.append(InvoiceRow(
            day=to_local(entry.created_at, org.timezone).date(), receipt=payment.receipt_number, kind=str(entry.kind),
            buyer_name=payment.buyer_name or payment.user.name, buyer_company=payment.buyer_company,
            buyer_tax_code=payment.buyer_tax_code, buyer_address=payment.buyer_address,
            description=payment.description, currency=entry.currency or payment.currency, gross=part.gross,
            vat_rate=part.rate, vat=part.vat, net=part.net, gateway=payment.gateway, reference=entry.reference or ""))
    return rows


def _cells(row: InvoiceRow) -> list[Any]:
    return [row.day, row.receipt, row.kind, row.buyer_name, row.buyer_company, row.buyer_tax_code, row.buyer_address,
            row.description, row.currency, to_major(row.gross, row.currency),
            "" if row.vat_rate is None else row.vat_rate, to_major(row.vat, row.currency),
            to_major(row.net, row.currency), row.gateway, row.reference]


def einvoice_csv(rows: list[InvoiceRow]) -> str:
    """UTF-8 with a BOM (Excel in Vietnam reads the accents), dates as YYYY-MM-DD, amounts in the
    currency's major unit with a dot, text guarded against formulas."""
    out = io.StringIO()
    writer = csvutil.writer(out)
    writer.writerow(EINVOICE_COLUMNS)
    for row in rows:
        writer.writerow([cell.isoformat() if isinstance(cell, date) else cell for cell in _cells(row)])
    return out.getvalue()


def einvoice_xlsx(rows: list[InvoiceRow]) -> bytes:
    """XlsxWriter: dates as dates, amounts and rates as numbers, text as text (never a formula or a link)."""
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                     "strings_to_numbers": False})
    sheet = book.add_worksheet("einvoice")
    bold, day = book.add_format({"bold": True}), book.add_format({"num_format": "yyyy-mm-dd"})
    for c, name in enumerate(EINVOICE_COLUMNS):
        sheet.write_string(0, c, name, bold)
    for r, row in enumerate(rows, start=1):
        for c, cell in enumerate(_cells(row)):
            if isinstance(cell, date):
                sheet.write_datetime(r, c, datetime.combine(cell, time(0)), day)
            elif isinstance(cell, Decimal | int):
                sheet.write_number(r, c, float(cell) if isinstance(cell, Decimal) else cell)
            elif cell != "":
                sheet.write_string(r, c, str(cell))
    sheet.freeze_panes(1, 0)
    book.close()
    return out.getvalue()
