"""Withdrawal, on the page and over the API, and the application fee it refunds: before the deadline and
before the application goes into review the fee comes back; later it is kept."""

from __future__ import annotations

from sqlalchemy import select

from incubator.core import mail
from incubator.intake.models import Stage
from incubator.ledger.models import LedgerEntry, LedgerKind, Payment
from incubator.payments.gateway import GatewayError
from incubator.payments.models import PaymentAccount
from tests.conftest import csrf_token
from tests.intake.fixtures import GOOD_ANSWERS, application
from tests.payments.fixtures import deliver

FEE = 200_000


def _paid_application(session, intake, client, fake, pay_api):
    """The founder's application to a call with a fee, paid and so submitted."""
    intake.call.fee_minor = FEE
    session.add(PaymentAccount(org_id=intake.org.id, stripe_account_id="acct_1TestBBI"))
    session.flush()
    draft = application(intake.call, intake.founder, Stage.DRAFT, answers=GOOD_ANSWERS)
    checkout = pay_api(intake.founder, "POST", f"/applications/{draft.id}/checkout").get_json()
    fake.complete(checkout["session_id"])
    deliver(client, fake)
    session.refresh(draft)
    assert draft.stage == Stage.SUBMITTED
    mail.outbox.clear()
    return draft, session.get(Payment, checkout["payment_id"])


def _refunds(session):
    return session.execute(select(LedgerEntry.amount).where(LedgerEntry.kind == LedgerKind.REFUND)).scalars().all()


def test_withdrawing_over_the_api_before_review_refunds_the_fee(client, session, intake, fake, pay_api):
    submitted, payment = _paid_application(session, intake, client, fake, pay_api)
    assert pay_api(intake.other_founder, "POST", f"/applications/{submitted.id}/withdraw", json={}).status_code \
        == 404
    answer = pay_api(intake.founder, "POST", f"/applications/{submitted.id}/withdraw",
                     json={"comment": "We joined another programme"})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["stage"] == "withdrawn" and answer.get_json()["fee_refunded"] == FEE
    session.expire_all()
    assert session.get(Payment, payment.id).status == "refunded" and _refunds(session) == [-FEE]
    assert submitted.transitions[-1].comment == "We joined another programme"
    assert [m.to for m in mail.outbox] == [[intake.founder.email]]  # the refund's receipt
    again = pay_api(intake.founder, "POST", f"/applications/{submitted.id}/withdraw", json={})
    assert again.status_code == 422 and again.get_json()["code"] == "bad_transition"
    assert _refunds(session) == [-FEE]  # once
    operation = client.get("/api/v1/openapi.json").get_json()["paths"][
        "/api/v1/orgs/{org}/applications/{application_id}/withdraw"]["post"]
    assert "before it goes into review" in " ".join(operation["description"].split())


def test_withdrawing_once_in_review_keeps_the_fee(client, session, intake, fake, pay_api):
    submitted, payment = _paid_application(session, intake, client, fake, pay_api)
    submitted.stage = Stage.IN_REVIEW
    session.flush()
    answer = pay_api(intake.founder, "POST", f"/applications/{submitted.id}/withdraw")
    assert answer.status_code == 200 and answer.get_json()["fee_refunded"] == 0
    session.expire_all()
    assert session.get(Payment, payment.id).status == "paid" and _refunds(session) == []


def test_a_failed_refund_leaves_the_application_as_it_was(client, session, intake, fake, pay_api, monkeypatch):
    submitted, payment = _paid_application(session, intake, client, fake, pay_api)

    def refuse(*_args, **_kwargs):
        raise GatewayError("Stripe is unreachable")

    monkeypatch.setattr(fake, "refund", refuse)
    answer = pay_api(intake.founder, "POST", f"/applications/{submitted.id}/withdraw", json={})
    assert answer.status_code == 502 and answer.get_json()["code"] == "refund_failed"
    session.expire_all()
    assert submitted.stage == Stage.SUBMITTED and session.get(Payment, payment.id).status == "paid"


def test_withdrawing_on_the_page_says_the_fee_is_refunded_and_refunds_it(client, session, intake, fake, pay_api,
                                                                          sign_in):
    submitted, payment = _paid_application(session, intake, client, fake, pay_api)
    sign_in(intake.founder)
    edit = f"/o/bbi/applications/{submitted.id}/edit"
    page = client.get(edit).get_data(as_text=True)
    assert "Your application fee is refunded if you withdraw now" in page
    answer = client.post(f"/o/bbi/applications/{submitted.id}/withdraw", data={"csrf_token": csrf_token(client, edit)},
                         follow_redirects=True)
    text = answer.get_data(as_text=True)
    assert "Your application is withdrawn." in text and "The application fee of" in text and "is refunded" in text
    session.expire_all()
    assert submitted.stage == Stage.WITHDRAWN and session.get(Payment, payment.id).status == "refunded"


def test_the_page_says_when_withdrawing_keeps_the_fee(client, session, intake, fake, pay_api, sign_in):
    submitted, _payment = _paid_application(session, intake, client, fake, pay_api)
    submitted.stage = Stage.SCREENING
    session.flush()
    sign_in(intake.founder)
    assert "is refunded if you withdraw now" in client.get(f"/o/bbi/applications/{submitted.id}/edit").get_data(
        as_text=True)
    submitted.stage = Stage.INTERVIEW
    session.flush()
    page = client.get(f"/o/bbi/applications/{submitted.id}/edit").get_data(as_text=True)
    assert "The application fee is not refunded" in page
