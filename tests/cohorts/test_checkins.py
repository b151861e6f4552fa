from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from incubator.cohorts import checkins
from incubator.cohorts.models import CheckIn, CheckInRevision, Frequency
from incubator.core.errors import Conflict, DomainError
from tests.cohorts.fixtures import THIS_MONTH, TODAY, kpis
from tests.conftest import csrf_token, login
from tests.factories import checkin


def _clean(world, today=TODAY, **data):
    return checkins.clean_checkin(world.org, world.cohort, [], {"period": "2026-03", **kpis(), **data}, today)


@pytest.mark.parametrize("field,value,message", [
    ("employees_full_time", -1, "Must not be negative."),
    ("revenue", -5, "Must not be negative."),
    ("customers", 2.5, "Enter a whole number."),
    ("jobs_created", "many", "Enter a whole number."),
    ("revenue", "12.5", "Too many decimals for VND."),
    ("ip_filings", None, "This field is required."),
    ("customers", 10**12, "This number is too large."),
])
def test_invalid_numbers_are_refused_with_the_field(app, world, field, value, message):
    with app.test_request_context(headers={"Accept-Language": "en"}), pytest.raises(DomainError) as error:
        _clean(world, **{field: value})
    assert error.value.fields == {field: message}


def test_no_period_in_the_future_and_a_proper_format(app, world):
    future = checkins.add_months(THIS_MONTH, 1).strftime("%Y-%m")
    with app.test_request_context(headers={"Accept-Language": "en"}):
        with pytest.raises(DomainError) as error:
            _clean(world, period=future)
        assert "period" in error.value.fields
        with pytest.raises(DomainError) as error:
            _clean(world, period="2026-13")
        assert error.value.fields["period"] == "Use the form YYYY-MM."
        assert _clean(world, period=THIS_MONTH.strftime("%Y-%m")).period == THIS_MONTH


def test_quarterly_cohorts_report_on_the_first_month_of_a_quarter(app, world):
    world.cohort.checkin_frequency = Frequency.QUARTERLY
    with app.test_request_context(headers={"Accept-Language": "en"}):
        with pytest.raises(DomainError) as error:
            _clean(world, period="2026-02", today=date(2026, 11, 1))
        assert "quarter" in error.value.fields["period"]
        assert _clean(world, period="2026-04", today=date(2026, 11, 1)).period == date(2026, 4, 1)


def test_money_is_stored_in_minor_units_of_the_org_currency(app, world):
    world.org.currency = "USD"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        clean = _clean(world, revenue="1250.75", funding_grant=10)
    assert clean.values["revenue"] == 125075 and clean.values["funding_grant"] == 1000


def test_one_checkin_per_startup_and_period(app, world, session):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        clean = _clean(world)
        checkins.submit_checkin(session, world.startup, clean, world.founder)
        with pytest.raises(Conflict) as error:
            checkins.submit_checkin(session, world.startup, clean, world.founder)
    assert error.value.status == 409 and error.value.code == "period_reported"
    # Another startup may report the same period.
    with app.test_request_context(headers={"Accept-Language": "en"}):
        checkins.submit_checkin(session, world.other, clean, world.other_founder)


def test_changes_are_kept_as_revisions_and_a_locked_checkin_cannot_change(app, world, session):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        record = checkins.submit_checkin(session, world.startup, _clean(world), world.founder)
        changes = checkins.update_checkin(session, record, _clean(world, revenue=2000000, customers=13),
                                          world.founder)
        assert changes == {"revenue": [1500000, 2000000], "customers": [12, 13]}
        checkins.lock_checkin(record, world.manager)
        session.flush()
        with pytest.raises(Conflict) as error:
            checkins.update_checkin(session, record, _clean(world, revenue=1), world.manager)
    assert error.value.code == "locked"
    session.refresh(record)
    assert record.revenue == 2000000 and record.verified_by_id == world.manager.id and record.locked_at
    revision = session.execute(select(CheckInRevision).where(CheckInRevision.checkin_id == record.id)).scalar_one()
    assert (revision.user_id, revision.changes["revenue"]) == (world.founder.id, [1500000, 2000000])


def test_due_periods_follow_the_cohort_and_alumni_report_yearly(world):
    from incubator.cohorts.models import EnrolmentStatus

    enrolment = world.startup.enrolments[0]
    world.cohort.starts_on, world.cohort.ends_on = date(2025, 1, 15), date(2025, 12, 31)
    enrolment.enrolled_on = date(2025, 1, 15)
    periods = checkins.due_periods(world.cohort, enrolment, date(2025, 4, 5))
    assert periods == [(date(2025, 1, 1), 1), (date(2025, 2, 1), 1), (date(2025, 3, 1), 1)]
    world.cohort.checkin_frequency = Frequency.QUARTERLY
    assert checkins.due_periods(world.cohort, enrolment, date(2025, 7, 2)) == [(date(2025, 1, 1), 3),
                                                                                 (date(2025, 4, 1), 3)]
    enrolment.status, enrolment.status_changed_on = EnrolmentStatus.ALUMNI, date(2025, 12, 31)
    later = checkins.due_periods(world.cohort, enrolment, date(2028, 3, 1))
    assert [p for p, months in later if months == 12] == [date(2026, 1, 1), date(2027, 1, 1)]


