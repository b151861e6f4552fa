"""Intake lists are paginated in both doors (with their filters), and two managers editing a call, its
form or its rubric from the same version cannot overwrite each other: the second gets 412 (API) or a
form error (page), and the first edit is kept."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from incubator.core.db import utcnow
from incubator.core.permissions import Role
from incubator.intake.models import Call, Stage
from tests.conftest import csrf_token
from tests.factories import member
from tests.intake.fixtures import application, make_call

API = "/api/v1/orgs/bbi"


def _total(response) -> int:
    return json.loads(response.headers["X-Pagination"])["total"]


def test_the_applications_list_pages_and_filters(client, intake, api_headers, session):
    teams = []
    for n in range(30):
        founder = member(intake.org, Role.FOUNDER, name=f"Founder {n:02d}")
        teams.append(application(intake.call, founder, Stage.SCREENING if n % 3 == 0 else Stage.SUBMITTED,
                                 answers={"startup_name": f"Team {n:02d}", "pitch": "p", "country": "vn"}))
    teams[0].submitted_at = utcnow() - timedelta(days=40)
    other_call = make_call(intake.org, intake.programme, title_en="Contest")
    application(other_call, intake.founder)
    session.flush()
    manager = api_headers(intake.manager)
    first = client.get(f"{API}/applications", headers=manager)
    assert first.status_code == 200 and _total(first) == 31 and len(first.get_json()) == 25
    second = client.get(f"{API}/applications?page=2", headers=manager)
    assert len(second.get_json()) == 6 and not {a["id"] for a in first.get_json()} & {a["id"] for a in
                                                                                       second.get_json()}
    assert client.get(f"{API}/applications?page_size=101", headers=manager).status_code == 422
    assert len(client.get(f"{API}/applications?page_size=100", headers=manager).get_json()) == 31
    by_call = client.get(f"{API}/applications?call_id={other_call.id}", headers=manager)
    assert _total(by_call) == 1
    by_stage = client.get(f"{API}/applications?stage=screening&call_id={intake.call.id}", headers=manager)
    assert _total(by_stage) == 10 and {a["stage"] for a in by_stage.get_json()} == {"screening"}
    by_name = client.get(f"{API}/applications?q=team 1", headers=manager)
    assert sorted(a["answers"]["startup_name"] for a in by_name.get_json()) == [f"Team 1{n}" for n in range(10)]
    by_applicant = client.get(f"{API}/applications?q=founder 07", headers=manager)
    assert [a["id"] for a in by_applicant.get_json()] == [teams[7].id]
    assert _total(client.get(f"{API}/applications?q=100%25", headers=manager)) == 0  # % is taken literally
    today = utcnow().date()
    recent = client.get(f"{API}/applications?call_id={intake.call.id}&from={today - timedelta(days=1)}",
                        headers=manager)
    assert _total(recent) == 29
    old = client.get(f"{API}/applications?to={today - timedelta(days=30)}", headers=manager)
    assert [a["id"] for a in old.get_json()] == [teams[0].id]
    assert client.get(f"{API}/applications?from=someday", headers=manager).status_code == 422


def test_a_reviewer_cannot_find_a_blind_application_by_its_name(client, intake, api_headers, session):
    intake.call.blind_review = True
    target = application(intake.call, intake.founder)
    from incubator.intake import review

    review.assign(session, target, intake.reviewers[0], notify=False)
    session.flush()
    reviewer = api_headers(intake.reviewers[0])
    assert [a["id"] for a in client.get(f"{API}/applications", headers=reviewer).get_json()] == [target.id]
    assert client.get(f"{API}/applications?q=AgriSense", headers=reviewer).get_json() == []
    assert client.get(f"{API}/applications?q=Khoa", headers=reviewer).get_json() == []


def test_the_calls_list_pages_and_filters_by_status_and_title(client, intake, api_headers, session):
    now = utcnow()
    make_call(intake.org, intake.programme, title_en="Next year", opens_at=now + timedelta(days=30),
              closes_at=now + timedelta(days=60))
    make_call(intake.org, intake.programme, title_en="Last year", opens_at=now - timedelta(days=400),
              closes_at=now - timedelta(days=300))
    manager = api_headers(intake.manager)
    everything = client.get(f"{API}/calls", headers=manager)
    assert _total(everything) == 3
    assert [c["title_en"] for c in client.get(f"{API}/calls?status=upcoming", headers=manager).get_json()] == [
        "Next year"]
    assert [c["title_en"] for c in client.get(f"{API}/calls?status=closed", headers=manager).get_json()] == [
        "Last year"]
    assert [c["title_en"] for c in client.get(f"{API}/calls?q=incubation", headers=manager).get_json()] == [
        "BBI Incubation 2027"]
    founder = client.get(f"{API}/calls?status=closed", headers=api_headers(intake.founder))
    assert founder.get_json() == []  # an applicant lists the open public calls whatever the filter
    assert client.get(f"{API}/calls?status=soon", headers=manager).status_code == 422
    assert _total(client.get(f"{API}/calls?page_size=1&page=2", headers=manager)) == 3


def test_the_pages_lists_show_page_links_that_keep_their_filters(client, intake, session, sign_in):
    for n in range(52):
        application(intake.call, member(intake.org, Role.FOUNDER), answers={
            "startup_name": f"Team {n:02d}", "pitch": "p", "country": "vn"})
    for n in range(26):
        make_call(intake.org, intake.programme, title_en=f"Round {n:02d}")
    sign_in(intake.manager)
    pipeline = client.get(f"/o/bbi/calls/{intake.call.id}/applications?sort=name&stage=submitted")
    text = pipeline.get_data(as_text=True)
    assert text.count('name="application_id" value=') == 50 and "Team 00" in text and "Team 50" not in text
    link = re.search(r'href="([^"]*page=2[^"]*)"', text).group(1).replace("&amp;", "&")
    assert "sort=name" in link and "stage=submitted" in link
    rest = client.get(link).get_data(as_text=True)
    assert rest.count('name="application_id" value=') == 2 and "Team 50" in rest and "Team 51" in rest  # by name
    calls = client.get("/o/bbi/calls/manage?q=round").get_data(as_text=True)
    assert calls.count("Round ") == 25 and "26 in all" in calls
    assert re.search(r'href="[^"]*page=2[^"]*q=round|href="[^"]*q=round[^"]*page=2', calls)
    assert "BBI Incubation 2027" not in calls


def test_my_applications_and_my_reviews_are_paginated(client, intake, session, sign_in):
    from incubator.intake import review

    for n in range(26):
        call = make_call(intake.org, intake.programme, title_en=f"Round {n:02d}")
        target = application(call, intake.founder)
        review.assign(session, target, intake.reviewers[0], notify=False)
    session.flush()
    sign_in(intake.founder)
    mine = client.get("/o/bbi/applications/mine").get_data(as_text=True)
    assert mine.count("Round ") == 25 and "26 in all" in mine and "page=2" in mine
    client.get("/auth/logout")
    sign_in(intake.reviewers[0])
    reviews = client.get("/o/bbi/reviews").get_data(as_text=True)
    assert "26 in all" in reviews and "page=2" in reviews
    assert client.get("/o/bbi/reviews?page=2").get_data(as_text=True).count('href="/o/bbi/applications/') == 1


def _version(page: str) -> str:
    return re.search(r'name="version" type="hidden" value="([^"]*)"', page).group(1)


def test_two_managers_editing_a_call_on_the_pages(client, intake, session, sign_in):
    sign_in(intake.manager)
    url = f"/o/bbi/calls/{intake.call.id}/edit"
    page = client.get(url).get_data(as_text=True)
    version, token = _version(page), csrf_token(client, url)
    form = {"csrf_token": token, "version": version, "programme_id": intake.programme.id, "cohort_id": 0,
            "title_en": "First edit", "title_vi": "Sửa lần đầu", "opens_at": "2026-01-01T08:00",
            "closes_at": "2030-01-01T17:00", "is_public": "y", "reviewers_per_application": 2}
    assert client.post(url, data=form).status_code == 302
    second = client.post(url, data={**form, "title_en": "Second edit"})
    assert second.status_code == 422 and "Someone else changed this since you opened it" in second.get_data(
        as_text=True)
    session.expire_all()
    assert session.get(Call, intake.call.id).title_en == "First edit"


def test_two_managers_editing_the_form_and_the_rubric_on_the_pages(client, intake, session, sign_in):
    sign_in(intake.manager)
    form_url = f"/o/bbi/calls/{intake.call.id}/form"
    version, token = _version(client.get(form_url).get_data(as_text=True)), csrf_token(client, form_url)
    question = {"csrf_token": token, "version": version, "type": "short_text", "label_vi": "Thêm"}
    assert client.post(form_url, data={**question, "label_en": "First"}).status_code == 302  # key "first"
    late = client.post(form_url, data={**question, "label_en": "Second"})
    assert late.status_code == 422 and "Someone else changed this" in late.get_data(as_text=True)
    removal = client.post(f"{form_url}/change", data={"csrf_token": token, "version": version, "key": "pitch",
                                                      "action": "remove"})
    assert removal.status_code == 302
    session.expire_all()
    keys = [q["key"] for q in intake.call.current_form.questions]
    assert "first" in keys and "second" not in keys and "pitch" in keys  # the stale removal changed nothing

    rubric_url = f"/o/bbi/calls/{intake.call.id}/rubric"
    version = _version(client.get(rubric_url).get_data(as_text=True))
    criterion = {"csrf_token": token, "version": version, "label_en": "Impact", "label_vi": "Tác động",
                 "scale_min": 0, "scale_max": 5, "weight": 1}
    assert client.post(rubric_url, data={**criterion, "key": "impact"}).status_code == 302
    late = client.post(rubric_url, data={**criterion, "key": "reach"})
    assert late.status_code == 422 and "Someone else changed this" in late.get_data(as_text=True)
    client.post(f"{rubric_url}/remove", data={"csrf_token": token, "version": version, "key": "team"})
    session.expire_all()
    assert [c.key for c in intake.call.criteria] == ["team", "market", "impact"]
