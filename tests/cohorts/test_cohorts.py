from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from incubator.cohorts import progress, services
from incubator.cohorts.checkins import add_months
from incubator.cohorts.dashboard import cohort_dashboard
from incubator.cohorts.models import Cohort, Enrolment, EnrolmentStatus, Milestone, MilestoneTemplate, Startup
from incubator.core.errors import Conflict, DomainError
from incubator.core.permissions import Role
from tests.cohorts.fixtures import THIS_MONTH, TODAY, kpis
from tests.conftest import csrf_token, login, page_queries
from tests.factories import OrgFactory, StartupFactory, checkin, enrolled, milestone


def test_a_manager_creates_a_programme_and_a_cohort_with_benefits_and_funders(client, world, session):
    login(client, world.manager.email)
    url = "/o/bbi/programmes/new"
    client.post(url, data={"name": "Agritech Accelerator", "kind": "acceleration", "description": "",
                           "csrf_token": csrf_token(client, url)})
    from incubator.cohorts.models import Programme

    programme = session.execute(select(Programme).where(Programme.name == "Agritech Accelerator")).scalar_one()
    url = "/o/bbi/cohorts/new"
    dost = OrgFactory(slug="dost-bd", name="Binh Duong DOST")
    response = client.post(url, data={
        "programme_id": programme.id, "name": "Agritech 2027", "starts_on": "2027-01-01", "ends_on": "2027-06-30",
        "capacity": "10", "checkin_frequency": "quarterly", "mentoring_hours_per_startup": "12",
        "lab_machine": "20", "lab_bench": "0", "lab_room": "5", "lab_workspace": "",
        "funder_users": str(world.funder.id), "funder_orgs": str(dost.id), "csrf_token": csrf_token(client, url)})
    assert response.status_code == 302, response.get_data(as_text=True)
    cohort = session.execute(select(Cohort).where(Cohort.name == "Agritech 2027")).scalar_one()
    assert {c.resource_kind: c.hours for c in cohort.lab_credits} == {"machine": 20, "room": 5}
    assert cohort.mentoring_hours_per_startup == 12 and cohort.checkin_frequency == "quarterly"
    assert {(f.user_id, f.funder_org_id) for f in cohort.funders} == {(world.funder.id, None), (None, dost.id)}


def test_cohort_dates_must_be_in_order(client, world, session):
    login(client, world.manager.email)
    url = "/o/bbi/cohorts/new"
    response = client.post(url, data={"programme_id": world.cohort.programme_id, "name": "Backwards",
                                      "starts_on": "2027-06-01", "ends_on": "2027-01-01",
                                      "checkin_frequency": "monthly", "csrf_token": csrf_token(client, url)})
    assert 'data-field="ends_on"' in response.get_data(as_text=True)
    assert session.execute(select(Cohort).where(Cohort.name == "Backwards")).first() is None


def test_only_members_with_the_funder_role_can_fund(app, world, session):
    with app.test_request_context(), pytest.raises(DomainError):
        services.set_funders(session, world.org, world.cohort, user_ids=[world.founder.id], org_ids=[])


def test_registration_number_is_unique_within_an_organisation_only(app, world, session):
    with app.test_request_context():
        services.save_startup(session, world.org, None, name="A", registration_number="3700123456")
        with pytest.raises(DomainError) as error:
            services.save_startup(session, world.org, None, name="B", registration_number="3700123456")
        assert "registration_number" in error.value.fields
        other_org = OrgFactory()
        services.save_startup(session, other_org, None, name="A elsewhere", registration_number="3700123456")


def test_enrolment_respects_capacity_and_duplicates(app, world, session):
    world.cohort.capacity = 3
    with app.test_request_context():
        third = StartupFactory(org_id=world.org.id)
        services.enrol(session, world.cohort, third, TODAY)
        with pytest.raises(Conflict):
            services.enrol(session, world.cohort, third, TODAY)
        with pytest.raises(DomainError) as error:
            services.enrol(session, world.cohort, StartupFactory(org_id=world.org.id), TODAY)
    assert error.value.code == "cohort_full"


