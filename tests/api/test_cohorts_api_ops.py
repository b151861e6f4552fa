"""The cohorts API beyond reading: every action of the pages, with its rule and error codes (#13)."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import select

from incubator.accounts.services import create_api_token
from incubator.cohorts.checkins import add_months
from incubator.cohorts.models import (
    CheckIn,
    CheckInRevision,
    Cohort,
    Enrolment,
    KpiDefinition,
    Milestone,
    MilestoneTemplate,
    Programme,
    Startup,
)
from incubator.core.permissions import Role
from incubator.orgs.models import Invitation
from tests.cohorts.fixtures import THIS_MONTH, kpis
from tests.factories import OrgFactory, StartupFactory, UserFactory, checkin, enrolled, member, milestone

API = "/api/v1/orgs/bbi"
LAST_MONTH = add_months(THIS_MONTH, -1)


@pytest.fixture()
def token(session):
    def _token(user) -> dict[str, str]:
        value, _record = create_api_token(session, user, "test")
        session.flush()
        return {"Authorization": f"Bearer {value}"}

    return _token


@pytest.fixture()
def staff(world):
    return member(world.org, Role.STAFF)


# -- programmes ------------------------------------------------------------------------------------

def test_programmes_create_list_patch(client, world, session, token):
    headers = token(world.manager)
    created = client.post(f"{API}/programmes", json={"name": "Agritech 2027", "kind": "acceleration"},
                          headers=headers)
    assert created.status_code == 201
    body = created.get_json()
    assert body["name"] == "Agritech 2027" and body["kind"] == "acceleration"
    assert created.headers["Location"].endswith(f"/api/v1/orgs/bbi/programmes/{body['id']}")
    patched = client.patch(f"{API}/programmes/{body['id']}", json={"description": "Farm to fork"}, headers=headers)
    assert patched.status_code == 200
    assert patched.get_json()["name"] == "Agritech 2027" and patched.get_json()["description"] == "Farm to fork"
    listed = client.get(f"{API}/programmes", headers=token(world.founder))
    assert "Agritech 2027" in [p["name"] for p in listed.get_json()]
    assert json.loads(listed.headers["X-Pagination"])["total"] == 2


def test_programmes_refuse_founders_bad_input_and_other_orgs(client, world, session, token):
    assert client.post(f"{API}/programmes", json={"name": "x"}, headers=token(world.founder)).status_code == 403
    bad = client.post(f"{API}/programmes", json={"name": " ", "kind": "party"}, headers=token(world.manager))
    assert bad.status_code == 422 and set(bad.get_json()["fields"]) == {"kind"}
    blank = client.post(f"{API}/programmes", json={"name": "   "}, headers=token(world.manager))
    assert blank.status_code == 422 and "name" in blank.get_json()["fields"]
    elsewhere = Programme(org_id=OrgFactory(slug="tdmu").id, name="TDMU")
    session.add(elsewhere)
    session.flush()
    assert client.patch(f"{API}/programmes/{elsewhere.id}", json={"name": "mine"},
                        headers=token(world.manager)).status_code == 404
    assert session.execute(select(Programme).where(Programme.name == "x")).first() is None


# -- cohorts ---------------------------------------------------------------------------------------

def test_create_and_patch_a_cohort(client, world, session, token):
    headers = token(world.manager)
    body = {"programme_id": world.cohort.programme_id, "name": "Cohort 2027", "starts_on": "2027-01-01",
            "ends_on": "2027-12-31", "capacity": 10, "lab_credit_hours": {"machine": 20},
            "funder_user_ids": [world.funder.id]}
    created = client.post(f"{API}/cohorts", json=body, headers=headers)
    assert created.status_code == 201, created.get_json()
    cohort = created.get_json()
    assert cohort["lab_credit_hours"] == {"machine": 20} and cohort["funder_user_ids"] == [world.funder.id]
    assert created.headers["Location"].endswith(f"/cohorts/{cohort['id']}")
    patched = client.patch(f"{API}/cohorts/{cohort['id']}", json={"capacity": None, "name": "Cohort 2027 A"},
                           headers=headers).get_json()
    assert patched["capacity"] is None and patched["name"] == "Cohort 2027 A"
    assert patched["lab_credit_hours"] == {"machine": 20} and patched["funder_user_ids"] == [world.funder.id]
    assert patched["starts_on"] == "2027-01-01"


def test_cohort_bad_input_is_422_and_nothing_is_written(client, world, session, token):
    headers = token(world.manager)
    backwards = client.post(f"{API}/cohorts", json={"programme_id": world.cohort.programme_id, "name": "B",
                                                    "starts_on": "2027-12-01", "ends_on": "2027-01-01"},
                            headers=headers)
    assert backwards.status_code == 422 and "ends_on" in backwards.get_json()["fields"]
    foreign = Programme(org_id=OrgFactory(slug="tdmu").id, name="TDMU")
    session.add(foreign)
    session.flush()
    theirs = client.post(f"{API}/cohorts", json={"programme_id": foreign.id, "name": "B", "starts_on": "2027-01-01",
                                                 "ends_on": "2027-02-01"}, headers=headers)
    assert theirs.status_code == 422 and "programme_id" in theirs.get_json()["fields"]
    typed = client.patch(f"{API}/cohorts/{world.cohort.id}", json={"capacity": "ten", "starts_on": "soon"},
                         headers=headers)
    assert typed.status_code == 422 and {"capacity", "starts_on"} <= set(typed.get_json()["fields"])
    not_funder = client.patch(f"{API}/cohorts/{world.cohort.id}", json={"funder_user_ids": [world.founder.id]},
                              headers=headers)
    assert not_funder.status_code == 422 and "funder_users" in not_funder.get_json()["fields"]
    assert session.execute(select(Cohort).where(Cohort.name == "B")).first() is None
    assert client.patch(f"{API}/cohorts/{world.cohort.id}", json={"name": "Mine"},
                        headers=token(world.founder)).status_code == 403


def test_cohorts_filtered_by_programme_and_status_and_paginated(client, world, session, token):
    from tests.factories import CohortFactory

    other = Programme(org_id=world.org.id, name="Contest")
    session.add(other)
    session.flush()
    for n in range(3):
        CohortFactory(programme=other, org_id=world.org.id, name=f"Old {n}", starts_on=add_months(THIS_MONTH, -30),
                      ends_on=add_months(THIS_MONTH, -20))
    headers = token(world.manager)
    ended = client.get(f"{API}/cohorts?status=ended&page_size=2", headers=headers)
    assert json.loads(ended.headers["X-Pagination"])["total"] == 3 and len(ended.get_json()) == 2
    second = client.get(f"{API}/cohorts?status=ended&page_size=2&page=2", headers=headers).get_json()
    assert len(second) == 1
    running = client.get(f"{API}/cohorts?status=running", headers=headers).get_json()
    assert [c["id"] for c in running] == [world.cohort.id]
    by_programme = client.get(f"{API}/cohorts?programme={other.id}", headers=headers).get_json()
    assert {c["name"] for c in by_programme} == {"Old 0", "Old 1", "Old 2"}
    assert client.get(f"{API}/cohorts?status=someday", headers=headers).status_code == 422
    capped = client.get(f"{API}/cohorts?page_size=101", headers=headers)
    assert capped.status_code == 422 and "page_size" in capped.get_json()["fields"]
    assert client.get(f"{API}/cohorts?page_size=100", headers=headers).status_code == 200


def test_lock_a_period_and_graduate(client, world, session, token):
    first, second = checkin(world.startup, LAST_MONTH, **kpis()), checkin(world.other, LAST_MONTH, **kpis())
    headers = token(world.manager)
    url = f"{API}/cohorts/{world.cohort.id}"
    assert client.post(f"{url}/lock", json={"period": "2026-13"}, headers=headers).status_code == 422
    locked = client.post(f"{url}/lock", json={"period": LAST_MONTH.strftime("%Y-%m")}, headers=headers)
    assert locked.status_code == 200 and locked.get_json() == {"count": 2}
    session.refresh(first)
    session.refresh(second)
    assert first.is_locked and second.is_locked
    assert client.post(f"{url}/graduate", headers=token(world.founder)).status_code == 403
    graduated = client.post(f"{url}/graduate", headers=headers)
    assert graduated.get_json() == {"count": 2}
    assert {e.status for e in session.execute(select(Enrolment)).scalars()} == {"graduated"}


def test_cohort_startups_filter_and_page(client, world, session, token):
    for n in range(3):
        enrolled(world.cohort, name=f"Zeta {n}", stage="mvp")
    headers = token(world.manager)
    url = f"{API}/cohorts/{world.cohort.id}/startups"
    page = client.get(f"{url}?page_size=2&page=2", headers=headers)
    assert json.loads(page.headers["X-Pagination"])["total"] == 5 and len(page.get_json()) == 2
    zetas = client.get(f"{url}?q=zeta&stage=mvp", headers=headers).get_json()
    assert [s["name"] for s in zetas] == ["Zeta 0", "Zeta 1", "Zeta 2"]
    assert all(s["enrolment_id"] for s in zetas)
    assert client.get(f"{url}?status=withdrawn", headers=headers).get_json() == []


# -- enrolments ------------------------------------------------------------------------------------

def test_enrol_then_409_and_change_status(client, world, session, token):
    headers = token(world.manager)
    newcomer = StartupFactory(org_id=world.org.id, name="NewCo")
    url = f"{API}/cohorts/{world.cohort.id}/enrolments"
    created = client.post(url, json={"startup_id": newcomer.id}, headers=headers)
    assert created.status_code == 201
    enrolment = created.get_json()
    assert enrolment["status"] == "active" and created.headers["Location"].endswith(f"/enrolments/{enrolment['id']}")
    again = client.post(url, json={"startup_id": newcomer.id}, headers=headers)
    assert again.status_code == 409 and again.get_json()["code"] == "already_enrolled"
    unknown = client.post(url, json={"startup_id": 999999}, headers=headers)
    assert unknown.status_code == 422 and "startup_id" in unknown.get_json()["fields"]
    patch_url = f"{API}/enrolments/{enrolment['id']}"
    no_reason = client.patch(patch_url, json={"status": "withdrawn"}, headers=headers)
    assert no_reason.status_code == 422 and "reason" in no_reason.get_json()["fields"]
    withdrawn = client.patch(patch_url, json={"status": "withdrawn", "reason": "Moved to Hanoi"}, headers=headers)
    assert withdrawn.status_code == 200 and withdrawn.get_json()["status_reason"] == "Moved to Hanoi"
    bad_turn = client.patch(patch_url, json={"status": "alumni"}, headers=headers)
    assert bad_turn.status_code == 422 and bad_turn.get_json()["code"] == "bad_transition"
    assert client.patch(patch_url, json={"status": "active"}, headers=token(world.founder)).status_code == 403


def test_a_full_cohort_refuses_the_next_startup(client, world, session, token):
    world.cohort.capacity = 2
    session.flush()
    response = client.post(f"{API}/cohorts/{world.cohort.id}/enrolments",
                           json={"startup_id": StartupFactory(org_id=world.org.id).id}, headers=token(world.manager))
    assert response.status_code == 422 and response.get_json()["code"] == "cohort_full"
    assert session.execute(select(Enrolment).where(Enrolment.cohort_id == world.cohort.id)).scalars().all().__len__() \
        == 2


# -- milestone templates and KPIs ------------------------------------------------------------------

def test_milestone_templates(client, world, session, token):
    headers = token(world.manager)
    url = f"{API}/cohorts/{world.cohort.id}/milestone-templates"
    created = client.post(url, json={"title": "Pitch deck", "due_on": "2027-01-15"}, headers=headers)
    assert created.status_code == 201 and created.get_json()["added"] == 2
    assert [t["title"] for t in client.get(url, headers=headers).get_json()] == ["Pitch deck"]
    assert len(session.execute(select(Milestone).where(Milestone.title == "Pitch deck")).all()) == 2
    assert client.post(url, json={"title": "  ", "due_on": "2027-01-15"}, headers=headers).status_code == 422
    assert client.post(url, json={"title": "Mine", "due_on": "2027-01-15"},
                       headers=token(world.founder)).status_code == 403
    assert client.get(url, headers=token(world.other_founder)).status_code == 200  # their cohort too
    assert session.execute(select(MilestoneTemplate)).scalars().all().__len__() == 1


def test_kpis_create_list_toggle(client, world, session, token):
    headers = token(world.manager)
    created = client.post(f"{API}/kpis", json={"key": "export_markets", "name": "Export markets"}, headers=headers)
    assert created.status_code == 201 and created.get_json()["active"] is True
    taken = client.post(f"{API}/kpis", json={"key": "export_markets", "name": "Again"}, headers=headers)
    assert taken.status_code == 409
    bad = client.post(f"{API}/kpis", json={"key": "Bad Key", "name": "x", "type": "colour"}, headers=headers)
    assert bad.status_code == 422 and {"key", "type"} <= set(bad.get_json()["fields"])
    kpi_id = created.get_json()["id"]
    off = client.patch(f"{API}/kpis/{kpi_id}", json={"active": False}, headers=headers)
    assert off.status_code == 200 and off.get_json()["active"] is False
    assert session.get(KpiDefinition, kpi_id).active is False
    assert [k["key"] for k in client.get(f"{API}/kpis", headers=headers).get_json()] == ["export_markets"]
    assert client.patch(f"{API}/kpis/{kpi_id}", json={"active": True}, headers=token(world.founder)).status_code == 403
    assert client.patch(f"{API}/kpis/{kpi_id}", json={"active": "maybe"}, headers=headers).status_code == 422


# -- startups --------------------------------------------------------------------------------------

def test_create_get_and_patch_a_startup_with_etags(client, world, session, token):
    headers = token(world.manager)
    created = client.post(f"{API}/startups", json={"name": "SolarVN", "stage": "mvp", "registration_number": "031"},
                          headers=headers)
    assert created.status_code == 201 and created.headers["Location"].endswith(f"/startups/{created.get_json()['id']}")
    clash = client.post(f"{API}/startups", json={"name": "Other", "registration_number": "031"}, headers=headers)
    assert clash.status_code == 422 and "registration_number" in clash.get_json()["fields"]
    url = f"{API}/startups/{world.startup.id}"
    read = client.get(url, headers=token(world.founder))
    etag = read.headers["ETag"]
    founder_edit = client.patch(url, json={"sector": "Agritech"}, headers={**token(world.founder), "If-Match": etag})
    assert founder_edit.status_code == 200 and founder_edit.headers["ETag"] != etag
    assert founder_edit.get_json()["name"] == "AgriSense" and founder_edit.get_json()["sector"] == "Agritech"
    stale = client.patch(url, json={"sector": "Fintech"}, headers={**headers, "If-Match": etag})
    assert stale.status_code == 412 and stale.get_json()["code"] == "stale"
    session.refresh(world.startup)
    assert world.startup.sector == "Agritech"
    bad = client.patch(url, json={"website": "javascript:alert(1)"}, headers=headers)
    assert bad.status_code == 422 and "website" in bad.get_json()["fields"]
    negative = client.patch(url, json={"team_size": -1}, headers=headers)
    assert negative.status_code == 422 and "team_size" in negative.get_json()["fields"]
    assert client.patch(url, json={"name": "Mine"}, headers=token(world.other_founder)).status_code == 404
    assert client.post(f"{API}/startups", json={"name": "Mine"}, headers=token(world.founder)).status_code == 403


def test_startups_list_filters_and_pages(client, world, session, token):
    from tests.factories import CohortFactory

    for n in range(4):
        StartupFactory(org_id=world.org.id, name=f"Beta {n}", stage="growth")
    later = CohortFactory(programme=world.cohort.programme, org_id=world.org.id)
    enrolled(later, name="Gamma")
    headers = token(world.manager)
    everything = client.get(f"{API}/startups?page_size=3", headers=headers)
    assert json.loads(everything.headers["X-Pagination"])["total"] == 7 and len(everything.get_json()) == 3
    assert [s["name"] for s in client.get(f"{API}/startups?q=BETA&page_size=2&page=2",
                                          headers=headers).get_json()] == ["Beta 2", "Beta 3"]
    assert [s["name"] for s in client.get(f"{API}/startups?cohort={later.id}", headers=headers).get_json()] == \
        ["Gamma"]
    assert len(client.get(f"{API}/startups?stage=growth", headers=headers).get_json()) == 4
    assert {s["name"] for s in client.get(f"{API}/startups?status=active", headers=headers).get_json()} == \
        {"AgriSense", "FactoryEye", "Gamma"}
    assert client.get(f"{API}/startups?q=100%25", headers=headers).get_json() == []
    mine = client.get(f"{API}/startups?q=a", headers=token(world.founder)).get_json()
    assert [s["name"] for s in mine] == ["AgriSense"]


def test_add_a_founder_with_an_account_or_by_invitation(client, world, session, token):
    headers = token(world.manager)
    url = f"{API}/startups/{world.startup.id}/founders"
    person = UserFactory(email="co-founder@example.org")
    added = client.post(url, json={"email": "co-founder@example.org"}, headers=headers)
    assert added.status_code == 201 and added.get_json()["user_id"] == person.id
    session.refresh(world.startup)
    assert world.startup.has_founder(person)
    invited = client.post(url, json={"email": "newcomer@example.org"}, headers=headers)
    assert invited.status_code == 202 and invited.get_json()["invited"] is True
    assert session.execute(select(Invitation).where(Invitation.email == "newcomer@example.org")).first()
    bad = client.post(url, json={"email": "not an email"}, headers=headers)
    assert bad.status_code == 422 and "email" in bad.get_json()["fields"]
    assert client.post(url, json={"email": "x@example.org"}, headers=token(world.founder)).status_code == 403
    founders = client.get(url, headers=token(world.founder)).get_json()
    assert {f["user_id"] for f in founders} == {world.founder.id, person.id}


# -- check-ins -------------------------------------------------------------------------------------

def test_checkin_get_patch_verify_lock(client, world, session, token):
    record = checkin(world.startup, LAST_MONTH, **kpis())
    founder, manager = token(world.founder), token(world.manager)
    url = f"{API}/checkins/{record.id}"
    read = client.get(url, headers=founder)
    assert read.status_code == 200 and read.get_json()["status"] == "submitted"
    patched = client.patch(url, json={"customers": 15, "notes": "Two new buyers"},
                           headers={**founder, "If-Match": read.headers["ETag"]})
    assert patched.status_code == 200 and patched.get_json()["customers"] == 15
    assert patched.get_json()["revenue"] == 1500000  # untouched
    assert session.execute(select(CheckInRevision).where(CheckInRevision.checkin_id == record.id)).first()
    bad = client.patch(url, json={"revenue": -1, "jobs_created": 1.5}, headers=founder)
    assert bad.status_code == 422 and set(bad.get_json()["fields"]) == {"revenue", "jobs_created"}
    assert client.post(f"{url}/verify", headers=founder).status_code == 403
    verified = client.post(f"{url}/verify", headers={**manager, "If-Match": patched.headers["ETag"]})
    assert verified.status_code == 200 and verified.get_json()["status"] == "verified"
    locked = client.post(f"{url}/lock", headers=manager)
    assert locked.get_json()["status"] == "locked"
    refused = client.patch(url, json={"customers": 99}, headers=founder)
    assert refused.status_code == 409 and refused.get_json()["code"] == "locked"
    again = client.post(f"{url}/verify", headers=manager)
    assert again.status_code == 409
    session.refresh(record)
    assert record.customers == 15


def test_two_edits_from_the_same_version_the_second_is_412(client, world, session, token):
    record = checkin(world.startup, LAST_MONTH, **kpis())
    url = f"{API}/checkins/{record.id}"
    etag = client.get(url, headers=token(world.founder)).headers["ETag"]
    first = client.patch(url, json={"customers": 20}, headers={**token(world.founder), "If-Match": etag})
    assert first.status_code == 200
    second = client.post(f"{url}/verify", headers={**token(world.manager), "If-Match": etag})
    assert second.status_code == 412
    session.refresh(record)
    assert record.customers == 20 and record.verified_at is None


def test_checkins_of_another_startup_or_org_are_404(client, world, session, token):
    record = checkin(world.startup, LAST_MONTH, **kpis())
    headers = token(world.other_founder)
    for method, path in (("get", ""), ("patch", ""), ("get", "/evidence")):
        response = getattr(client, method)(f"{API}/checkins/{record.id}{path}", headers=headers,
                                           **({"json": {"customers": 1}} if method == "patch" else {}))
        assert response.status_code == 404, (method, path)
    tdmu = OrgFactory(slug="tdmu")
    outsider = member(tdmu, Role.MANAGER)
    assert client.get(f"{API}/checkins/{record.id}", headers=token(outsider)).status_code == 404
    assert client.get(f"/api/v1/orgs/tdmu/checkins/{record.id}", headers=token(outsider)).status_code == 404


def test_checkins_filtered_by_period_and_status(client, world, session, token):
    from incubator.core.db import utcnow

    for months in range(1, 6):
        checkin(world.startup, add_months(THIS_MONTH, -months), **kpis(),
                **({"verified_at": utcnow()} if months % 2 else {}))
    url = f"{API}/startups/{world.startup.id}/checkins"
    headers = token(world.founder)
    window = client.get(f"{url}?from={add_months(THIS_MONTH, -4):%Y-%m}&to={add_months(THIS_MONTH, -2):%Y-%m}",
                        headers=headers)
    assert [c["period"] for c in window.get_json()] == [f"{add_months(THIS_MONTH, -m):%Y-%m}" for m in (4, 3, 2)]
    verified = client.get(f"{url}?status=verified", headers=headers).get_json()
    assert len(verified) == 3 and {c["status"] for c in verified} == {"verified"}
    paged = client.get(f"{url}?page_size=2&page=3", headers=headers)
    assert len(paged.get_json()) == 1 and json.loads(paged.headers["X-Pagination"])["total"] == 5
    assert client.get(f"{url}?from=2026-1", headers=headers).status_code == 422


@pytest.mark.usefixtures("any_storage")  # a local folder, then an S3 bucket
def test_evidence_downloads_for_who_may_see_it(client, world, session, token, app):
    from incubator.core.storage import storage

    with app.app_context():
        key = storage().save(io.BytesIO(b"%PDF-1.4 evidence"), ".pdf")
    record = checkin(world.startup, LAST_MONTH, **kpis(), evidence_key=key, evidence_name="bank.pdf")
    done = milestone(world.startup, "Pilot", THIS_MONTH, "done")
    done.evidence_key, done.evidence_name = key, "pilot.pdf"
    session.flush()
    for url in (f"{API}/checkins/{record.id}/evidence", f"{API}/milestones/{done.id}/evidence"):
        got = client.get(url, headers=token(world.founder))
        assert got.status_code == 200 and got.data == b"%PDF-1.4 evidence"
        assert "attachment" in got.headers["Content-Disposition"]
        assert client.get(url, headers=token(world.other_founder)).status_code == 404
    bare = milestone(world.startup, "Nothing", THIS_MONTH)
    assert client.get(f"{API}/milestones/{bare.id}/evidence", headers=token(world.founder)).status_code == 404


# -- milestones ------------------------------------------------------------------------------------

def test_milestone_get_patch(client, world, session, token):
    record = milestone(world.startup, "Pilot", add_months(THIS_MONTH, 1))
    url = f"{API}/milestones/{record.id}"
    headers = token(world.founder)
    assert client.get(url, headers=headers).get_json()["title"] == "Pilot"
    done = client.patch(url, json={"status": "done", "evidence_url": "https://agrisense.example.org/pilot"},
                        headers=headers)
    assert done.status_code == 200 and done.get_json()["status"] == "done"
    session.refresh(record)
    assert record.completed_on is not None and record.evidence_url.endswith("/pilot")
    bad = client.patch(url, json={"evidence_url": "ftp://x"}, headers=headers)
    assert bad.status_code == 422 and "evidence_url" in bad.get_json()["fields"]
    cleared = client.patch(url, json={"evidence_url": None}, headers=headers).get_json()
    assert cleared["evidence_url"] is None and cleared["status"] == "done"
    assert client.patch(url, json={"status": "missed"}, headers=token(world.other_founder)).status_code == 404
    listed = client.get(f"{API}/startups/{world.startup.id}/milestones?status=done", headers=headers).get_json()
    assert [m["id"] for m in listed] == [record.id]


def test_created_rows_answer_location(client, world, session, token):
    headers = token(world.founder)
    created = client.post(f"{API}/startups/{world.startup.id}/checkins",
                          json={"period": LAST_MONTH.strftime("%Y-%m"), **kpis()}, headers=headers)
    assert created.status_code == 201 and created.headers["ETag"]
    assert client.get(created.headers["Location"], headers=headers).get_json()["id"] == created.get_json()["id"]
    stone = client.post(f"{API}/startups/{world.startup.id}/milestones", json={"title": "T", "due_on": "2027-01-01"},
                        headers=headers)
    assert client.get(stone.headers["Location"], headers=headers).status_code == 200
    assert session.execute(select(CheckIn)).scalars().all()[0].startup_id == world.startup.id
    assert session.execute(select(Startup).where(Startup.name == "T")).first() is None


# -- files -----------------------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_logo_upload_and_download(client, world, session, token):
    url = f"{API}/startups/{world.startup.id}/logo"
    headers = token(world.founder)
    assert client.get(url, headers=headers).status_code == 404  # none yet
    fake = client.put(url, data={"file": (io.BytesIO(b"<script>"), "logo.png")}, headers=headers,
                      content_type="multipart/form-data")
    assert fake.status_code == 422 and "logo" in fake.get_json()["fields"]
    missing = client.put(url, data={}, headers=headers, content_type="multipart/form-data")
    assert missing.status_code == 422
    put = client.put(url, data={"file": (io.BytesIO(PNG), "whatever.bin")}, headers=headers,
                     content_type="multipart/form-data")
    assert put.status_code == 200 and put.headers["ETag"]
    got = client.get(url, headers=headers)
    assert got.status_code == 200 and got.data == PNG and got.mimetype == "image/png"
    assert client.get(url, headers=token(world.other_founder)).status_code == 404


@pytest.mark.usefixtures("any_storage")  # a local folder, then an S3 bucket
def test_evidence_upload_for_milestones_and_unlocked_checkins(client, world, session, token):
    from incubator.core.db import utcnow

    headers = token(world.founder)
    stone = milestone(world.startup, "Pilot", THIS_MONTH)
    up = client.put(f"{API}/milestones/{stone.id}/evidence", headers=headers, content_type="multipart/form-data",
                    data={"file": (io.BytesIO(b"%PDF-1.4 pilot"), "pilot.pdf")})
    assert up.status_code == 200 and up.get_json()["has_evidence_file"] is True
    assert client.get(f"{API}/milestones/{stone.id}/evidence", headers=headers).data == b"%PDF-1.4 pilot"
    exe = client.put(f"{API}/milestones/{stone.id}/evidence", headers=headers, content_type="multipart/form-data",
                     data={"file": (io.BytesIO(b"MZ"), "tool.exe")})
    assert exe.status_code == 422 and "file" in exe.get_json()["fields"]
    record = checkin(world.startup, LAST_MONTH, **kpis())
    url = f"{API}/checkins/{record.id}/evidence"
    ok = client.put(url, headers=headers, content_type="multipart/form-data",
                    data={"file": (io.BytesIO(b"a,b\n1,2\n"), "bank.csv")})
    assert ok.status_code == 200 and ok.get_json()["has_evidence"] is True
    session.refresh(record)  # the upload raised its version
    record.locked_at = utcnow()
    session.flush()
    locked = client.put(url, headers=headers, content_type="multipart/form-data",
                        data={"file": (io.BytesIO(b"a,b\n"), "other.csv")})
    assert locked.status_code == 409 and locked.get_json()["code"] == "locked"
    session.refresh(record)
    assert record.evidence_name == "bank.csv"
    assert client.put(url, headers=token(world.other_founder), content_type="multipart/form-data",
                      data={"file": (io.BytesIO(b"x"), "x.csv")}).status_code == 404
