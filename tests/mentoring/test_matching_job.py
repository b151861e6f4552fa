"""A large cohort's matching is run by a job with progress, through the page and the API alike.

Jobs run immediately in tests (``HUEY_IMMEDIATE``): the job runs when the request that queued it
commits, so the next request sees it finished (or failed).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from incubator.accounts.services import create_api_token
from incubator.mentoring import matching
from incubator.mentoring.models import Match, MatchRun, MatchRunStatus, MatchStatus
from tests.conftest import csrf_token, login


@pytest.fixture()
def large(app, monkeypatch):
    """Every cohort counts as large: two startups x two mentors is above the threshold."""
    monkeypatch.setitem(app.config, "MATCHING_JOB_MIN_PAIRS", 4)


@pytest.fixture()
def api(session, world):
    value, _record = create_api_token(session, world.manager, "job")
    session.flush()
    return {"Authorization": f"Bearer {value}"}


def _runs(session) -> list[MatchRun]:
    return list(session.execute(select(MatchRun).order_by(MatchRun.id).execution_options(all_orgs=True)).scalars())


def _proposals(session) -> set[tuple[int, int]]:
    return {(m.startup_id, m.mentor_id) for m in session.execute(select(Match).where(
        Match.status == MatchStatus.PROPOSED).execution_options(all_orgs=True)).scalars()}


def test_a_small_cohort_is_still_matched_at_once(app, client, session, world, mentors, api):
    assert app.config["MATCHING_JOB_MIN_PAIRS"] > 4
    answer = client.post(f"/api/v1/orgs/bbi/cohorts/{world.cohort.id}/matching", json={"per_startup": 1},
                         headers=api)
    assert answer.status_code == 200 and answer.get_json()["matches"]
    assert [run.status for run in _runs(session)] == [MatchRunStatus.DONE]


def test_the_page_queues_a_large_matching_and_shows_the_finished_run(client, session, world, mentors, large):
    login(client, world.manager.email)
    url = f"/o/bbi/cohorts/{world.cohort.id}/matching"
    ran = client.post(url, data={"per_startup": "1", "csrf_token": csrf_token(client, url)})
    assert ran.status_code == 302
    (run,) = _runs(session)
    session.refresh(run)
    assert run.status == MatchRunStatus.DONE and run.progress == 100 and run.finished_at is not None
    assert _proposals(session) == {(world.startup.id, mentors.ha.id), (world.other.id, mentors.park.id)}
    status = client.get(f"{url}/runs/{run.id}/status")
    assert status.get_json() == {"status": "done", "progress": 100}
    html = client.get(url).get_data(as_text=True)
    assert "runs in the background and this page shows its progress" in html  # the flash of the POST
    assert 'data-testid="matching-job"' not in html  # finished: no progress bar any more
    assert html.count('data-testid="reasons"') == 2


def test_the_api_answers_202_with_the_run_to_poll(client, session, world, mentors, large, api):
    answer = client.post(f"/api/v1/orgs/bbi/cohorts/{world.cohort.id}/matching", json={"per_startup": 1},
                         headers=api)
    assert answer.status_code == 202
    body = answer.get_json()
    assert body["status"] == "queued" and body["progress"] == 0  # as it was when the request answered
    location = answer.headers["Location"]
    assert location.endswith(f"/api/v1/orgs/bbi/cohorts/{world.cohort.id}/matching/runs/{body['id']}")
    polled = client.get(location, headers=api)
    assert polled.status_code == 200
    run = polled.get_json()
    assert run["status"] == "done" and run["progress"] == 100 and run["finished_at"]
    assert run["total_score"] > 0 and run["unmatched"] == []
    matching_now = client.get(f"/api/v1/orgs/bbi/cohorts/{world.cohort.id}/matching", headers=api).get_json()
    assert matching_now["run"]["id"] == body["id"] and matching_now["run"]["status"] == "done"
    assert {(m["startup_id"], m["mentor_id"]) for m in matching_now["matches"]} == _proposals(session)


def test_a_failed_job_leaves_the_run_failed_and_the_earlier_proposals(client, session, world, mentors, large, api,
                                                                      app, monkeypatch):
    monkeypatch.setitem(app.config, "MATCHING_JOB_MIN_PAIRS", 10**9)  # the first run at once
    first = client.post(f"/api/v1/orgs/bbi/cohorts/{world.cohort.id}/matching", json={"per_startup": 1},
                        headers=api)
    assert first.status_code == 200
    before = _proposals(session)
    monkeypatch.setitem(app.config, "MATCHING_JOB_MIN_PAIRS", 4)

    def broken(*_args, **_kwargs):
        raise MemoryError("out of memory")

    monkeypatch.setattr(matching, "solve", broken)
    answer = client.post(f"/api/v1/orgs/bbi/cohorts/{world.cohort.id}/matching", json={"per_startup": 2},
                         headers=api)
    assert answer.status_code == 202
    polled = client.get(answer.headers["Location"], headers=api).get_json()
    assert polled["status"] == "failed" and polled["finished_at"]
    failed = session.get(MatchRun, polled["id"])
    session.refresh(failed)
    assert failed.error == "MemoryError"
    assert _proposals(session) == before  # the failed run replaced nothing
    login(client, world.manager.email)
    html = client.get(f"/o/bbi/cohorts/{world.cohort.id}/matching").get_data(as_text=True)
    assert "The last matching run failed." in html
    assert html.count('data-testid="reasons"') == 2  # the proposals of the run before are still shown
    assert "js/progress.js" not in html  # nothing to poll


def test_the_page_polls_a_run_still_going(client, session, world, mentors):
    run = MatchRun(org_id=world.org.id, cohort_id=world.cohort.id, weights={}, per_startup=2,
                   status=MatchRunStatus.RUNNING, progress=40)
    session.add(run)
    session.flush()
    login(client, world.manager.email)
    url = f"/o/bbi/cohorts/{world.cohort.id}/matching"
    html = client.get(url).get_data(as_text=True)
    assert f'data-progress-url="{url}/runs/{run.id}/status"' in html and 'data-progress="40"' in html
    assert 'data-progress-final="done failed"' in html and "js/progress.js" in html
    assert client.get(f"{url}/runs/{run.id}/status").get_json() == {"status": "running", "progress": 40}


def test_a_run_is_only_found_under_its_own_cohort(client, session, world, mentors, api):
    from tests.factories import CohortFactory

    other = CohortFactory(programme=world.cohort.programme)
    run = MatchRun(org_id=world.org.id, cohort_id=world.cohort.id, weights={}, per_startup=2)
    session.add(run)
    session.flush()
    assert client.get(f"/api/v1/orgs/bbi/cohorts/{other.id}/matching/runs/{run.id}", headers=api).status_code == 404
    login(client, world.manager.email)
    assert client.get(f"/o/bbi/cohorts/{other.id}/matching/runs/{run.id}/status").status_code == 404


@pytest.mark.parametrize("who", ["founder", "mentor"])
def test_only_managers_run_or_follow_a_matching(client, session, world, mentors, large, who):
    person = world.founder if who == "founder" else mentors.mentor_user
    value, _record = create_api_token(session, person, "job")
    session.flush()
    headers = {"Authorization": f"Bearer {value}"}
    answer = client.post(f"/api/v1/orgs/bbi/cohorts/{world.cohort.id}/matching", json={}, headers=headers)
    assert answer.status_code == 403
    assert _runs(session) == []


def test_a_run_whose_worker_died_is_failed_as_lost_and_the_page_stops_polling(client, session, world, mentors):
    from datetime import timedelta

    from incubator.core.db import utcnow
    from incubator.mentoring.tasks import LOST_AFTER, fail_lost_runs

    now = utcnow()
    runs = {age: MatchRun(org_id=world.org.id, cohort_id=world.cohort.id, weights={}, per_startup=2,
                          status=MatchRunStatus.RUNNING, progress=40, created_at=now - age)
            for age in (LOST_AFTER + timedelta(minutes=1), LOST_AFTER - timedelta(minutes=1))}
    session.add_all(runs.values())
    session.flush()
    assert fail_lost_runs(session, now=now) == 1
    old, recent = (session.get(MatchRun, run.id) for run in runs.values())
    session.refresh(old)
    session.refresh(recent)
    assert (old.status, old.error, recent.status) == (MatchRunStatus.FAILED, "lost", MatchRunStatus.RUNNING)
    login(client, world.manager.email)
    url = f"/o/bbi/cohorts/{world.cohort.id}/matching"
    assert client.get(f"{url}/runs/{old.id}/status").get_json()["status"] == "failed"
