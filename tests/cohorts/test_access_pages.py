"""The cohorts pages after #13: paginated lists with their filters, stale edits refused, the programme
edit page, and races between two editors of one check-in."""

from __future__ import annotations

import re

from sqlalchemy import select

from incubator.cohorts.checkins import add_months
from incubator.cohorts.models import CheckIn, Programme, Startup
from incubator.core.permissions import Role
from tests.cohorts.fixtures import THIS_MONTH, kpis
from tests.conftest import csrf_token, login
from tests.factories import CohortFactory, StartupFactory, checkin, enrolled

LAST = add_months(THIS_MONTH, -1)


def test_the_startups_page_is_paginated_and_keeps_its_filters(client, world, session):
    for n in range(30):
        StartupFactory(org_id=world.org.id, name=f"Delta {n:02d}", stage="mvp")
    login(client, world.manager.email)
    first = client.get("/o/bbi/startups?q=delta&stage=mvp").get_data(as_text=True)
    assert "Delta 00" in first and "Delta 24" in first and "Delta 25" not in first
    assert "30 in all" in first
    links = re.findall(r'href="(/o/bbi/startups\?[^"]*page=2[^"]*)"', first)
    assert links and all("q=delta" in link and "stage=mvp" in link for link in links)
    second = client.get(links[0].replace("&amp;", "&")).get_data(as_text=True)
    assert "Delta 25" in second and "Delta 29" in second and "Delta 00" not in second
    assert "AgriSense" not in client.get("/o/bbi/startups?q=delta").get_data(as_text=True)
    later = CohortFactory(programme=world.cohort.programme, org_id=world.org.id, name="Later")
    enrolled(later, name="Epsilon")
    by_cohort = client.get(f"/o/bbi/startups?cohort={later.id}").get_data(as_text=True)
    assert "Epsilon" in by_cohort and "AgriSense" not in by_cohort
    withdrawn = client.get("/o/bbi/startups?status=withdrawn").get_data(as_text=True)
    assert "No startups yet." in withdrawn


def test_founders_see_only_their_own_startups_on_the_list(client, world):
    login(client, world.founder.email)
    page = client.get("/o/bbi/startups")
    assert page.status_code == 200
    assert "AgriSense" in page.get_data(as_text=True) and "FactoryEye" not in page.get_data(as_text=True)


def test_the_cohort_table_pages_past_fifty_startups_and_the_totals_count_them_all(client, world, session):
    for n in range(51):
        enrolled(world.cohort, name=f"Omega {n:02d}")
    login(client, world.manager.email)
    first = client.get(f"/o/bbi/cohorts/{world.cohort.id}?q=omega").get_data(as_text=True)
    assert first.count('data-startup="') == 50 and "51 in all" in first
    links = re.findall(rf'href="(/o/bbi/cohorts/{world.cohort.id}\?[^"]*page=2[^"]*)"', first)
    assert links and all("q=omega" in link for link in links)
    second = client.get(f"/o/bbi/cohorts/{world.cohort.id}?q=omega&page=2").get_data(as_text=True)
    assert second.count('data-startup="') == 1 and "Omega 50" in second


def test_the_cohorts_page_filters_by_status_and_programme(client, world, session):
    old = CohortFactory(programme=world.cohort.programme, org_id=world.org.id, name="Cohort of the past",
                        starts_on=add_months(THIS_MONTH, -30), ends_on=add_months(THIS_MONTH, -20))
    login(client, world.manager.email)
    ended = client.get("/o/bbi/cohorts?status=ended").get_data(as_text=True)
    assert old.name in ended and world.cohort.name not in ended
    running = client.get(f"/o/bbi/cohorts?status=running&programme={world.cohort.programme_id}")
    assert world.cohort.name in running.get_data(as_text=True) and old.name not in running.get_data(as_text=True)
    assert client.get("/o/bbi/cohorts?page=99999999999999999999999").status_code == 200


