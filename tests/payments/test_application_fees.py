"""A call's application fee: submission waits for the payment, which the webhook confirms."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from incubator.core import mail
from incubator.intake.models import Stage
from incubator.ledger.models import LedgerEntry, LedgerKind, Payment
from incubator.payments.models import PaymentAccount
from tests.conftest import csrf_token
from tests.intake.fixtures import application
from tests.payments.fixtures import deliver

FEE = 200_000


def _fee_call(session, intake):
    intake.call.fee_minor = FEE
    session.add(PaymentAccount(org_id=intake.org.id, stripe_account_id="acct_1TestBBI"))
    session.flush()
    return application(intake.call, intake.founder, Stage.DRAFT)


def test_submitting_from_the_page_goes_through_payment(client, sign_in, session, intake, fake):
    draft = _fee_call(session, intake)
    sign_in(intake.founder)
    url = f"/o/bbi/applications/{draft.id}/edit"
    data = {"csrf_token": csrf_token(client, url), "action": "submit", "startup_name": "AgriSense",
            "pitch": "Sensors for rice farms", "country": "vn"}
    to_checkout = client.post(url, data=data)
    assert to_checkout.status_code == 302 and "/payments/test-checkout/" in to_checkout.location
    session.refresh(draft)
    assert draft.stage == Stage.DRAFT and draft.submitted_at is None  # not before the money is confirmed
    raw = fake.raw(to_checkout.location.rsplit("/", 1)[1])
    assert (raw["amount_total"], raw["currency"]) == (FEE, "vnd")
    mail.outbox.clear()
    fake.complete(raw["id"])
    deliver(client, fake)
    session.refresh(draft)
    assert draft.stage == Stage.SUBMITTED and draft.submitted_at is not None
    assert session.scalar(select(LedgerEntry.amount).where(LedgerEntry.kind == LedgerKind.PAYMENT)) == FEE
    assert len(mail.outbox) == 2  # the payment's receipt and the application's
    payment = session.scalar(select(Payment).where(Payment.application_id == draft.id))
    page = client.get(f"/o/bbi/payments/{payment.id}").get_data(as_text=True)
    assert 'data-testid="application-submitted"' in page


def test_over_the_api_submit_answers_402_until_paid(client, session, intake, fake, pay_api):
    draft = _fee_call(session, intake)
    answer = pay_api(intake.founder, "POST", f"/applications/{draft.id}/submit")
    assert answer.status_code == 402 and answer.get_json()["code"] == "payment_required"
    checkout = pay_api(intake.founder, "POST", f"/applications/{draft.id}/checkout")
    assert checkout.status_code == 200
    assert pay_api(intake.other_founder, "POST", f"/applications/{draft.id}/checkout").status_code == 404
    fake.complete(checkout.get_json()["session_id"])
    deliver(client, fake)
    session.refresh(draft)
    assert draft.stage == Stage.SUBMITTED
    payments = pay_api(intake.founder, "GET", "/payments").get_json()
    assert [(p["application_id"], p["amount"], p["status"]) for p in payments] == [(draft.id, FEE, "paid")]


def test_an_expired_checkout_leaves_a_draft_that_can_pay_again(client, session, intake, fake, pay_api):
    draft = _fee_call(session, intake)
    first = pay_api(intake.founder, "POST", f"/applications/{draft.id}/checkout").get_json()
    fake.expire(first["session_id"])
    deliver(client, fake)
    session.refresh(draft)
    assert draft.stage == Stage.DRAFT
    second = pay_api(intake.founder, "POST", f"/applications/{draft.id}/checkout").get_json()
    assert second["session_id"] != first["session_id"]


def test_a_second_payment_for_a_submitted_application_is_refunded(client, session, intake, fake, pay_api):
    draft = _fee_call(session, intake)
    first = pay_api(intake.founder, "POST", f"/applications/{draft.id}/checkout").get_json()
    payment = session.get(Payment, first["payment_id"])
    payment.expires_at -= timedelta(hours=1)  # as if it had run out here; yet the customer pays both
    session.flush()
    second = pay_api(intake.founder, "POST", f"/applications/{draft.id}/checkout").get_json()
    fake.complete(first["session_id"])
    fake.complete(second["session_id"])
    deliver(client, fake)
    deliver(client, fake)  # the refund's own webhook
    statuses = dict(session.execute(select(Payment.id, Payment.status)).all())
    assert statuses == {first["payment_id"]: "paid", second["payment_id"]: "refunded"}
    session.refresh(draft)
    assert draft.stage == Stage.SUBMITTED


def test_paying_past_the_deadline_counts_from_when_paying_began(client, session, intake, fake, pay_api):
    draft = _fee_call(session, intake)
    checkout = pay_api(intake.founder, "POST", f"/applications/{draft.id}/checkout").get_json()
    intake.call.closes_at = session.get(Payment, checkout["payment_id"]).created_at + timedelta(seconds=1)
    session.flush()  # the call closed a second after the applicant started paying
    fake.complete(checkout["session_id"])
    deliver(client, fake)
    session.refresh(draft)
    assert draft.stage == Stage.SUBMITTED
    assert pay_api(intake.other_founder, "POST", f"/applications/{draft.id}/submit").status_code == 404
