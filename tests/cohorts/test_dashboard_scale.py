"""The cohort dashboard at any size: totals summed by the database over every startup the filters
keep, against an independent computation from the rows (property test); the table one page at a
time, in name order, every startup on exactly one page; the same number of queries at any size."""

from __future__ import annotations

from collections import defaultdict

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incubator.cohorts.checkins import add_months
from incubator.cohorts.dashboard import STOCKS, cohort_dashboard
from incubator.cohorts.models import STANDARD_KPIS, EnrolmentStatus
from tests.cohorts.fixtures import THIS_MONTH, TODAY, kpis
from tests.conftest import login, page_queries
from tests.factories import checkin, enrolled, milestone

PROPERTY = settings(max_examples=25, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
figures = st.fixed_dictionaries({name: st.integers(0, 5) for name in STANDARD_KPIS})
startup_spec = st.fixed_dictionaries({
    "months": st.dictionaries(st.integers(-5, -1), figures, max_size=4),  # months before this one
    "withdrawn": st.booleans(),
})


@PROPERTY
@given(specs=st.lists(startup_spec, min_size=0, max_size=7), per_page=st.integers(1, 3),
       only_active=st.booleans())
def test_dashboard_totals_and_pages_match_the_rows(session, world, specs, per_page, only_active):
    savepoint = session.begin_nested()
    try:
        # (name, {period: figures}, status) of every startup of the cohort, worked out here.
        rows = [(s.name, {}, EnrolmentStatus.ACTIVE) for s in (world.startup, world.other)]
        for n, spec in enumerate(specs):
            startup = enrolled(world.cohort, name=f"S{n:02d}")
            if spec["withdrawn"]:
                startup.enrolments[0].status = EnrolmentStatus.WITHDRAWN
            for month, values in spec["months"].items():
                checkin(startup, add_months(THIS_MONTH, month), **values)
            rows.append((f"S{n:02d}", {add_months(THIS_MONTH, m): v for m, v in spec["months"].items()},
                         EnrolmentStatus.WITHDRAWN if spec["withdrawn"] else EnrolmentStatus.ACTIVE))
        session.flush()
        kept = [r for r in rows if not only_active or r[2] == EnrolmentStatus.ACTIVE]
        by_period: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(STANDARD_KPIS, 0))
        for _name, months, _status in kept:
            for period, values in months.items():
                for kpi in STANDARD_KPIS:
                    by_period[period.strftime("%Y-%m")][kpi] += values[kpi]
        expected = {kpi: sum(p[kpi] for p in by_period.values()) for kpi in STANDARD_KPIS}
        for stock in STOCKS:  # head-counts: each startup's latest report
            expected[stock] = sum(months[max(months)][stock] for _n, months, _s in kept if months)

        status = EnrolmentStatus.ACTIVE if only_active else None
        first = cohort_dashboard(session, world.cohort, TODAY, status=status, per_page=per_page)
        assert first.totals == expected
        assert first.totals_by_period == dict(by_period)
        assert first.periods == sorted(by_period)
        assert first.startups == first.table.total == len(kept)
        seen = []
        for page in range(1, first.table.pages + 1):
            dashboard = cohort_dashboard(session, world.cohort, TODAY, status=status, per_page=per_page, page=page)
            assert dashboard.totals == expected  # the totals cover every page
            assert len(dashboard.rows) <= per_page
            for row in dashboard.rows:
                months = dict(next(r[1] for r in kept if r[0] == row.startup.name))
                latest = months[max(months)] if months else {}
                assert row.latest == latest
                assert row.last_period == (max(months).strftime("%Y-%m") if months else None)
            seen += [row.startup.name for row in dashboard.rows]
        assert seen == sorted(r[0] for r in kept)  # each startup once, in name order
    finally:
        savepoint.rollback()


def _history(world, count: int) -> None:
    for i in range(count):
        startup = enrolled(world.cohort, name=f"Grown {i:03d}")
        for m in (-3, -2, -1):
            checkin(startup, add_months(THIS_MONTH, m), **kpis(revenue=1_000_000 * (i + 1) + m))
        milestone(startup, "Overdue", add_months(THIS_MONTH, -1))


def test_dashboard_queries_stay_the_same_past_a_page_of_startups(app, client, world, session):
    login(client, world.manager.email)
    url = f"/o/bbi/cohorts/{world.cohort.id}"
    _history(world, 3)
    few = page_queries(app, client, url)
    _history(world, 70)  # 75 startups: two pages of the table
    assert page_queries(app, client, url) == few
    assert page_queries(app, client, url + "?page=2&status=active") == few
    page = client.get(url).get_data(as_text=True)
    table = page[page.index('data-testid="startup-table"'):page.index("</table>", page.index("startup-table"))]
    assert table.count("<tr data-startup=") == 50  # one page of rows
    assert table.count('data-signal="overdue"') == 48  # AgriSense and FactoryEye (no milestone) come first
    assert 'data-total="startups">75<' in page  # the totals count them all
    last = client.get(url + "?page=2&status=active").get_data(as_text=True)
    assert last.count('data-signal="overdue"') == 25  # the 73 with an overdue milestone, less the first page's 48
    assert "status=active" in last[last.index('data-testid="startup-table"'):]  # the links keep the filter