def test_a_programme_is_edited_on_its_page(client, world, session):
    login(client, world.manager.email)
    url = f"/o/bbi/programmes/{world.cohort.programme_id}/edit"
    response = client.post(url, data={"name": "Incubation 2027", "kind": "acceleration",
                                      "csrf_token": csrf_token(client, url)})
    assert response.status_code == 302
    programme = session.get(Programme, world.cohort.programme_id)
    session.refresh(programme)
    assert programme.name == "Incubation 2027" and programme.kind == "acceleration"
    login(client, world.founder.email)
    assert client.get(url).status_code == 403


def _checkin_form(client, url: str, **values) -> dict:
    html = client.get(url).get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', html)
    assert version, "the form carries the version it was opened with"
    return {**kpis(), **values, "version": version.group(1), "csrf_token": csrf_token(client, url)}


def test_two_edits_of_a_checkin_from_the_same_version_the_second_is_refused(client, world, session, app):
    record = checkin(world.startup, LAST, **kpis())
    url = f"/o/bbi/checkins/{record.id}"
    login(client, world.founder.email)
    founders_form = _checkin_form(client, url, customers=20)
    other = app.test_client()
    login(other, world.manager.email)
    managers_form = _checkin_form(other, url, customers=99)
    assert client.post(url, data=founders_form).status_code == 302
    refused = other.post(url, data=managers_form)
    assert refused.status_code == 412
    assert "Someone else changed this since you opened it" in refused.get_data(as_text=True)
    session.refresh(record)
    assert record.customers == 20


def test_two_edits_of_a_startup_profile_from_the_same_version_the_second_is_refused(client, world, session, app):
    url = f"/o/bbi/startups/{world.startup.id}/edit"
    login(client, world.founder.email)
    html = client.get(url).get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', html)
    assert version
    base = {"name": "AgriSense", "stage": "idea", "origin": "independent", "team_size": "3",
            "version": version.group(1)}
    other = app.test_client()
    login(other, world.manager.email)
    managers = {**base, "sector": "Fintech", "csrf_token": csrf_token(other, url)}
    assert client.post(url, data={**base, "sector": "Agritech", "csrf_token": csrf_token(client, url)}
                       ).status_code == 302
    refused = other.post(url, data=managers)
    assert refused.status_code == 422
    assert "Someone else changed this since you opened it" in refused.get_data(as_text=True)
    session.refresh(world.startup)
    assert world.startup.sector == "Agritech"


def test_concurrent_api_edits_of_one_checkin_with_the_same_etag_one_wins(app, committed, live):
    """Two founders' tools PATCH the same check-in at once with the ETag they both read: one edit is
    saved, the other answers 412, and the saved numbers are the winner's."""
    from tests.factories import CohortFactory, OrgFactory, ProgrammeFactory, member

    with committed.data():
        org = OrgFactory(slug="race-checkin", currency="VND")
        cohort = CohortFactory(programme=ProgrammeFactory(org_id=org.id), org_id=org.id,
                               starts_on=add_months(THIS_MONTH, -6), ends_on=add_months(THIS_MONTH, 6))
        founder = member(org, Role.FOUNDER)
        startup = enrolled(cohort, founder)
        record = checkin(startup, LAST, **kpis())
        record_id = record.id
    tokens = [committed.token(founder) for _ in range(2)]
    url = f"/api/v1/orgs/race-checkin/checkins/{record_id}"
    etag = live.api("GET", url, tokens[0]).headers["ETag"]

    def edit(i: int):
        answer = live.api("PATCH", url, tokens[i], json={"customers": 100 + i}, headers={"If-Match": etag})
        return answer.status_code

    outcomes = live.race(2, edit)
    assert sorted(outcomes) == [200, 412], outcomes
    with committed.read() as s:
        saved = s.execute(select(CheckIn).where(CheckIn.id == record_id)).scalar_one()
        assert saved.customers == 100 + outcomes.index(200) and saved.version == 2
        assert s.execute(select(Startup).where(Startup.id == saved.startup_id)).scalar_one().version == 1