def test_enrolment_status_changes(app, world, session):
    enrolment = world.startup.enrolments[0]
    with app.test_request_context():
        with pytest.raises(DomainError):
            services.change_enrolment_status(enrolment, EnrolmentStatus.WITHDRAWN, TODAY, "")  # needs a reason
        with pytest.raises(DomainError):
            services.change_enrolment_status(enrolment, EnrolmentStatus.ALUMNI, TODAY)  # graduate first
        services.change_enrolment_status(enrolment, EnrolmentStatus.GRADUATED, TODAY)
        services.change_enrolment_status(enrolment, EnrolmentStatus.ALUMNI, TODAY)
    assert (enrolment.status, enrolment.status_changed_on) == (EnrolmentStatus.ALUMNI, TODAY)


def test_graduating_a_cohort_graduates_its_active_startups(client, world, session):
    with_reason = world.other.enrolments[0]
    with_reason.status, with_reason.status_reason = EnrolmentStatus.WITHDRAWN, "moved to Ho Chi Minh City"
    session.flush()
    login(client, world.manager.email)
    url = f"/o/bbi/cohorts/{world.cohort.id}"
    client.post(f"{url}/graduate", data={"csrf_token": csrf_token(client, url)})
    session.expire_all()
    assert world.startup.enrolments[0].status == EnrolmentStatus.GRADUATED
    assert world.other.enrolments[0].status == EnrolmentStatus.WITHDRAWN


def test_milestone_templates_reach_every_active_startup_once(client, world, session):
    login(client, world.manager.email)
    url = f"/o/bbi/cohorts/{world.cohort.id}"
    due = add_months(THIS_MONTH, 2).isoformat()
    client.post(f"{url}/milestone-templates", data={"title": "Demo day", "due_on": due,
                                                    "csrf_token": csrf_token(client, url)})
    template = session.execute(select(MilestoneTemplate)).scalar_one()
    late = enrolled(world.cohort, name="Joined later")
    with client.application.test_request_context():
        assert progress.apply_template(session, template) == 1  # only the newcomer gets it now
    titles = session.execute(select(Milestone.startup_id).where(Milestone.title == "Demo day")).scalars().all()
    assert sorted(titles) == sorted([world.startup.id, world.other.id, late.id])


def test_founders_update_their_milestones(client, world, session):
    record = milestone(world.startup, "First paying customer", add_months(THIS_MONTH, 1))
    login(client, world.founder.email)
    url = f"/o/bbi/startups/{world.startup.id}"
    client.post(f"/o/bbi/milestones/{record.id}", data={"status": "done", "evidence_url": "https://example.org/po",
                                                       "csrf_token": csrf_token(client, url)})
    session.refresh(record)
    assert (record.status, record.evidence_url, record.completed_on) == ("done", "https://example.org/po", TODAY)
    other = milestone(world.other, "Not mine", add_months(THIS_MONTH, 1))
    response = client.post(f"/o/bbi/milestones/{other.id}", data={"status": "done",
                                                                 "csrf_token": csrf_token(client, url)})
    assert response.status_code == 404


def _build_history(world, count: int) -> list[Startup]:
    """``count`` extra startups with three months of check-ins and one overdue milestone each."""
    extra = []
    for i in range(count):
        startup = enrolled(world.cohort, name=f"Extra {i:02d}")
        for m in (-3, -2, -1):
            checkin(startup, add_months(THIS_MONTH, m), **kpis(revenue=1_000_000 * (i + 1) + m, jobs_created=i % 2,
                                                            funding_grant=5_000_000 if m == -2 else 0))
        milestone(startup, "Overdue", add_months(THIS_MONTH, -1))
        extra.append(startup)
    return extra


