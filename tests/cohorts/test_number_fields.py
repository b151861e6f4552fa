"""Number fields read the reader's separators ("97.102.000" in Vietnamese, "97,102,000" in English) and keep
what was typed when it cannot be read (``core.forms.LocaleDecimalField`` and ``LocaleIntegerField``)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from incubator.cohorts import checkins
from incubator.cohorts.models import CheckIn
from tests.cohorts.fixtures import THIS_MONTH, kpis
from tests.conftest import csrf_token, login


def _post(client, url, **values):
    data = {"period": checkins.add_months(THIS_MONTH, -1).strftime("%Y-%m"), **kpis(), "notes": ""}
    data.update(values)
    data["csrf_token"] = csrf_token(client, url)
    return client.post(url, data=data)


@pytest.mark.parametrize(("locale", "revenue", "customers"), [("vi", "97.102.000", "1.200"),
                                                              ("en", "97,102,000", "1,200"),
                                                              ("vi", "97102000", "1200")])
def test_a_checkin_reads_the_languages_separators(client, world, session, locale, revenue, customers):
    world.founder.locale = locale
    session.flush()
    login(client, world.founder.email)
    url = f"/o/bbi/startups/{world.startup.id}/checkins/new"
    response = _post(client, url, revenue=revenue, customers=customers)
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    record = session.execute(select(CheckIn).where(CheckIn.startup_id == world.startup.id)).scalar_one()
    assert (record.revenue, record.customers) == (97102000, 1200)


def test_the_edit_page_shows_the_stored_amount_in_the_readers_language(client, world, session):
    world.founder.locale = "vi"
    session.flush()
    login(client, world.founder.email)
    url = f"/o/bbi/startups/{world.startup.id}/checkins/new"
    assert _post(client, url, revenue="97.102.000").status_code == 302
    record = session.execute(select(CheckIn).where(CheckIn.startup_id == world.startup.id)).scalar_one()
    page = client.get(f"/o/bbi/checkins/{record.id}").get_data(as_text=True)
    assert 'value="97.102.000"' in page


@pytest.mark.parametrize(("locale", "typed", "message"), [
    ("vi", "97,102,000", "giá trị số thập phân không hợp lệ."),  # English separators in Vietnamese
    ("en", "12abc", "Not a valid decimal value."), ("en", "1.2.3", "Not a valid decimal value.")])
def test_a_number_that_cannot_be_read_is_a_form_error_and_stays_typed(client, world, session, locale, typed,
                                                                      message):
    world.founder.locale = locale
    session.flush()
    login(client, world.founder.email)
    url = f"/o/bbi/startups/{world.startup.id}/checkins/new"
    response = _post(client, url, revenue=typed)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'value="{typed}"' in page  # what was typed, as typed
    assert message in page.lower() if locale == "vi" else message in page
    assert session.execute(select(CheckIn)).first() is None  # nothing half-saved


def test_a_count_with_decimals_is_refused(client, world, session):
    login(client, world.founder.email)
    url = f"/o/bbi/startups/{world.startup.id}/checkins/new"
    response = _post(client, url, customers="12.5")
    assert response.status_code == 422
    assert 'value="12.5"' in response.get_data(as_text=True)
    assert session.execute(select(CheckIn)).first() is None
