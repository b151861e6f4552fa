"""The intake API: calls, drafts, submission, the caller's applications, reviews, decisions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from incubator.accounts.services import create_api_token
from incubator.cohorts.models import Startup
from incubator.core.db import utcnow
from incubator.intake.models import Application, Stage
from tests.intake.fixtures import GOOD_ANSWERS, application, make_call

BASE = "/api/v1/orgs/bbi"


@pytest.fixture()
def token(session):
    def _token(user) -> dict[str, str]:
        value, _record = create_api_token(session, user, "test")
        session.flush()
        return {"Authorization": f"Bearer {value}"}

    return _token


def test_calls_with_their_questions(client, intake, token, session):
    make_call(intake.org, intake.programme, title_en="Unlisted", is_public=False)
    make_call(intake.org, intake.programme, title_en="Next year", opens_at=utcnow() + timedelta(days=30),
              closes_at=utcnow() + timedelta(days=60))
    founder = token(intake.founder)
    listed = client.get(f"{BASE}/calls", headers=founder).get_json()
    assert [c["title_en"] for c in listed] == ["BBI Incubation 2027"]  # public and open only
    assert len(client.get(f"{BASE}/calls", headers=token(intake.manager)).get_json()) == 3
    call = client.get(f"{BASE}/calls/{intake.call.id}", headers=founder).get_json()
    assert call["id"] == intake.call.id and call["is_open"] is True and call["title"] == "BBI Incubation 2027"
    by_key = {q["key"]: q for q in call["questions"]}
    assert [q["key"] for q in call["questions"]][:2] == ["startup_name", "pitch"]
    assert by_key["country"] == {"key": "country", "type": "single_choice", "required": True, "label_en": "Country",
                                 "label_vi": "Quốc gia", "options": ["vn", "kr"]}
    assert by_key["pitch"]["max_length"] == 200 and "options" not in by_key["pitch"]
    assert {q["type"] for q in call["questions"]} == {"short_text", "long_text", "number", "single_choice",
                                                      "multiple_choice", "date", "url", "email", "file",
                                                      "team_members"}


def test_a_founder_drafts_then_submits_and_sees_only_their_own(client, intake, token, session):
    founder = token(intake.founder)
    created = client.post(f"{BASE}/calls/{intake.call.id}/applications", headers=founder,
                          json={"answers": {"startup_name": "AgriSense"}})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["stage"] == "draft" and body["answers"] == {"startup_name": "AgriSense"}
    submit = client.post(f"{BASE}/applications/{body['id']}/submit", headers=founder)
    assert submit.status_code == 422
    assert submit.get_json()["code"] == "incomplete" and set(submit.get_json()["fields"]) == {"pitch", "country"}
    bad = client.post(f"{BASE}/calls/{intake.call.id}/applications", headers=founder,
                      json={"answers": {**GOOD_ANSWERS, "country": "jp"}})
    assert bad.status_code == 422 and set(bad.get_json()["fields"]) == {"country"}
    client.post(f"{BASE}/calls/{intake.call.id}/applications", headers=founder, json={"answers": GOOD_ANSWERS})
    done = client.post(f"{BASE}/applications/{body['id']}/submit", headers=founder)
    assert done.status_code == 200 and done.get_json()["stage"] == "submitted"
    assert done.get_json()["status"] == "Received"
    other = application(intake.call, intake.other_founder)
    mine = client.get(f"{BASE}/applications", headers=founder).get_json()
    assert [a["id"] for a in mine] == [body["id"]]
    assert client.get(f"{BASE}/applications/{other.id}", headers=founder).status_code == 404
    assert client.post(f"{BASE}/applications/{other.id}/submit", headers=founder).status_code == 404


def test_after_the_deadline_a_draft_answers_deadline_passed(client, intake, token, session):
    intake.call.opens_at = utcnow() - timedelta(days=20)
    intake.call.closes_at = utcnow() - timedelta(seconds=1)
    session.flush()
    response = client.post(f"{BASE}/calls/{intake.call.id}/applications", headers=token(intake.founder),
                           json={"answers": GOOD_ANSWERS})
    assert response.status_code == 422 and response.get_json()["code"] == "deadline_passed"
    assert session.execute(select(Application)).scalars().all() == []


def test_managers_see_every_submitted_application_and_reviewers_their_assignments(client, intake, token, session):
    from incubator.intake.models import Review

    first = application(intake.call, intake.founder)
    second = application(intake.call, intake.other_founder)
    application(make_call(intake.org, intake.programme), intake.founder, Stage.DRAFT)  # someone's draft: private
    session.add(Review(org_id=intake.org.id, application=second, reviewer=intake.reviewers[0]))
    session.flush()
    assert {a["id"] for a in client.get(f"{BASE}/applications", headers=token(intake.manager)).get_json()} == {
        first.id, second.id}
    assert [a["id"] for a in client.get(f"{BASE}/applications", headers=token(intake.reviewers[0])).get_json()] \
        == [second.id]
    assert client.get(f"{BASE}/applications", headers=token(intake.reviewers[1])).get_json() == []
    assert client.get(f"{BASE}/applications/{first.id}", headers=token(intake.reviewers[0])).status_code == 404


def test_reviews_over_the_api_blind_and_hidden_until_own_is_submitted(client, intake, token, session):
    from incubator.intake import review

    intake.call.blind_review = True
    target = application(intake.call, intake.founder, answers={**GOOD_ANSWERS, "contact_email": "khoa@agri.vn"})
    a, b = intake.reviewers[:2]
    review.assign(session, target, a, notify=False)
    review.assign(session, target, b, notify=False)
    session.flush()
    first, second = token(a), token(b)
    seen = client.get(f"{BASE}/applications/{target.id}", headers=first).get_json()
    assert seen["applicant"] is None and seen["answers"]["contact_email"] == "hidden"
    manager_view = client.get(f"{BASE}/applications/{target.id}", headers=token(intake.manager)).get_json()
    assert manager_view["applicant"] == intake.founder.name
    bad = client.post(f"{BASE}/applications/{target.id}/reviews", headers=first,
                      json={"scores": {"team": 9}, "recommendation": "yes", "comment": ""})
    assert bad.status_code == 422 and set(bad.get_json()["fields"]) == {"team", "market"}
    created = client.post(f"{BASE}/applications/{target.id}/reviews", headers=first,
                          json={"scores": {"team": 5, "market": 10}, "recommendation": "yes", "comment": "Great"})
    assert created.status_code == 201 and created.get_json()["total"] == 100.0
    assert client.get(f"{BASE}/applications/{target.id}/reviews", headers=second).get_json() == []
    client.post(f"{BASE}/applications/{target.id}/reviews", headers=second,
                json={"scores": {"team": 1, "market": 2}, "recommendation": "no"})
    assert {r["comment"] for r in client.get(f"{BASE}/applications/{target.id}/reviews",
                                             headers=second).get_json()} == {"Great", ""}
    outsider = client.post(f"{BASE}/applications/{target.id}/reviews", headers=token(intake.reviewers[2]),
                           json={"scores": {"team": 1, "market": 2}, "recommendation": "no"})
    assert outsider.status_code == 404


def test_decisions_over_the_api(client, intake, token, session):
    target = application(intake.call, intake.founder, Stage.IN_REVIEW)
    url = f"{BASE}/applications/{target.id}/decision"
    reviewer = token(intake.reviewers[0])
    from incubator.intake import review

    review.assign(session, target, intake.reviewers[0], notify=False)
    session.flush()
    assert client.post(url, headers=reviewer, json={"decision": "accepted"}).status_code == 403
    manager = token(intake.manager)
    wrong = client.post(url, headers=manager, json={"decision": "accepted", "cohort_id": 999999})
    assert wrong.status_code == 422 and "cohort_id" in wrong.get_json()["fields"]
    done = client.post(url, headers=manager, json={"decision": "accepted", "cohort_id": intake.cohort.id})
    assert done.status_code == 200 and done.get_json()["stage"] == "accepted"
    startup = session.execute(select(Startup).where(Startup.name == "AgriSense")).scalar_one()
    assert startup.has_founder(intake.founder)
    again = client.post(url, headers=manager, json={"decision": "rejected"})
    assert again.status_code == 422 and again.get_json()["code"] == "bad_transition"


def test_a_pdf_is_attached_over_the_api_and_answers_its_question(client, intake, token, session):
    import io

    from tests.intake.fixtures import PDF

    draft = application(intake.call, intake.founder, Stage.DRAFT, answers={})
    founder = token(intake.founder)
    url = f"{BASE}/applications/{draft.id}/files?question=deck"
    fake = client.post(url, headers=founder, data={"file": (io.BytesIO(b"not a pdf"), "x.pdf")},
                       content_type="multipart/form-data")
    assert fake.status_code == 415 and fake.get_json()["code"] == "not_pdf"
    wrong = client.post(f"{BASE}/applications/{draft.id}/files?question=pitch", headers=founder,
                        data={"file": (io.BytesIO(PDF), "deck.pdf")}, content_type="multipart/form-data")
    assert wrong.status_code == 422
    done = client.post(url, headers=founder, data={"file": (io.BytesIO(PDF), "deck.pdf")},
                       content_type="multipart/form-data")
    assert done.status_code == 201
    session.expire_all()
    assert done.get_json()["answers"]["deck"] == draft.files[0].id and draft.files[0].filename == "deck.pdf"
    other = client.post(url, headers=token(intake.other_founder), data={"file": (io.BytesIO(PDF), "deck.pdf")},
                        content_type="multipart/form-data")
    assert other.status_code == 404


def test_saving_a_draft_merges_answers_and_null_clears_one(client, intake, token, session):
    founder = token(intake.founder)
    url = f"{BASE}/calls/{intake.call.id}/applications"
    first = client.post(url, headers=founder, json={"answers": {**GOOD_ANSWERS, "team_size": 4}}).get_json()
    again = client.post(url, headers=founder, json={"answers": {"pitch": "Sensors and a rice price app"}})
    assert again.status_code == 201
    assert again.get_json()["answers"] == {"startup_name": "AgriSense", "pitch": "Sensors and a rice price app",
                                           "team_size": 4, "country": "vn"}
    patched = client.patch(f"{BASE}/applications/{first['id']}", headers=founder,
                           json={"answers": {"team_size": None, "website": "https://agrisense.vn"}})
    assert patched.status_code == 200, patched.get_json()
    assert patched.get_json()["answers"] == {"startup_name": "AgriSense", "pitch": "Sensors and a rice price app",
                                             "country": "vn", "website": "https://agrisense.vn"}
    bad = client.patch(f"{BASE}/applications/{first['id']}", headers=founder, json={"answers": {"country": "jp"}})
    assert bad.status_code == 422 and set(bad.get_json()["fields"]) == {"country"}
    assert client.patch(f"{BASE}/applications/{first['id']}", headers=token(intake.other_founder),
                        json={"answers": {"pitch": "x"}}).status_code == 404
    submitted = client.post(f"{BASE}/applications/{first['id']}/submit", headers=founder)
    assert submitted.status_code == 200
    cleared = client.patch(f"{BASE}/applications/{first['id']}", headers=founder, json={"answers": {"pitch": None}})
    assert cleared.status_code == 422 and set(cleared.get_json()["fields"]) == {"pitch"}  # required once submitted
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/orgs/{org}/applications/{application_id}"]["patch"]
    assert "merge" in operation["description"] and "`null` clears" in operation["description"]


def test_edits_of_a_submitted_application_are_in_its_timeline(client, intake, token, session, sign_in):
    import io

    from tests.intake.fixtures import PDF

    mine = application(intake.call, intake.founder)
    founder = token(intake.founder)
    edited = client.patch(f"{BASE}/applications/{mine.id}", headers=founder,
                          json={"answers": {"pitch": "Sharper", "country": "kr"}})
    assert edited.status_code == 200 and edited.get_json()["answers"]["startup_name"] == "AgriSense"
    client.post(f"{BASE}/applications/{mine.id}/files?question=deck", headers=founder,
                data={"file": (io.BytesIO(PDF), "deck.pdf")}, content_type="multipart/form-data")
    unchanged = client.patch(f"{BASE}/applications/{mine.id}", headers=founder, json={"answers": {"pitch": "Sharper"}})
    assert unchanged.status_code == 200
    session.expire_all()
    edits = [t for t in mine.transitions if t.is_edit]
    assert [(t.actor_id, t.changed_questions) for t in edits] == [(intake.founder.id, ["pitch", "country", "deck"])]
    sign_in(intake.manager)
    timeline = client.get(f"/o/bbi/applications/{mine.id}").get_data(as_text=True)
    assert f"{intake.founder.name}:" in timeline and "edited the answers to Pitch, Country, Pitch deck" in timeline
    client.get("/auth/logout")
    intake.founder.locale = "vi"  # the applicant reads the questions in their language
    session.flush()
    sign_in(intake.founder)
    history = client.get(f"/o/bbi/applications/{mine.id}/edit").get_data(as_text=True)
    assert f"{intake.founder.name} đã sửa câu trả lời cho Giới thiệu, Quốc gia, Bản trình bày" in history


def test_an_applicant_who_is_not_a_member_applies_over_the_api(client, intake, token, session):
    """Applying makes no member, so the applicant's operations take any signed-in caller, as the pages do;
    the rest of the organisation's API still answers 404, and others' applications stay hidden."""
    from incubator.orgs.models import Membership
    from tests.factories import UserFactory

    stranger, other = UserFactory(), UserFactory()
    headers = token(stranger)
    assert [c["id"] for c in client.get(f"{BASE}/calls", headers=headers).get_json()] == [intake.call.id]
    created = client.post(f"{BASE}/calls/{intake.call.id}/applications", headers=headers,
                          json={"answers": {"startup_name": "Outsider"}})
    assert created.status_code == 201, created.get_json()
    app_id = created.get_json()["id"]
    assert client.patch(f"{BASE}/applications/{app_id}", headers=headers,
                        json={"answers": GOOD_ANSWERS}).status_code == 200
    assert client.post(f"{BASE}/applications/{app_id}/submit", headers=headers).status_code == 200
    assert [a["id"] for a in client.get(f"{BASE}/applications", headers=headers).get_json()] == [app_id]
    assert client.post(f"{BASE}/applications/{app_id}/withdraw", headers=headers, json={}).status_code == 200
    assert session.execute(select(Membership).where(Membership.user_id == stranger.id)).first() is None
    # Someone else's application, and the organisation's other operations, do not exist for them.
    assert client.get(f"{BASE}/applications/{app_id}", headers=token(other)).status_code == 404
    assert client.get(f"{BASE}/applications", headers=token(other)).get_json() == []
    assert client.get(f"{BASE}/cohorts", headers=headers).status_code == 404
    # The organisation's reviewers and managers still do not apply to its own calls.
    manager = client.post(f"{BASE}/calls/{intake.call.id}/applications", headers=token(intake.manager),
                          json={"answers": {"startup_name": "Inside job"}})
    assert manager.status_code == 403


def test_the_api_speaks_the_language_the_pages_would(client, intake, token):
    """A call's title follows the request's language as on the pages: the caller's Accept-Language, else
    English for someone outside the organisation."""
    from tests.factories import UserFactory

    headers = token(UserFactory(locale=None))  # no language chosen in their settings
    url = f"{BASE}/calls/{intake.call.id}"
    call = intake.call
    assert client.get(url, headers={**headers, "Accept-Language": "vi"}).get_json()["title"] == call.title_vi
    assert client.get(url, headers={**headers, "Accept-Language": "ko"}).get_json()["title"] == call.title_en
    chosen = token(UserFactory(locale="vi"))  # their own setting wins over the browser's
    assert client.get(url, headers={**chosen, "Accept-Language": "en"}).get_json()["title"] == call.title_vi
