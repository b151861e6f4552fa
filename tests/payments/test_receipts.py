"""Receipts a Vietnamese accountant accepts (#21): the seller's legal name, address, tax code and VAT
rate on the payments page and the API; the buyer asked at checkout; the receipt; and the monthly
e-invoice export (CSV and XLSX), whose sums must equal the ledger's for the month."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from incubator.core.csvutil import BOM
from incubator.core.jobs import AFTER_COMMIT_KEY
from incubator.ledger.models import LedgerEntry, LedgerKind, Payment, PaymentStatus
from incubator.payments import exports
from incubator.payments.models import PaymentAccount
from incubator.payments.receipts import receipt_html
from tests.conftest import csrf_token
from tests.payments.fixtures import book_room

SELLER = {"legal_name": "Công ty TNHH Vườn ươm BBI", "legal_address": "Số 1 Hùng Vương, Thủ Dầu Một, Bình Dương",
          "tax_code": "3700123456", "vat_rate": 10}
COMPANY = {"name": "Trần Thị B", "company": "Công ty CP Cà phê Sáng", "tax_code": "0312345678-001",
           "address": "12 Lê Lợi, Quận 1, TP.HCM"}
_refs = itertools.count()


def _account(session, world, **seller):
    account = PaymentAccount(org_id=world.org.id, stripe_account_id="acct_1TestBBI", **seller)
    session.add(account)
    session.flush()
    return account


# -- the seller ----------------------------------------------------------------------------------------

def test_the_seller_on_the_payments_page(client, sign_in, session, world):
    sign_in(world.manager)
    token = csrf_token(client, "/o/bbi/manage/payments")
    bad = client.post("/o/bbi/manage/payments/seller", data={"csrf_token": token, "tax_code": "37001234",
                                                             "vat_rate": "10"})
    page = bad.get_data(as_text=True)
    assert bad.status_code == 422
    for name in ("tax_code", "legal_name", "legal_address"):  # VAT charged: the legal name and address are needed
        assert f'data-field="{name}"' in page
    assert session.scalar(select(PaymentAccount.id)) is None  # nothing half-saved
    assert client.post("/o/bbi/manage/payments/seller", data={
        "csrf_token": token, **SELLER, "vat_rate": "7"}).status_code == 422  # not one of Vietnam's rates
    ok = client.post("/o/bbi/manage/payments/seller", data={"csrf_token": token, **SELLER, "vat_rate": "8"})
    assert ok.status_code == 302
    account = session.scalars(select(PaymentAccount)).one()
    assert (account.legal_name, account.tax_code, account.vat_rate) == (SELLER["legal_name"], "3700123456", 8)
    shown = client.get("/o/bbi/manage/payments").get_data(as_text=True)
    assert 'value="3700123456"' in shown and '<option selected value="8">' in shown
    client.post("/o/bbi/manage/payments/seller", data={"csrf_token": token, "vat_rate": ""})  # not charged, no details
    session.refresh(account)
    assert account.vat_rate is None and account.legal_name == ""


def test_the_seller_over_the_api(pay_api, session, world):
    assert pay_api(world.founder, "PUT", "/payment-seller", json=SELLER).status_code in (403, 404)
    assert pay_api(world.founder, "GET", "/payment-seller").status_code in (403, 404)
    bad = pay_api(world.manager, "PUT", "/payment-seller", json={"tax_code": "3700123456-01", "vat_rate": 5})
    body = bad.get_json()
    assert bad.status_code == 422 and body["code"] == "invalid_seller"
    assert set(body["fields"]) == {"tax_code", "legal_name", "legal_address"}
    assert pay_api(world.manager, "PUT", "/payment-seller", json={**SELLER, "vat_rate": "ten"}).status_code == 422
    ok = pay_api(world.manager, "PUT", "/payment-seller", json={**SELLER, "tax_code": "3700123456-002"})
    assert ok.status_code == 200 and ok.get_json() == {**SELLER, "tax_code": "3700123456-002",
                                                       "prices_include_vat": True}
    assert pay_api(world.manager, "GET", "/payment-seller").get_json()["vat_rate"] == 10


# -- the buyer at checkout -----------------------------------------------------------------------------

def test_a_company_gives_its_tax_code_and_address_at_checkout(pay_api, session, paying, fablab, fake):
    paying.org and session.execute(select(PaymentAccount)).scalar_one().__setattr__("vat_rate", 10)
    booking = book_room(pay_api, paying.founder, fablab.room)
    url = f"/bookings/{booking['id']}/checkout"
    bad = pay_api(paying.founder, "POST", url, json={"buyer": {"name": "B", "company": "Công ty CP Cà phê Sáng"}})
    assert bad.status_code == 422 and bad.get_json()["code"] == "invalid_buyer"
    assert set(bad.get_json()["fields"]) == {"buyer_tax_code", "buyer_address"}
    wrong = pay_api(paying.founder, "POST", url, json={"buyer": {**COMPANY, "tax_code": "031234567X"}})
    assert wrong.status_code == 422 and set(wrong.get_json()["fields"]) == {"buyer_tax_code"}
    assert session.scalar(select(func.count(Payment.id))) == 0  # nothing half-saved
    ok = pay_api(paying.founder, "POST", url, json={"buyer": COMPANY})
    assert ok.status_code == 200
    payment = session.get(Payment, ok.get_json()["payment_id"])
    assert (payment.buyer_company, payment.buyer_tax_code, payment.buyer_address, payment.vat_rate) == (
        COMPANY["company"], "0312345678-001", COMPANY["address"], 10)
    person = book_room(pay_api, paying.founder, fablab.room, hour=14)  # a person needs give nothing
    assert pay_api(paying.founder, "POST", f"/bookings/{person['id']}/checkout").status_code == 200


def test_the_buyer_on_the_checkout_page(client, sign_in, session, pay_api, paying, fablab, fake):
    booking = book_room(pay_api, paying.founder, fablab.room)
    sign_in(paying.founder)
    assert f"/o/bbi/bookings/{booking['id']}/pay/details" in client.get("/o/bbi/bookings").get_data(as_text=True)
    details = f"/o/bbi/bookings/{booking['id']}/pay/details"
    token = csrf_token(client, details)
    bad = client.post(f"/o/bbi/bookings/{booking['id']}/pay", data={
        "csrf_token": token, "buyer_company": COMPANY["company"], "buyer_tax_code": "123"})
    page = bad.get_data(as_text=True)
    assert bad.status_code == 422 and 'data-field="buyer_tax_code"' in page and 'data-field="buyer_address"' in page
    assert COMPANY["company"] in page  # what was typed stays in the form
    assert session.scalar(select(func.count(Payment.id))) == 0
    ok = client.post(f"/o/bbi/bookings/{booking['id']}/pay", data={
        "csrf_token": token, **{f"buyer_{name}": value for name, value in COMPANY.items()}})
    assert ok.status_code == 302
    assert session.scalars(select(Payment.buyer_tax_code)).one() == "0312345678-001"


# -- the receipt ---------------------------------------------------------------------------------------

def _paid(session, world, amount, *, at, vat_rate=None, buyer=None):
    payment = Payment(org_id=world.org.id, user_id=world.founder.id, description="Phòng họp", amount=amount,
                      currency="VND", status=PaymentStatus.PAID, destination_account="acct_1TestBBI",
                      idempotency_key=f"receipts-{next(_refs)}", paid_at=at, created_at=at, vat_rate=vat_rate,
                      gateway="stripe", **{f"buyer_{k}": v for k, v in (buyer or {}).items()})
    session.add(payment)
    session.flush()
    _entry(session, payment, LedgerKind.PAYMENT, amount, at)
    return payment


def _entry(session, payment, kind, amount, at):
    session.add(LedgerEntry(org_id=payment.org_id, kind=kind, amount=amount, currency="VND", payment_id=payment.id,
                            reference=f"ref_{next(_refs)}", created_at=at))
    if kind == LedgerKind.REFUND:
        payment.amount_refunded -= amount
        payment.status = PaymentStatus.REFUNDED if payment.amount_refunded == payment.amount \
            else PaymentStatus.PARTIALLY_REFUNDED
    session.flush()


def test_the_receipt_names_seller_buyer_and_vat_in_both_languages(app, client, sign_in, session, world):
    _account(session, world, **SELLER)
    payment = _paid(session, world, 1_100_000, at=datetime(2026, 11, 5, 3, tzinfo=UTC), vat_rate=10, buyer=COMPANY)
    with app.test_request_context("/o/bbi/"):
        vi, en = receipt_html(session, payment, "vi"), receipt_html(session, payment, "en")
    for html in (vi, en):
        for text in (SELLER["legal_name"], SELLER["legal_address"], "3700123456", COMPANY["company"],
                     "0312345678-001", COMPANY["address"], payment.receipt_number):
            assert text in html
    assert "Amount before VAT" in en and "VAT 10 %" in en and "Tax code" in en
    assert "Mã số thuế" in vi and "Thuế GTGT 10 %" in vi and "Tiền trước thuế" in vi
    assert "1.000.000" in vi and "100.000" in vi and "1,000,000" in en  # the viewer's number format
    sign_in(world.founder)
    assert client.get(f"/o/bbi/payments/{payment.id}/receipt.pdf").mimetype == "application/pdf"


# -- the monthly e-invoice export ------------------------------------------------------------------------

def test_the_export_through_the_page_and_the_api(client, sign_in, session, pay_api, world):
    _account(session, world, **SELLER)
    october = _paid(session, world, 1_080_000, at=datetime(2026, 10, 20, 5, tzinfo=UTC), vat_rate=8, buyer=COMPANY)
    november = _paid(session, world, 500_000, at=datetime(2026, 11, 2, 5, tzinfo=UTC))  # VAT not charged
    _entry(session, october, LedgerKind.REFUND, -540_000, datetime(2026, 11, 3, 5, tzinfo=UTC))
    # 18:00 UTC on 31 October is 1 November in Bình Dương: the month is the organisation's
    late = _paid(session, world, 1_100_000, at=datetime(2026, 10, 31, 18, tzinfo=UTC), vat_rate=10)
    sign_in(world.manager)
    assert "/o/bbi/manage/payments/export?month=" in client.get("/o/bbi/manage/payments").get_data(as_text=True)
    answer = client.get("/o/bbi/manage/payments/export?month=2026-11&format=csv")
    text = answer.get_data(as_text=True)
    assert answer.status_code == 200 and answer.mimetype == "text/csv" and text.startswith(BOM)
    rows = list(csv.DictReader(io.StringIO(text.removeprefix(BOM))))
    assert [(r["receipt"], r["kind"], r["date"], r["gross"], r["vat_rate"], r["vat"], r["net"]) for r in rows] == [
        (late.receipt_number, "payment", "2026-11-01", "1100000", "10", "100000", "1000000"),
        (november.receipt_number, "payment", "2026-11-02", "500000", "", "0", "500000"),
        # the refund of an October payment is November's, negative, at the rate it was sold at
        (october.receipt_number, "refund", "2026-11-03", "-540000", "8", "-40000", "-500000")]
    assert (rows[2]["buyer_company"], rows[2]["buyer_tax_code"], rows[2]["buyer_address"]) == (
        COMPANY["company"], "0312345678-001", COMPANY["address"])
    assert rows[1]["buyer_name"] == world.founder.name  # a person who gave nothing: the payer's name
    xlsx = pay_api(world.manager, "GET", "/payments/export?month=2026-10&format=xlsx")
    assert xlsx.status_code == 200 and xlsx.mimetype == exports.XLSX
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.data)).active
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == exports.EINVOICE_COLUMNS
    assert len(values) == 2 and values[1][:3] == (datetime(2026, 10, 20), october.receipt_number, "payment")
    assert values[1][9:13] == (1_080_000, 8, 80_000, 1_000_000)  # real numbers, not text
    assert pay_api(world.manager, "GET", "/payments/export?month=2026-11").data.decode().startswith(BOM)


def test_a_bad_month_or_format_and_roles_that_should_not(client, sign_in, pay_api, world):
    for bad in ("2026-13", "11-2026", "", "2026-1", "0000-01"):
        api = pay_api(world.manager, "GET", f"/payments/export?month={bad}&format=csv")
        assert api.status_code == 422 and "month" in api.get_json()["fields"], bad
    api = pay_api(world.manager, "GET", "/payments/export?month=2026-11&format=pdf")
    assert api.status_code == 422 and "format" in api.get_json()["fields"]
    assert pay_api(world.founder, "GET", "/payments/export?month=2026-11").status_code in (403, 404)
    sign_in(world.manager)
    page = client.get("/o/bbi/manage/payments/export?month=2026-13&format=csv")
    assert page.status_code == 422 and 'data-field="month"' in page.get_data(as_text=True)
    page = client.get("/o/bbi/manage/payments/export?month=2026-11&format=ods")
    assert page.status_code == 422 and 'data-field="format"' in page.get_data(as_text=True)
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/o/bbi/receipts")})
    sign_in(world.founder)
    assert client.get("/o/bbi/manage/payments/export?month=2026-11&format=csv").status_code == 403


movements = st.lists(st.tuples(st.integers(0, 2),  # the payment's month: October, November, December
                               st.integers(1, 50_000_000), st.sampled_from([None, 0, 5, 8, 10]),
                               st.integers(0, 100),  # percent refunded
                               st.integers(0, 1)),  # the refund that many months later
                     max_size=8)


def _expected_vat(gross: int, rate: int | None) -> int:
    if not rate:
        return 0
    return int((Decimal(gross) * rate / (100 + rate)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(moves=movements)
def test_the_export_sums_are_the_ledger_sums(app, session, world, moves):
    months = [date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1)]
    with app.app_context():
        savepoint = session.begin_nested()
        try:
            expected = {m: [0, 0] for m in months}  # gross, VAT: computed from the sequence alone
            for month_index, amount, rate, percent, later in moves:
                paid_at = datetime(months[month_index].year, months[month_index].month, 10, 5, tzinfo=UTC)
                payment = _paid(session, world, amount, at=paid_at, vat_rate=rate)
                expected[months[month_index]][0] += amount
                expected[months[month_index]][1] += _expected_vat(amount, rate)
                refund = amount * percent // 100
                if refund:
                    month = months[month_index + later]
                    _entry(session, payment, LedgerKind.REFUND, -refund, datetime(month.year, month.month, 20,
                                                                                 tzinfo=UTC))
                    expected[month][0] -= refund
                    expected[month][1] -= _expected_vat(refund, rate)
            for month in months:
                rows = list(csv.DictReader(io.StringIO(exports.einvoice_csv(
                    exports.einvoice_rows(session, world.org, month)).removeprefix(BOM))))
                gross, vat_sum, net = (sum(int(r[c]) for r in rows) for c in ("gross", "vat", "net"))
                assert [gross, vat_sum] == expected[month]
                assert net == gross - vat_sum
                end = months[months.index(month) + 1] if month != months[-1] else date(2027, 2, 1)
                ledger = session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
                    LedgerEntry.org_id == world.org.id, LedgerEntry.kind.in_(["payment", "refund"]),
                    LedgerEntry.created_at >= datetime(month.year, month.month, 1, tzinfo=UTC),
                    LedgerEntry.created_at < datetime(end.year, end.month, 1, tzinfo=UTC)))
                assert gross == ledger
        finally:
            savepoint.rollback()
            session.info.pop(AFTER_COMMIT_KEY, None)


def test_the_buyer_of_an_application_fee(client, sign_in, session, intake, fake, pay_api):
    from incubator.intake.models import Stage
    from tests.intake.fixtures import application

    intake.call.fee_minor = 200_000
    session.add(PaymentAccount(org_id=intake.org.id, stripe_account_id="acct_1TestBBI", **SELLER))
    session.flush()
    draft = application(intake.call, intake.founder, Stage.DRAFT)
    api = pay_api(intake.founder, "POST", f"/applications/{draft.id}/checkout",
                  json={"buyer": {"company": COMPANY["company"], "address": COMPANY["address"]}})
    assert api.status_code == 422 and set(api.get_json()["fields"]) == {"buyer_tax_code"}
    sign_in(intake.founder)
    url = f"/o/bbi/applications/{draft.id}/edit"
    data = {"csrf_token": csrf_token(client, url), "action": "submit", "startup_name": "AgriSense",
            "pitch": "Sensors for rice farms", "country": "vn", "buyer_company": COMPANY["company"]}
    bad = client.post(url, data=data)
    assert bad.status_code == 422 and 'data-field="buyer_tax_code"' in bad.get_data(as_text=True)
    assert session.scalar(select(func.count(Payment.id))) == 0
    ok = client.post(url, data={**data, **{f"buyer_{name}": value for name, value in COMPANY.items()}})
    assert ok.status_code == 302 and "/payments/test-checkout/" in ok.location
    payment = session.scalars(select(Payment).where(Payment.application_id == draft.id)).one()
    assert (payment.buyer_tax_code, payment.vat_rate) == ("0312345678-001", 10)