def test_dashboard_totals_match_an_independent_computation(app, world, session):
    _build_history(world, 4)
    checkin(world.startup, add_months(THIS_MONTH, -1), **kpis(revenue=7_000_000, employees_full_time=9))
    dashboard = cohort_dashboard(session, world.cohort, TODAY)
    expected_revenue = sum(1_000_000 * (i + 1) + m for i in range(4) for m in (-3, -2, -1)) + 7_000_000
    expected_jobs = sum(i % 2 for i in range(4)) * 3 + 1
    assert dashboard.totals["revenue"] == expected_revenue
    assert dashboard.totals["jobs_created"] == expected_jobs
    assert dashboard.totals["funding_grant"] == 4 * 5_000_000
    assert dashboard.totals["employees_full_time"] == 4 * 4 + 9  # the latest head-count of each startup
    period = add_months(THIS_MONTH, -2).strftime("%Y-%m")
    assert dashboard.totals_by_period[period]["revenue"] == sum(1_000_000 * (i + 1) - 2 for i in range(4))
    by_name = {row.startup.name: row for row in dashboard.rows}
    assert by_name["Extra 00"].milestones_overdue == 1
    assert by_name["FactoryEye"].missing_checkins  # reported nothing in six months
    assert by_name["Extra 03"].revenue_trend == "up"


def test_dashboard_page_shows_the_totals_and_runs_a_fixed_number_of_queries(app, client, world, session):
    login(client, world.manager.email)
    url = f"/o/bbi/cohorts/{world.cohort.id}"

    def count_queries() -> int:
        return page_queries(app, client, url)

    _build_history(world, 2)
    few = count_queries()
    _build_history(world, 12)
    many = count_queries()
    assert few == many
    page = client.get(url).get_data(as_text=True)
    dashboard = cohort_dashboard(session, world.cohort, TODAY)
    assert f'data-total="jobs_created">{dashboard.totals["jobs_created"]}<' in page
    assert page.count('data-signal="overdue"') == 14


def test_dashboard_filters(client, world, session):
    world.other.stage = "growth"
    session.flush()
    login(client, world.manager.email)
    def table(query: str) -> str:
        page = client.get(f"/o/bbi/cohorts/{world.cohort.id}?{query}").get_data(as_text=True)
        return page[page.index('data-testid="startup-table"'):page.index("</table>", page.index("startup-table"))]

    assert "FactoryEye" in table("stage=growth") and "AgriSense" not in table("stage=growth")
    assert "AgriSense" in table("q=agri") and "FactoryEye" not in table("q=agri")


def test_funders_see_only_the_cohorts_they_fund(client, world, session):
    from incubator.cohorts.models import CohortFunder

    unfunded = Cohort(org_id=world.org.id, programme_id=world.cohort.programme_id, name="Unfunded",
                      starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31))
    session.add_all([unfunded, CohortFunder(org_id=world.org.id, cohort=world.cohort, user_id=world.funder.id)])
    session.flush()
    login(client, world.funder.email)
    page = client.get("/o/bbi/cohorts").get_data(as_text=True)
    assert world.cohort.name in page and "Unfunded" not in page
    assert client.get(f"/o/bbi/cohorts/{unfunded.id}").status_code == 404
    funded = client.get(f"/o/bbi/cohorts/{world.cohort.id}").get_data(as_text=True)
    assert "Verify and lock" not in funded  # read-only


