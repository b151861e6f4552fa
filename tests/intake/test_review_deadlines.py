"""Review deadlines and the call's review progress: the manager sets a deadline when assigning (page and
API), the reviewer sees it and an overdue one is marked, and the progress per reviewer counts the
assignments as an independent count over the rows does."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from incubator.intake import review
from incubator.intake.models import Application, Review, ReviewStatus, Stage
from tests.conftest import csrf_token
from tests.intake.fixtures import application

API = "/api/v1/orgs/bbi"
PAGE = "/o/bbi"


def _today(intake) -> date:
    return review.org_today(intake.org)


def test_the_manager_sets_a_deadline_on_the_page_and_the_reviewer_reads_it(client, session, intake, sign_in):
    target = application(intake.call, intake.founder, Stage.IN_REVIEW)
    due = _today(intake) + timedelta(days=5)
    sign_in(intake.manager)
    token = csrf_token(client, f"{PAGE}/applications/{target.id}")
    answer = client.post(f"{PAGE}/applications/{target.id}/assign",
                         data={"csrf_token": token, "reviewer_id": intake.reviewers[0].id, "due_on": due.isoformat()})
    assert answer.status_code == 302
    assigned = session.execute(select(Review).where(Review.application_id == target.id)).scalar_one()
    assert assigned.due_on == due
    page = client.get(f"{PAGE}/applications/{target.id}").get_data(as_text=True)
    assert "review by" in page and 'data-testid="overdue"' not in page

    client.post("/auth/logout", data={"csrf_token": token})
    sign_in(intake.reviewers[0])
    mine = client.get(f"{PAGE}/reviews").get_data(as_text=True)
    assert 'data-testid="overdue"' not in mine and str(due.day) in mine
    assert 'data-testid="review-due"' in client.get(f"{PAGE}/applications/{target.id}").get_data(as_text=True)


def test_an_overdue_review_is_marked_for_the_reviewer_and_in_the_api(client, session, intake, sign_in, api_headers):
    target = application(intake.call, intake.founder, Stage.IN_REVIEW)
    late = Review(org_id=intake.org.id, application=target, reviewer=intake.reviewers[0],
                  due_on=_today(intake) - timedelta(days=1))
    session.add(late)
    session.flush()
    sign_in(intake.reviewers[0])
    assert 'data-testid="overdue"' in client.get(f"{PAGE}/reviews").get_data(as_text=True)
    listed = client.get(f"{API}/reviews?mine=true", headers=api_headers(intake.reviewers[0])).get_json()
    assert [(r["id"], r["overdue"]) for r in listed] == [(late.id, True)]


@pytest.mark.parametrize("due_on", ["yesterday", "not-a-date", "2026-02-30"])
def test_a_bad_deadline_is_refused_on_both_doors_and_assigns_nobody(client, session, intake, sign_in, api_headers,
                                                                    due_on):
    target = application(intake.call, intake.founder, Stage.IN_REVIEW)
    if due_on == "yesterday":
        due_on = (_today(intake) - timedelta(days=1)).isoformat()
    answer = client.post(f"{API}/applications/{target.id}/assignments",
                         json={"reviewer_id": intake.reviewers[0].id, "due_on": due_on},
                         headers=api_headers(intake.manager))
    assert answer.status_code == 422 and "due_on" in answer.get_json()["fields"], answer.get_data(as_text=True)
    sign_in(intake.manager)
    token = csrf_token(client, f"{PAGE}/applications/{target.id}")
    page = client.post(f"{PAGE}/applications/{target.id}/assign", follow_redirects=True,
                       data={"csrf_token": token, "reviewer_id": intake.reviewers[0].id, "due_on": due_on})
    assert page.status_code == 200 and "alert-danger" in page.get_data(as_text=True)
    assert session.execute(select(Review).where(Review.application_id == target.id)).first() is None


def test_assigning_again_moves_the_deadline(client, session, intake, api_headers):
    target = application(intake.call, intake.founder, Stage.IN_REVIEW)
    headers = api_headers(intake.manager)
    body = {"reviewer_id": intake.reviewers[0].id, "due_on": (_today(intake) + timedelta(days=3)).isoformat()}
    first = client.post(f"{API}/applications/{target.id}/assignments", json=body, headers=headers).get_json()
    later = (_today(intake) + timedelta(days=9)).isoformat()
    again = client.post(f"{API}/applications/{target.id}/assignments", json={**body, "due_on": later},
                        headers=headers).get_json()
    assert again["id"] == first["id"] and again["due_on"] == later


def test_the_progress_page_and_api_count_per_reviewer(client, session, intake, sign_in, api_headers):
    apps = [application(intake.call, u, Stage.IN_REVIEW) for u in (intake.founder, intake.other_founder)]
    a, b, c = intake.reviewers
    today = _today(intake)
    session.add_all([
        Review(org_id=intake.org.id, application=apps[0], reviewer=a, due_on=today - timedelta(days=2)),
        Review(org_id=intake.org.id, application=apps[1], reviewer=a, status=ReviewStatus.SUBMITTED),
        Review(org_id=intake.org.id, application=apps[0], reviewer=b, due_on=today + timedelta(days=2)),
        Review(org_id=intake.org.id, application=apps[1], reviewer=c, status=ReviewStatus.CONFLICT)])
    session.flush()
    rows = client.get(f"{API}/calls/{intake.call.id}/review-progress", headers=api_headers(intake.manager)).get_json()
    assert [(r["reviewer"], r["assigned"], r["done"], r["overdue"], r["declined"]) for r in rows] == [
        ("Reviewer A", 2, 1, 1, 0), ("Reviewer B", 1, 0, 0, 0), ("Reviewer C", 0, 0, 0, 1)]
    sign_in(intake.manager)
    page = client.get(f"{PAGE}/calls/{intake.call.id}/review-progress").get_data(as_text=True)
    assert f'data-reviewer="{a.id}"' in page and "Review progress" in page
    assert f'href="/o/bbi/calls/{intake.call.id}/review-progress"' in \
        client.get(f"{PAGE}/calls/{intake.call.id}/applications").get_data(as_text=True)  # linked from the call


def test_the_progress_page_is_the_managers(client, session, intake, sign_in):
    for someone in (intake.reviewers[0], intake.founder):
        sign_in(someone)
        assert client.get(f"{PAGE}/calls/{intake.call.id}/review-progress").status_code == 403
        client.post("/auth/logout", data={"csrf_token": csrf_token(client, f"{PAGE}/")})


STATES = st.sampled_from(["assigned", "submitted", "conflict"])
DUE = st.one_of(st.none(), st.integers(min_value=-5, max_value=5))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cells=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 3), STATES, DUE), max_size=12))
def test_review_progress_counts_as_the_rows_do(session, intake, cells):
    """Random assignments (reviewer, application, state, deadline in days from today): the GROUP BY's
    counts equal a count made here from the same rows, one by one."""
    session.execute(delete(Review))
    session.execute(delete(Application))
    session.flush()
    today = _today(intake)
    applicants = [intake.founder, intake.other_founder, intake.manager, intake.reviewers[0]]
    apps: dict[int, Application] = {}
    made: dict[tuple[int, int], tuple[int, str, int | None]] = {}
    for reviewer_index, app_index, state, days in cells:
        made[(reviewer_index, app_index)] = (reviewer_index, state, days)  # one assignment per pair
    for (reviewer_index, app_index), (_r, state, days) in made.items():
        if app_index not in apps:
            apps[app_index] = application(intake.call, applicants[app_index], Stage.IN_REVIEW)
        session.add(Review(org_id=intake.org.id, application=apps[app_index], reviewer=intake.reviewers[reviewer_index],
                           status=ReviewStatus(state), due_on=None if days is None else today + timedelta(days=days)))
    session.flush()

    expected: dict[int, list[int]] = {}
    for (reviewer_index, _a), (_r, state, days) in made.items():
        row = expected.setdefault(intake.reviewers[reviewer_index].id, [0, 0, 0, 0])
        row[0] += state != "conflict"
        row[1] += state == "submitted"
        row[2] += state == "assigned" and days is not None and days < 0
        row[3] += state == "conflict"
    got = {r.reviewer_id: [r.assigned, r.done, r.overdue, r.declined]
           for r in review.review_progress(session, intake.call, today)}
    assert got == expected


# -- deadlines on the pipeline's bulk assignments -----------------------------------------------------

def _bulk_page(client, intake, **data):
    token = csrf_token(client, f"{PAGE}/calls/{intake.call.id}/applications")
    return client.post(f"{PAGE}/calls/{intake.call.id}/bulk", follow_redirects=True,
                       data={"csrf_token": token, **data})


def _reviews_of(session, apps) -> list[Review]:
    session.expire_all()
    return list(session.execute(select(Review).where(Review.application_id.in_([a.id for a in apps]))
                                .order_by(Review.id)).scalars())


def test_bulk_assignments_on_the_page_carry_the_deadline_to_the_reviewers_and_the_progress(
        client, session, intake, sign_in, monkeypatch):
    from babel.dates import format_date

    apps = [application(intake.call, u, Stage.IN_REVIEW) for u in (intake.founder, intake.other_founder)]
    due, later = _today(intake) + timedelta(days=4), _today(intake) + timedelta(days=9)
    sign_in(intake.manager)
    listing = client.get(f"{PAGE}/calls/{intake.call.id}/applications").get_data(as_text=True)
    assert 'type="date"' in listing and f'min="{_today(intake).isoformat()}"' in listing  # a day, from today
    auto = _bulk_page(client, intake, action="auto_assign", application_id=[str(a.id) for a in apps],
                      due_on=due.isoformat())
    assert auto.status_code == 200 and "4 review assignments made." in auto.get_data(as_text=True)
    made = _reviews_of(session, apps)
    assert len(made) == 4 and {r.due_on for r in made} == {due}

    # Assigning one reviewer to both by hand, in bulk: a new assignment gets the deadline, one already
    # there has it moved.
    spare = next(u for u in intake.reviewers if sum(r.reviewer_id == u.id for r in made) == 1)
    _bulk_page(client, intake, action="assign", reviewer_id=str(spare.id), application_id=[str(a.id) for a in apps],
               due_on=later.isoformat())
    mine = [r for r in _reviews_of(session, apps) if r.reviewer_id == spare.id]
    assert len(mine) == 2 and {r.due_on for r in mine} == {later}

    # The reviewer's list shows the day; once it has passed, the list and the progress page say overdue.
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, f"{PAGE}/")})
    sign_in(spare)
    listed = client.get(f"{PAGE}/reviews").get_data(as_text=True)
    assert listed.count(format_date(later, "medium", locale="en")) == 2 and 'data-testid="overdue"' not in listed
    monkeypatch.setattr(review, "org_today", lambda org: later + timedelta(days=1))
    assert client.get(f"{PAGE}/reviews").get_data(as_text=True).count('data-testid="overdue"') == 2
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, f"{PAGE}/")})
    sign_in(intake.manager)
    progress = client.get(f"{PAGE}/calls/{intake.call.id}/review-progress").get_data(as_text=True)
    overdue = {r.reviewer_id: 0 for r in _reviews_of(session, apps)}
    for r in _reviews_of(session, apps):
        overdue[r.reviewer_id] += 1
    for reviewer_id, n in overdue.items():
        row = progress.split(f'data-reviewer="{reviewer_id}"', 1)[1].split("</tr>", 1)[0]
        assert f'<span class="badge text-bg-danger">{n}</span>' in row, row


@pytest.mark.parametrize("due_on", ["yesterday", "not-a-date", "2026-02-30"])
@pytest.mark.parametrize("action", ["assign", "auto_assign"])
def test_a_bad_bulk_deadline_is_refused_on_both_doors_and_assigns_nobody(client, session, intake, sign_in,
                                                                         api_headers, due_on, action):
    apps = [application(intake.call, u, Stage.IN_REVIEW) for u in (intake.founder, intake.other_founder)]
    if due_on == "yesterday":
        due_on = (_today(intake) - timedelta(days=1)).isoformat()
    body = {"action": action, "application_ids": [a.id for a in apps], "reviewer_id": intake.reviewers[0].id,
            "due_on": due_on}
    answer = client.post(f"{API}/calls/{intake.call.id}/bulk", json=body, headers=api_headers(intake.manager))
    assert answer.status_code == 422 and set(answer.get_json()["fields"]) == {"due_on"}, answer.get_json()
    sign_in(intake.manager)
    page = _bulk_page(client, intake, action=action, application_id=[str(a.id) for a in apps],
                      reviewer_id=str(intake.reviewers[0].id), due_on=due_on)
    assert page.status_code == 200 and "alert-danger" in page.get_data(as_text=True)
    assert "review assignments made" not in page.get_data(as_text=True)
    assert _reviews_of(session, apps) == []


def test_bulk_assignments_over_the_api_take_a_deadline_and_the_reviewer_inbox_shows_it(client, session, intake,
                                                                                       api_headers):
    apps = [application(intake.call, u, Stage.IN_REVIEW) for u in (intake.founder, intake.other_founder)]
    url = f"{API}/calls/{intake.call.id}/bulk"
    today = _today(intake)  # the organisation's today is not in the past
    auto = client.post(url, json={"action": "auto_assign", "application_ids": [a.id for a in apps],
                                  "due_on": today.isoformat()}, headers=api_headers(intake.manager))
    assert auto.status_code == 200 and auto.get_json()["done"] == 4, auto.get_json()
    assert {r.due_on for r in _reviews_of(session, apps)} == {today}
    plain = application(intake.call, intake.manager, Stage.IN_REVIEW)  # without a deadline: none
    assert client.post(url, json={"action": "auto_assign", "application_ids": [plain.id]},
                       headers=api_headers(intake.manager)).get_json()["done"] == 2
    assert {r.due_on for r in _reviews_of(session, [plain])} == {None}
    for reviewer in intake.reviewers:
        items = client.get("/api/v1/me/todo", query_string={"kind": "review_assigned", "page_size": 100},
                           headers=api_headers(reviewer)).get_json()
        theirs = {r.application_id: r.due_on for r in _reviews_of(session, [*apps, plain])
                  if r.reviewer_id == reviewer.id}
        assert sorted((int(i["url"].rsplit("/", 1)[1]), i["due_on"]) for i in items) == sorted(
            (app_id, due.isoformat() if due else None) for app_id, due in theirs.items())
