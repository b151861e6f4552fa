"""The matching page after any run: every number of mentors per startup, no mentors at all, the demo."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from incubator.cohorts.models import Cohort
from incubator.demo import seed
from incubator.orgs.models import Organisation
from tests.conftest import csrf_token, login

DEMO_PASSWORD = "demo password long enough"


def _run_and_show(client, slug: str, cohort_id: int, per_startup: int) -> str:
    url = f"/o/{slug}/cohorts/{cohort_id}/matching"
    ran = client.post(url, data={"per_startup": str(per_startup), "csrf_token": csrf_token(client, url)})
    assert ran.status_code == 302
    page = client.get(url)
    assert page.status_code == 200, page.get_data(as_text=True)[-2000:]
    html = page.get_data(as_text=True)
    assert "Matching done" in html
    return html


@pytest.mark.parametrize("per_startup", [1, 2, 3])
def test_the_page_shows_any_run(client, session, world, mentors, per_startup):
    login(client, world.manager.email)
    html = _run_and_show(client, "bbi", world.cohort.id, per_startup)
    assert html.count('data-testid="reasons"') >= 2
    assert f'value="{per_startup}"' in html  # the form shows the last run's setting


def test_a_startup_that_missed_its_best_mentor_is_explained_by_name(client, session, world, mentors):
    # Hà (one place) is the best mentor of both startups once FactoryEye also asks for fundraising.
    from incubator.mentoring.models import MentoringNeeds

    needs = session.execute(select(MentoringNeeds).where(MentoringNeeds.startup_id == world.other.id)).scalar_one()
    needs.needs, needs.industry, needs.languages = ["fundraising", "finance"], "agritech", ["vi"]
    session.flush()
    login(client, world.manager.email)
    html = _run_and_show(client, "bbi", world.cohort.id, 1)
    assert 'data-testid="why-not-best"' in html
    section = html.split('data-testid="why-not-best"')[1].split("</ul>")[0]
    assert "Hà scored" in section and ("AgriSense" in section or "FactoryEye" in section)


def test_the_page_shows_a_run_without_any_mentor(client, session, world):
    login(client, world.manager.email)
    html = _run_and_show(client, "bbi", world.cohort.id, 2)
    unmatched = html.split('data-testid="unmatched"')[1].split("</p>")[0]
    assert "AgriSense" in unmatched and "FactoryEye" in unmatched


@pytest.fixture()
def demo(app, session):
    with app.test_request_context():
        seed(session, DEMO_PASSWORD)
        session.flush()
    return session.execute(select(Cohort.id, Cohort.name, Organisation.slug).join(
        Organisation, Organisation.id == Cohort.org_id).order_by(Cohort.id)).all()


def test_the_demo_cohorts_after_runs_with_1_2_and_3_mentors(client, demo):
    for slug in ("bbi", "tdmu"):
        login(client, f"manager@{slug}.example.com", DEMO_PASSWORD)
        for cohort_id, name, cohort_slug in demo:
            if cohort_slug != slug:
                continue
            for per_startup in (2, 1, 3):
                html = _run_and_show(client, slug, cohort_id, per_startup)
                assert name in html
            for url in (f"/o/{slug}/cohorts/{cohort_id}", f"/o/{slug}/mentoring", f"/o/{slug}/mentors"):
                assert client.get(url).status_code == 200, url
        client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/account")})


def test_the_default_run_on_the_demo_cohort_names_who_missed_their_best_mentor(client, demo):
    cohort_id = next(cid for cid, name, _slug in demo if name == "BBI Cohort 2026")
    login(client, "manager@bbi.example.com", DEMO_PASSWORD)
    html = _run_and_show(client, "bbi", cohort_id, 2)
    section = html.split('data-testid="why-not-best"')[1].split("</ul>")[0]
    assert " scored " in section and "free places (" in section
    # The startups are named, not shown as ids.
    assert any(name in section for name in ("AgriSense BD", "SmartLog Industrial", "EduViet AI", "MedLink Clinic",
                                            "CeramiX 3D", "FactoryEye", "WaterWise", "LacquerCraft Online",
                                            "SolarRoof BD"))


@pytest.mark.parametrize("typed", ["abc", "nan", "inf", "-1", "101", ""])
def test_a_weight_that_is_not_a_number_from_0_to_100_is_a_form_error(client, session, world, mentors, typed):
    """Typed into the page (or sent to the API): a clear error, never a 500, and no run is saved."""
    from incubator.mentoring.models import MatchRun

    login(client, world.manager.email)
    url = f"/o/bbi/cohorts/{world.cohort.id}/matching"
    runs = len(session.execute(select(MatchRun)).scalars().all())
    answer = client.post(url, data={"per_startup": "2", "w_needs": typed, "csrf_token": csrf_token(client, url)},
                         follow_redirects=True)
    assert answer.status_code < 500
    if typed:  # an empty field takes the default weight
        assert "Weights go from 0 to 100." in answer.get_data(as_text=True)
        assert len(session.execute(select(MatchRun)).scalars().all()) == runs
