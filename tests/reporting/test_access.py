"""Who sees which report: the page, every download and the API answer 404 outside what one may see."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from incubator.accounts.services import create_api_token
from incubator.orgs.models import Membership
from incubator.reporting.scope import reportable_cohorts

FORMATS = ("csv", "xlsx", "pdf")


@pytest.fixture()
def bearer(session):
    def _bearer(user) -> dict[str, str]:
        value, _record = create_api_token(session, user, "test")
        session.flush()
        return {"Authorization": f"Bearer {value}"}

    return _bearer


def test_reportable_cohorts_by_role(session, rw):
    def names(user, org):
        membership = session.execute(select(Membership).where(Membership.user_id == user.id,
                                                              Membership.org_id == org.id)).scalar_one()
        return sorted(c.name for c in reportable_cohorts(session, org, membership))

    assert names(rw.manager_a, rw.a) == ["A1", "A2"]
    assert names(rw.funder_a, rw.a) == ["A1"]  # funds A1 only
    assert names(rw.founder_a, rw.a) == []  # founders have no reports
    assert names(rw.funder_dost, rw.dost) == ["A1", "B1"]  # the agency funds one cohort of each incubator
    assert names(rw.manager_b, rw.b) == ["B1"]


def test_funder_sees_only_the_cohort_it_funds(client, rw, sign_in, bearer):
    sign_in(rw.funder_a)
    page = client.get("/o/inc-a/reports?period=year&year=2025")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "A1" in text and ">A2<" not in text
    assert client.get(f"/o/inc-a/reports?cohort={rw.a1.id}&period=year&year=2025").status_code == 200
    assert client.get(f"/o/inc-a/reports?cohort={rw.a2.id}").status_code == 404
    assert client.get(f"/o/inc-a/reports?programme={rw.a2.programme_id}").status_code == 404
    for fmt in FORMATS:
        assert client.get(f"/o/inc-a/reports/download.{fmt}?cohort={rw.a2.id}").status_code == 404
        assert client.get(f"/o/inc-a/reports/download.{fmt}?cohort={rw.a1.id}&period=year&year=2025"
                          ).status_code == 200
    headers = bearer(rw.funder_a)
    for suffix in ("", ".csv", ".xlsx", ".pdf"):
        assert client.get(f"/api/v1/orgs/inc-a/cohorts/{rw.a2.id}/report{suffix}", headers=headers
                          ).status_code == 404
        assert client.get(f"/api/v1/orgs/inc-a/cohorts/{rw.a1.id}/report{suffix}?year=2025", headers=headers
                          ).status_code == 200


def test_another_organisations_manager_gets_404(client, rw, sign_in, bearer):
    sign_in(rw.manager_b)
    assert client.get("/o/inc-a/reports").status_code == 404
    for fmt in FORMATS:
        assert client.get(f"/o/inc-a/reports/download.{fmt}?cohort={rw.a1.id}").status_code == 404
    # In their own organisation, another's cohort id is not reportable either.
    assert client.get(f"/o/inc-b/reports?cohort={rw.a1.id}").status_code == 404
    headers = bearer(rw.manager_b)
    for suffix in ("", ".csv", ".xlsx", ".pdf"):
        assert client.get(f"/api/v1/orgs/inc-a/cohorts/{rw.a1.id}/report{suffix}", headers=headers
                          ).status_code == 404
        assert client.get(f"/api/v1/orgs/inc-b/cohorts/{rw.a1.id}/report{suffix}", headers=headers
                          ).status_code == 404


def test_founders_have_no_reports(client, rw, sign_in, bearer):
    sign_in(rw.founder_a)
    assert client.get("/o/inc-a/reports").status_code == 403
    assert client.get(f"/api/v1/orgs/inc-a/cohorts/{rw.a1.id}/report", headers=bearer(rw.founder_a)
                      ).status_code == 404


def test_the_agency_reads_the_cohorts_it_funds_across_incubators(client, rw, sign_in, bearer):
    sign_in(rw.funder_dost)
    page = client.get("/o/dost/reports?period=year&year=2025")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'data-testid="comparison"' in text and "Incubator A" in text and "Incubator B" in text
    assert 'data-headline="startups">4<' in text
    assert client.get(f"/o/dost/reports?cohort={rw.a2.id}").status_code == 404  # A2 is not funded by dost
    headers = bearer(rw.funder_dost)
    body = client.get(f"/api/v1/orgs/dost/cohorts/{rw.b1.id}/report?year=2025", headers=headers).get_json()
    assert [c["name"] for c in body["cohorts"]] == ["B1"]
    assert client.get(f"/api/v1/orgs/dost/cohorts/{rw.a2.id}/report", headers=headers).status_code == 404
    # The agency's members are not members of the incubators: their pages stay closed.
    assert client.get("/o/inc-a/reports").status_code == 404


def test_funder_dashboard_lists_the_cohorts_to_report_on(client, rw, sign_in):
    sign_in(rw.funder_dost)
    page = client.get("/o/dost/").get_data(as_text=True)
    panel = page[page.index('data-testid="panel-reports"'):]
    assert f"/o/dost/reports?cohort={rw.a1.id}" in panel and f"/o/dost/reports?cohort={rw.b1.id}" in panel
    assert f"cohort={rw.a2.id}" not in panel
