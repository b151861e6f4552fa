"""Decisions, letters, the deadline reminder and the funnel for reporting."""

from __future__ import annotations

from datetime import timedelta

import pytest
from markupsafe import escape
from sqlalchemy import select

from incubator.cohorts.models import Enrolment, Startup
from incubator.core import mail
from incubator.core.db import utcnow
from incubator.core.errors import DomainError
from incubator.core.permissions import Role
from incubator.intake import decisions, review, tasks
from incubator.intake.models import Stage
from incubator.intake.reporting import application_funnel
from incubator.orgs.models import Invitation, Membership
from tests.factories import CohortFactory, OrgFactory, ProgrammeFactory, UserFactory, member
from tests.intake.fixtures import application, make_call


@pytest.fixture(autouse=True)
def _ctx(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


def _manager(session, intake):
    return session.execute(select(Membership).where(Membership.user_id == intake.manager.id)).scalar_one()


def test_accepting_creates_the_startup_enrols_it_and_brings_in_the_team(session, intake):
    known = UserFactory(email="park@example.kr")
    app_ = application(intake.call, intake.founder, Stage.IN_REVIEW, answers={
        "startup_name": "AgriSense", "pitch": "Sensors for rice farms", "country": "vn",
        "website": "https://agrisense.vn",
        "team": [{"name": "Park", "email": "park@example.kr", "role": "CTO"},
                 {"name": "Mai", "email": "mai@example.vn", "role": "CFO"}]})
    decisions.decide(session, app_, intake.manager, _manager(session, intake), "accepted", intake.cohort, "Top 3")
    startup = session.execute(select(Startup).where(Startup.name == "AgriSense")).scalar_one()
    assert app_.stage == Stage.ACCEPTED and app_.startup is startup and app_.decided_cohort_id == intake.cohort.id
    assert startup.website == "https://agrisense.vn" and startup.team_size == 3
    assert session.execute(select(Enrolment).where(Enrolment.startup_id == startup.id,
                                                   Enrolment.cohort_id == intake.cohort.id)).scalar_one()
    assert {f.user_id for f in startup.founders} == {intake.founder.id, known.id}
    invitation = session.execute(select(Invitation).where(Invitation.email == "mai@example.vn")).scalar_one()
    assert invitation.role == Role.FOUNDER and invitation.org_id == intake.org.id
    assert app_.transitions[-1].to_stage == "accepted" and app_.transitions[-1].comment == "Top 3"


def test_accepting_needs_a_cohort_and_a_decidable_stage(session, intake):
    intake.call.cohort_id = None
    session.flush()
    session.expire(intake.call)
    app_ = application(intake.call, intake.founder, Stage.IN_REVIEW)
    with pytest.raises(DomainError) as caught:
        decisions.decide(session, app_, intake.manager, _manager(session, intake), "accepted")
    assert caught.value.code == "cohort_required"
    draft = application(intake.call, intake.other_founder, Stage.DRAFT)
    with pytest.raises(DomainError) as caught:
        decisions.decide(session, draft, intake.manager, _manager(session, intake), "rejected")
    assert caught.value.code == "bad_transition"


def test_letters_use_the_outcome_and_language_templates_and_are_sent_once(session, intake):
    intake.founder.locale, intake.other_founder.locale = "vi", "en"
    accepted = application(intake.call, intake.founder, Stage.IN_REVIEW)
    rejected = application(intake.call, intake.other_founder, Stage.IN_REVIEW)
    decisions.save_letter_template(session, intake.org, "rejected", "en", "About {call_title}",
                                   "Dear {applicant_name}, sorry. {org_name}")
    with pytest.raises(DomainError):
        decisions.save_letter_template(session, intake.org, "rejected", "en", "x", "Hi {password}")
    decisions.decide(session, accepted, intake.manager, _manager(session, intake), "accepted", intake.cohort)
    decisions.decide(session, rejected, intake.manager, _manager(session, intake), "rejected")
    letter = decisions.render_letter(session, rejected)
    assert letter.subject == "About BBI Incubation 2027" and letter.text == f"Dear Lê Hoa, sorry. {intake.org.name}"
    assert letter.html == f"<p>Dear Lê Hoa, sorry. {escape(intake.org.name)}</p>\n"
    letter = decisions.render_letter(session, accepted)
    assert "Ươm tạo BBI 2027" in letter.subject and "BBI Cohort 2027" in letter.text  # Vietnamese default template
    assert "<p>Chào " in letter.html and "BBI Cohort 2027" in letter.html
    assert decisions.send_letters(session, intake.call) == 2
    assert decisions.send_letters(session, intake.call) == 0
    letters = [m for m in mail.pending(session) if "BBI" in m.subject]
    assert {m.to[0] for m in letters} == {intake.founder.email, intake.other_founder.email}
    by_to = {m.to[0]: m for m in letters}
    # Each letter has its plain-text part (the Markdown filled in) and its HTML part, in the applicant's language.
    assert by_to[intake.other_founder.email].body == f"Dear Lê Hoa, sorry. {intake.org.name}"
    assert by_to[intake.other_founder.email].html.startswith('<!DOCTYPE html>\n<html lang="en">')
    assert f"<p>Dear Lê Hoa, sorry. {escape(intake.org.name)}</p>" in by_to[intake.other_founder.email].html
    assert '<html lang="vi">' in by_to[intake.founder.email].html and "<p>Chào " in by_to[intake.founder.email].html


def test_the_deadline_reminder_goes_once_to_drafts_of_calls_closing_within_a_day(session, intake):
    closing = make_call(intake.org, intake.programme, title_en="Closing soon", closes_at=utcnow() + timedelta(hours=20))
    draft = application(closing, intake.founder, Stage.DRAFT)
    application(closing, intake.other_founder, Stage.SUBMITTED)  # submitted: no reminder
    application(intake.call, member(intake.org, Role.FOUNDER), Stage.DRAFT)  # closes in 10 days: not yet
    assert tasks.send_deadline_reminders(session) == 1
    assert draft.reminded_at is not None
    assert tasks.send_deadline_reminders(session) == 0
    reminders = mail.pending(session)
    assert [m.to for m in reminders] == [[intake.founder.email]] and "Closing soon" in reminders[0].subject


def test_application_funnel_counts_what_reporting_needs(session, intake):
    other_org = OrgFactory()
    other_call = make_call(other_org, ProgrammeFactory(org_id=other_org.id))
    rows = [
        (intake.call, Stage.SUBMITTED, "vn", True), (intake.call, Stage.ACCEPTED, "kr", True),
        (intake.call, Stage.ACCEPTED, "vn", False), (intake.call, Stage.REJECTED, "kr", True),
        (intake.call, Stage.DRAFT, "vn", False), (intake.call, Stage.WITHDRAWN, None, False),
        (other_call, Stage.ACCEPTED, "vn", True),
    ]
    apps = []
    for call, stage, country, reviewed in rows:
        answers = {"startup_name": "S", "pitch": "p"} | ({"country": country} if country else {})
        app_ = application(call, member(OrgFactory() if call is other_call else intake.org, Role.FOUNDER), stage,
                           answers)
        apps.append(app_)
        if reviewed:
            from incubator.intake.models import Review, ReviewStatus

            session.add(Review(org_id=call.org_id, application=app_, reviewer=intake.reviewers[0],
                               status=ReviewStatus.SUBMITTED, scores={}))
    session.flush()
    # Expected, counted by hand from the rows of bbi: 5 not drafts (submitted, 2 accepted, rejected, withdrawn),
    # 3 of them reviewed, 2 accepted; origins vn 2, kr 2, unknown 1; accepted kr 1, vn 1.
    funnel = application_funnel(session, org_ids=[intake.org.id])
    assert funnel == {"applications": 5, "reviewed": 3, "accepted": 2, "acceptance_rate": 2 / 5,
                      "by_origin": {"vn": 2, "kr": 2, "unknown": 1}, "accepted_by_origin": {"kr": 1, "vn": 1}}
    assert application_funnel(session, org_ids=[intake.org.id], cohort_ids=[CohortFactory().id])["applications"] == 0
    assert application_funnel(session, org_ids=[intake.org.id], programme_ids=[intake.programme.id])["accepted"] == 2
    later = application_funnel(session, org_ids=[intake.org.id], start=utcnow() + timedelta(days=1))
    assert later == {"applications": 0, "reviewed": 0, "accepted": 0, "acceptance_rate": 0, "by_origin": {},
                     "accepted_by_origin": {}}
    assert review  # the review module is what writes these rows in the app


MEDITRACK = {"startup_name": "MediTrack", "sector": "manufacturing", "stage": "revenue", "country": "vn",
             "origin": "enterprise", "problem": "Tracks medicines", "team_size": 6, "contact_email": "a@b.vn"}


def test_accepting_maps_the_answers_onto_the_startup(session, intake):
    from copy import deepcopy

    from incubator.intake.demo import FORM

    form = deepcopy(FORM) + [{"key": "university", "type": "single_choice", "required": False,
                              "label_en": "University", "label_vi": "Trường", "help_en": "", "help_vi": "",
                              "options": [{"value": "eiu", "label_en": "Eastern International University",
                                           "label_vi": "Đại học Quốc tế Miền Đông"}]}]
    call = make_call(intake.org, intake.programme, intake.cohort, questions=form)
    app_ = application(call, intake.founder, Stage.IN_REVIEW, answers={**MEDITRACK, "university": "eiu"})
    decisions.decide(session, app_, intake.manager, _manager(session, intake), "accepted", intake.cohort)
    startup = app_.startup
    assert (startup.stage, startup.origin, startup.team_size) == ("revenue", "enterprise", 6)
    assert startup.sector == "Sản xuất thông minh"  # the option's label in the organisation's language, not its key
    assert startup.description == "Tracks medicines" and startup.partner_institution == "Đại học Quốc tế Miền Đông"
    assert decisions.mapping_problems(app_, "en") == []


def test_an_answer_that_maps_onto_no_startup_stage_is_named_not_guessed(session, intake):
    from copy import deepcopy

    from incubator.intake.demo import FORM

    form = deepcopy(FORM)
    stage_question = next(q for q in form if q["key"] == "stage")
    stage_question["options"].append({"value": "seed_round", "label_en": "Raising a seed round",
                                      "label_vi": "Đang gọi vốn hạt giống"})
    call = make_call(intake.org, intake.programme, intake.cohort, questions=form)
    app_ = application(call, intake.founder, Stage.IN_REVIEW, answers={**MEDITRACK, "stage": "seed_round",
                                                                       "origin": "university_spinoff"})
    decisions.decide(session, app_, intake.manager, _manager(session, intake), "accepted", intake.cohort)
    assert (app_.startup.stage, app_.startup.origin) == ("idea", "university_spinoff")
    assert decisions.mapping_problems(app_, "en") == [
        "The answer Raising a seed round (Stage) is not one of the startup stages; the startup's stage is left at "
        "Idea: correct it on the startup's page."]
