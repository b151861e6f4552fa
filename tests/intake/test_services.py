"""The applicant's side and the form's versions, through the services."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from incubator.core import mail
from incubator.core.db import utcnow
from incubator.core.errors import DomainError, NotAllowed
from incubator.intake import calls, services
from incubator.intake.models import Application, Stage
from incubator.orgs.models import Membership
from tests.factories import UserFactory
from tests.intake.fixtures import GOOD_ANSWERS, PDF, QUESTIONS, application, make_call


@pytest.fixture(autouse=True)
def _ctx(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


def test_a_draft_is_saved_then_submitted_with_a_receipt(session, intake):
    draft = services.start_application(session, intake.org, intake.call, intake.founder, {"startup_name": "Agri"})
    assert draft.stage == Stage.DRAFT and draft.answers == {"startup_name": "Agri"}
    with pytest.raises(DomainError) as caught:
        services.submit_application(session, draft, intake.founder)
    assert caught.value.code == "incomplete" and set(caught.value.fields) == {"pitch", "country"}
    assert draft.stage == Stage.DRAFT
    services.save_answers(session, draft, intake.founder, GOOD_ANSWERS)
    services.submit_application(session, draft, intake.founder)
    assert draft.stage == Stage.SUBMITTED and draft.submitted_at is not None
    assert [(t.from_stage, t.to_stage, t.actor_id) for t in draft.transitions] == [
        ("draft", "submitted", intake.founder.id)]
    queued = mail.pending(session)  # sent when the request commits
    assert [m.to for m in queued] == [[intake.founder.email]]
    assert "BBI Incubation 2027" in queued[0].subject


def test_an_outsider_who_applies_does_not_become_a_member(session, intake):
    """Applicants are not members until accepted (a founder membership would let them book lab time)."""
    newcomer = UserFactory()
    services.start_application(session, intake.org, intake.call, newcomer)
    assert session.execute(select(Membership).where(Membership.user_id == newcomer.id)).first() is None


def test_nothing_changes_after_the_deadline(session, intake):
    draft = application(intake.call, intake.founder, Stage.DRAFT)
    intake.call.closes_at = utcnow() - timedelta(minutes=1)
    for attempt in (lambda: services.save_answers(session, draft, intake.founder, GOOD_ANSWERS),
                    lambda: services.submit_application(session, draft, intake.founder),
                    lambda: services.start_application(session, intake.org, intake.call, intake.other_founder)):
        with pytest.raises(DomainError) as caught:
            attempt()
        assert caught.value.code == "deadline_passed"


def test_a_submitted_application_is_editable_only_when_the_call_allows(session, intake):
    submitted = application(intake.call, intake.founder)
    services.save_answers(session, submitted, intake.founder, {**GOOD_ANSWERS, "pitch": "Better pitch"})
    assert submitted.answers["pitch"] == "Better pitch"
    services.save_answers(session, submitted, intake.founder, {"startup_name": "Only a name"})  # merges
    assert submitted.answers == {**GOOD_ANSWERS, "pitch": "Better pitch", "startup_name": "Only a name"}
    with pytest.raises(DomainError):  # a submitted application stays complete: a required answer stays
        services.save_answers(session, submitted, intake.founder, {"pitch": None})
    intake.call.allow_edits = False
    with pytest.raises(DomainError) as caught:
        services.save_answers(session, submitted, intake.founder, GOOD_ANSWERS)
    assert caught.value.code == "not_editable"
    with pytest.raises(NotAllowed):
        services.save_answers(session, submitted, intake.other_founder, GOOD_ANSWERS)


def test_the_cap_closes_the_call_to_new_applications(session, intake):
    intake.call.cap = 1
    application(intake.call, intake.other_founder)
    with pytest.raises(DomainError) as caught:
        services.start_application(session, intake.org, intake.call, intake.founder)
    assert caught.value.code == "call_full"


def test_withdrawal_is_recorded_and_final(session, intake):
    submitted = application(intake.call, intake.founder)
    with pytest.raises(NotAllowed):
        services.withdraw_application(session, submitted, intake.other_founder)
    services.withdraw_application(session, submitted, intake.founder, "We joined another programme")
    assert submitted.stage == Stage.WITHDRAWN
    assert submitted.transitions[-1].comment == "We joined another programme"
    with pytest.raises(DomainError):
        services.withdraw_application(session, submitted, intake.founder)


def test_editing_the_form_after_applications_exist_makes_a_new_version(session, intake):
    first = intake.call.current_version
    calls.add_question(session, intake.call, {"key": "extra", "type": "short_text", "label_en": "Extra",
                                                 "label_vi": "Thêm"})
    assert intake.call.current_version is first and len(first.questions) == len(QUESTIONS) + 1  # no answers yet
    answered = application(intake.call, intake.founder)
    calls.remove_question(session, intake.call, "extra")
    second = intake.call.current_version
    assert second.number == 2 and "extra" not in {q["key"] for q in second.questions}
    assert answered.form_version is first and "extra" in {q["key"] for q in answered.form_version.questions}
    later = services.start_application(session, intake.org, intake.call, intake.other_founder)
    assert later.form_version is second


def test_uploads_are_pdfs_by_content_stored_under_random_names(session, intake, app):
    draft = application(intake.call, intake.founder, Stage.DRAFT)
    with pytest.raises(DomainError) as caught:
        services.upload_file(session, draft, intake.founder, "deck", io.BytesIO(b"GIF89a fake"), "deck.pdf")
    assert caught.value.status == 415
    with pytest.raises(DomainError):  # the signature alone is not enough
        services.upload_file(session, draft, intake.founder, "deck", io.BytesIO(b"%PDF-1.4 garbage"), "deck.pdf")
    record = services.upload_file(session, draft, intake.founder, "deck", io.BytesIO(PDF), "../../Deck 2027.pdf")
    assert draft.answers["deck"] == record.id and record.filename == ".._.._Deck 2027.pdf"
    assert record.storage_key.endswith(".pdf") and "Deck" not in record.storage_key
    from incubator.core.storage import LocalStorage, storage

    stored = storage()
    with stored.open(record.storage_key) as stream:
        assert stream.read() == PDF
    assert isinstance(stored, LocalStorage) and "static" not in str(stored.root)  # the tests' default backend


def test_upload_size_limit_is_configurable(session, intake, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_MB", 0)
    draft = application(intake.call, intake.founder, Stage.DRAFT)
    with pytest.raises(DomainError) as caught:
        services.upload_file(session, draft, intake.founder, "deck", io.BytesIO(PDF), "deck.pdf")
    assert caught.value.status == 413


def test_a_call_needs_titles_in_both_languages_and_dates_in_order(session, intake):
    now = utcnow()
    with pytest.raises(DomainError) as caught:
        calls.save_call(session, intake.org, None, programme=intake.programme, title_en="Call", title_vi="",
                           opens_at=now, closes_at=now - timedelta(days=1), reviewers_per_application=2)
    assert set(caught.value.fields) == {"title_vi", "closes_at"}
    call = calls.save_call(session, intake.org, None, programme=intake.programme, title_en="Call",
                              title_vi="Đợt", opens_at=now, closes_at=now + timedelta(days=1),
                              reviewers_per_application=2, fee_minor=500000)
    assert call.current_version.number == 1 and call.fee_minor == 500000


def test_unrelated_calls_do_not_share_applications(session, intake):
    other_call = make_call(intake.org, intake.programme, title_en="Contest")
    application(intake.call, intake.founder)
    draft = services.start_application(session, intake.org, other_call, intake.founder)
    assert draft.call is other_call
    assert session.execute(select(Application).where(Application.applicant_id == intake.founder.id)).scalars().all()
