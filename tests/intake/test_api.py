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