def test_gaps_name_what_a_startup_is_missing(world, session):
    from tests.factories import milestone

    world.startup.stage = "mvp"
    milestone(world.startup, "Pilot with a rubber farm", checkins.add_months(THIS_MONTH, -1))
    checkin(world.startup, checkins.add_months(THIS_MONTH, -6), revenue=0)
    gaps = checkins.startup_gaps(session, world.startup, TODAY)
    kinds = {g.kind for g in gaps}
    assert {"overdue_milestone", "missing_checkin", "no_revenue", "no_ip"} <= kinds
    assert any(g.detail == "Pilot with a rubber farm" and g.need == "execution" for g in gaps)
    assert not any(g.kind == "missing_checkin" and g.detail == checkins.add_months(THIS_MONTH, -6).strftime("%Y-%m")
                   for g in gaps)


# -- in the browser pages -------------------------------------------------------------------------

def _form(world, client, url, **values):
    data = {"period": checkins.add_months(THIS_MONTH, -1).strftime("%Y-%m"), **kpis(), "notes": ""}
    data.update(values)
    data["csrf_token"] = csrf_token(client, url)
    return client.post(url, data=data)


def test_a_founder_submits_a_checkin_for_their_startup(client, world, session):
    login(client, world.founder.email)
    url = f"/o/bbi/startups/{world.startup.id}/checkins/new"
    response = _form(world, client, url)
    assert response.status_code == 302
    record = session.execute(select(CheckIn).where(CheckIn.startup_id == world.startup.id)).scalar_one()
    assert (record.revenue, record.submitted_by_id) == (1500000, world.founder.id)


def test_errors_show_next_to_the_field_in_both_languages(client, world, session):
    login(client, world.founder.email)
    url = f"/o/bbi/startups/{world.startup.id}/checkins/new"
    en = _form(world, client, url, employees_full_time="-2")
    assert en.status_code == 422
    assert 'data-field="employees_full_time">Must not be negative.' in en.get_data(as_text=True)
    world.founder.locale = "vi"  # the founder's own choice of language
    session.flush()
    vi = _form(world, client, url, employees_full_time="-2").get_data(as_text=True)
    assert 'data-field="employees_full_time">Không được là số âm.' in vi
    assert session.execute(select(CheckIn)).first() is None


def test_another_founders_startup_is_404(client, world):
    login(client, world.founder.email)
    assert client.get(f"/o/bbi/startups/{world.other.id}").status_code == 404
    assert client.get(f"/o/bbi/startups/{world.other.id}/checkins/new").status_code == 404
    record = checkin(world.other, checkins.add_months(THIS_MONTH, -1))
    assert client.get(f"/o/bbi/checkins/{record.id}").status_code == 404


def test_a_manager_verifies_and_locks_and_the_founder_can_no_longer_edit(client, world, session):
    record = checkin(world.startup, checkins.add_months(THIS_MONTH, -1), **kpis())
    login(client, world.founder.email)
    assert client.post(f"/o/bbi/checkins/{record.id}/lock",
                       data={"csrf_token": csrf_token(client, f"/o/bbi/checkins/{record.id}")}).status_code == 403
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/account")})
    login(client, world.manager.email)
    client.post(f"/o/bbi/checkins/{record.id}/lock",
                data={"csrf_token": csrf_token(client, f"/o/bbi/checkins/{record.id}")})
    session.refresh(record)
    assert record.locked_at is not None and record.verified_by_id == world.manager.id
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/account")})
    login(client, world.founder.email)
    url = f"/o/bbi/checkins/{record.id}"
    response = client.post(url, data={**kpis(revenue=9), "csrf_token": csrf_token(client, url)})
    assert response.status_code == 409
    session.refresh(record)
    assert record.revenue == 1500000


def test_editing_before_the_lock_keeps_a_revision_on_the_page(client, world, session):
    record = checkin(world.startup, checkins.add_months(THIS_MONTH, -1), **kpis())
    login(client, world.founder.email)
    url = f"/o/bbi/checkins/{record.id}"
    response = client.post(url, data={**kpis(customers=15), "notes": "", "csrf_token": csrf_token(client, url)})
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "customers: 12 → 15" in page


def test_a_manager_locks_a_whole_period(client, world, session):
    period = checkins.add_months(THIS_MONTH, -1)
    first, second = checkin(world.startup, period, **kpis()), checkin(world.other, period, **kpis())
    login(client, world.manager.email)
    url = f"/o/bbi/cohorts/{world.cohort.id}"
    client.post(f"{url}/lock", data={"period": period.strftime("%Y-%m"), "csrf_token": csrf_token(client, url)})
    session.expire_all()
    assert first.locked_at and second.locked_at