def test_the_cohort_table_links_only_the_startup_pages_its_reader_may_open(app, connection, world, session):
    """Issue #12 (the crawl): a funder's cohort table linked every startup to a page that answered 404."""
    import re

    from incubator.cohorts.models import CohortFunder

    session.add(CohortFunder(org_id=world.org.id, cohort=world.cohort, user_id=world.funder.id))
    session.flush()
    for user, openable in ((world.funder, set()), (world.founder, {world.startup.id}),
                           (world.manager, {world.startup.id, world.other.id})):
        client = app.test_client()
        login(client, user.email)
        page = client.get(f"/o/bbi/cohorts/{world.cohort.id}").get_data(as_text=True)
        assert "AgriSense" in page and "FactoryEye" in page
        linked = {int(i) for i in re.findall(r'href="/o/bbi/startups/(\d+)"', page)}
        assert linked == openable, user.email
        assert all(client.get(f"/o/bbi/startups/{i}").status_code == 200 for i in linked)


def test_founder_portal_shows_cohort_benefits_and_due_checkins(client, world, session):
    from incubator.cohorts.models import CohortLabCredit

    world.cohort.mentoring_hours_per_startup = 24
    session.add(CohortLabCredit(org_id=world.org.id, cohort=world.cohort, resource_kind="machine", hours=20))
    session.flush()
    login(client, world.founder.email)
    response = client.get("/o/bbi/my-startup")
    assert response.headers["Location"] == f"/o/bbi/startups/{world.startup.id}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Mentoring: 24 hours" in page and "20 hours of Machines" in page
    assert 'data-testid="owed"' in page


def test_a_manager_adds_an_existing_user_as_founder(client, world, session):
    from tests.factories import UserFactory

    newcomer = UserFactory(email="cofounder@example.org")
    login(client, world.manager.email)
    url = f"/o/bbi/startups/{world.startup.id}"
    client.post(f"{url}/founders", data={"email": "cofounder@example.org", "csrf_token": csrf_token(client, url)})
    session.expire_all()
    assert world.startup.has_founder(newcomer)
    from incubator.orgs.models import Membership

    role = session.execute(select(Membership.role).where(Membership.user_id == newcomer.id)).scalar_one()
    assert role == Role.FOUNDER


def test_a_startup_of_another_org_cannot_be_enrolled(app, world, session):
    foreign = StartupFactory(org_id=OrgFactory().id)
    with app.test_request_context(), pytest.raises(DomainError):
        services.enrol(session, world.cohort, foreign, TODAY)
    assert session.execute(select(Enrolment).where(Enrolment.startup_id == foreign.id)).first() is None


def test_reminders_go_out_once_when_due_and_once_when_overdue(app, world, session):
    from datetime import UTC, datetime, timedelta

    from incubator.cohorts.checkins import GRACE_DAYS
    from incubator.cohorts.tasks import send_checkin_reminders
    from incubator.core import mail

    world.cohort.starts_on = world.startup.enrolments[0].enrolled_on = date(2026, 1, 1)
    world.other.enrolments[0].enrolled_on = date(2026, 1, 1)
    for month in range(1, 9):  # both are up to date until August
        checkin(world.startup, date(2026, month, 1), **kpis())
        checkin(world.other, date(2026, month, 1), **kpis())
    session.flush()
    september_due = date(2026, 9, 30) + timedelta(days=GRACE_DAYS)

    def run(day: date) -> int:
        with app.app_context():
            from incubator.extensions import db

            sent = send_checkin_reminders(db.session, datetime(day.year, day.month, day.day, 3, tzinfo=UTC))
            db.session.commit()
            return sent

    assert run(date(2026, 10, 1)) == 0  # September has just ended: not due yet
    assert run(september_due - timedelta(days=5)) == 2
    assert {m.to[0] for m in mail.outbox} == {world.founder.email, world.other_founder.email}
    assert run(september_due - timedelta(days=4)) == 0  # once
    checkin(world.other, date(2026, 9, 1), **kpis())
    session.flush()
    mail.outbox.clear()
    assert run(september_due + timedelta(days=1)) == 1  # overdue, only the one still missing
    assert mail.outbox[0].to == [world.founder.email] and "Overdue" in mail.outbox[0].subject


def test_custom_kpis_are_defined_by_the_org_and_reported_in_checkins(client, world, session):
    from incubator.cohorts.models import CheckIn, KpiDefinition

    login(client, world.manager.email)
    url = "/o/bbi/kpis"
    client.post(url, data={"name": "Export markets", "key": "export_markets", "unit": "countries",
                           "type": "integer", "csrf_token": csrf_token(client, url)})
    taken = client.post(url, data={"name": "Again", "key": "revenue", "unit": "", "type": "integer",
                                   "csrf_token": csrf_token(client, url)})
    assert taken.status_code == 422 and 'data-field="key"' in taken.get_data(as_text=True)
    assert session.execute(select(KpiDefinition.key)).scalars().all() == ["export_markets"]
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/account")})
    login(client, world.founder.email)
    url = f"/o/bbi/startups/{world.startup.id}/checkins/new"
    period = add_months(THIS_MONTH, -1).strftime("%Y-%m")
    bad = client.post(url, data={"period": period, **kpis(), "custom_export_markets": "-1",
                                 "csrf_token": csrf_token(client, url)})
    assert 'data-field="custom.export_markets"' in bad.get_data(as_text=True)
    client.post(url, data={"period": period, **kpis(), "custom_export_markets": "3",
                           "csrf_token": csrf_token(client, url)})
    record = session.execute(select(CheckIn).where(CheckIn.startup_id == world.startup.id)).scalar_one()
    assert record.custom == {"export_markets": 3}


def test_the_first_period_of_an_enrolment_is_the_baseline(app, world, session):
    from incubator.cohorts import checkins as service

    with app.test_request_context(headers={"Accept-Language": "en"}):
        first = service.clean_checkin(world.org, world.cohort, [],
                                      {"period": world.cohort.starts_on.strftime("%Y-%m"), **kpis()}, TODAY)
        later = service.clean_checkin(world.org, world.cohort, [],
                                      {"period": add_months(world.cohort.starts_on, 1).strftime("%Y-%m"), **kpis()},
                                      TODAY)
        assert service.submit_checkin(session, world.startup, first, world.founder).is_baseline
        assert not service.submit_checkin(session, world.startup, later, world.founder).is_baseline


def test_logo_must_really_be_an_image(client, world, session):
    import io

    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    login(client, world.manager.email)
    url = f"/o/bbi/startups/{world.startup.id}/edit"
    fake = client.post(url, data={"name": "AgriSense", "stage": "idea", "origin": "independent", "team_size": "3",
                                  "logo": (io.BytesIO(b"<script>alert(1)</script>"), "logo.png"),
                                  "csrf_token": csrf_token(client, url)}, content_type="multipart/form-data")
    assert 'data-field="logo"' in fake.get_data(as_text=True)
    session.refresh(world.startup)
    assert world.startup.logo_key is None
    real = client.post(url, data={"name": "AgriSense", "stage": "idea", "origin": "independent", "team_size": "3",
                                  "logo": (io.BytesIO(png), "whatever.bin"),
                                  "csrf_token": csrf_token(client, url)}, content_type="multipart/form-data")
    assert real.status_code == 302
    served = client.get(f"/o/bbi/startups/{world.startup.id}/logo")
    assert served.status_code == 200 and served.mimetype == "image/png" and served.data == png


def test_a_refused_cohort_edit_saves_nothing(client, world, session):
    login(client, world.manager.email)
    url = f"/o/bbi/cohorts/{world.cohort.id}/edit"
    response = client.post(url, data={
        "programme_id": world.cohort.programme_id, "name": "Renamed", "starts_on": "2027-01-01",
        "ends_on": "2027-06-30", "checkin_frequency": "monthly", "funder_users": str(world.founder.id),
        "csrf_token": csrf_token(client, url)})
    # A founder is no funder: the form says so, and the new name is not kept either.
    assert response.status_code == 422
    session.expire_all()
    assert session.get(Cohort, world.cohort.id).name != "Renamed"
