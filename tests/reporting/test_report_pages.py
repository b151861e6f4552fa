"""The report pages at any size: the same number of queries for the manager's report, the funder's,
the province roll-up and the API cohort report whatever the number of startups, check-ins and
applications; the page's startup table one page at a time (keeping the period and filters), while
the headline, the API and the downloads cover every startup."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime

from incubator.cohorts.models import CheckIn, Enrolment
from incubator.core.permissions import Role
from incubator.intake.models import Stage
from incubator.reporting.views import STARTUPS_PAGE
from tests.conftest import page_queries, statements
from tests.factories import StartupFactory, member
from tests.reporting.fixtures import YEAR

YEAR_ARGS = f"period=year&year={YEAR}"


def _grow(session, rw, count: int, first: int = 0) -> None:
    """``count`` more startups in A1 and in B1, each with check-ins and a submitted application."""
    from tests.intake.fixtures import application, make_call

    call = make_call(rw.a, rw.a1.programme, rw.a1)
    for n in range(first, first + count):
        for org, cohort in ((rw.a, rw.a1), (rw.b, rw.b1)):
            startup = StartupFactory(org_id=org.id, name=f"Grown {org.slug} {n:03d}",
                                     registration_number=f"G-{org.slug}-{n}")
            session.add(Enrolment(org_id=org.id, cohort=cohort, startup=startup, enrolled_on=date(YEAR, 2, 1)))
            for month in (3, 4, 5):
                session.add(CheckIn(org_id=org.id, startup=startup, period=date(YEAR, month, 1),
                                    revenue=1_000_000 * month, jobs_created=1))
        record = application(call, member(rw.a, Role.FOUNDER), Stage.SUBMITTED, {"country": f"c{n % 4}"})
        record.submitted_at = datetime(YEAR, 4, 2, tzinfo=UTC)
    session.flush()


def _api_queries(app, client, url, headers) -> int:
    with statements(app) as seen:
        assert client.get(url, headers=headers).status_code == 200
    return len(seen)


def test_report_pages_run_the_same_queries_at_any_size(app, client, rw, sign_in, session, api_headers):
    pages = [(rw.manager_a, f"/o/inc-a/reports?{YEAR_ARGS}"),  # the manager's report
             (rw.funder_a, f"/o/inc-a/reports?{YEAR_ARGS}"),  # a funder's
             (rw.funder_dost, f"/o/dost/reports?{YEAR_ARGS}")]  # the province roll-up, across incubators
    api = (f"/api/v1/orgs/inc-a/cohorts/{rw.a1.id}/report?year={YEAR}", api_headers(rw.manager_a))

    def counts() -> list[int]:
        found = []
        for user, url in pages:
            client.get("/auth/logout")
            sign_in(user)
            found.append(page_queries(app, client, url))
        return [*found, _api_queries(app, client, *api)]

    counts()  # the first call also records the token's and the session's first use
    few = counts()
    _grow(session, rw, 2)
    assert counts() == few
    _grow(session, rw, 40, first=2)
    assert counts() == few
    body = client.get(*api[:1], headers=api[1]).get_json()
    assert len(body["startups"]) == 3 + 42  # the API lists every startup
    assert body["funnel"]["applications"] == 42


def _table(text: str) -> str:
    return text[text.index('data-testid="startups"'):text.index("</section>", text.index('data-testid="startups"'))]


def test_the_startup_table_pages_and_keeps_the_period_while_the_figures_cover_all(client, rw, sign_in, session):
    _grow(session, rw, 30)  # dost funds A1 and B1: 5 + 60 records, 64 companies (s1 and s1b are one)
    sign_in(rw.funder_dost)
    url = f"/o/dost/reports?{YEAR_ARGS}"
    first = client.get(url).get_data(as_text=True)
    assert 'data-headline="startups">64<' in first
    assert _table(first).count("<tr data-startup=") == STARTUPS_PAGE
    links = re.findall(r'href="(/o/dost/reports\?[^"]*page=2[^"]*)"', first)
    assert links and all("period=year" in link and f"year={YEAR}" in link for link in links)
    seen = []
    for page in range(1, 4):
        text = client.get(f"{url}&page={page}").get_data(as_text=True)
        assert 'data-headline="startups">64<' in text  # the figures cover every page
        seen += re.findall(r'<tr data-startup="([^"]+)"', _table(text))
    assert len(seen) == len(set(seen)) == 64  # every company on exactly one page
    past = client.get(f"{url}&page=999999999999").get_data(as_text=True)
    assert 'data-headline="startups">64<' in past and "<tr data-startup=" not in _table(past)
    # The CSV keeps every row (one per startup and month).
    rows = list(csv.reader(io.StringIO(client.get(f"/o/dost/reports/download.csv?{YEAR_ARGS}")
                                       .get_data(as_text=True).lstrip("\ufeff"))))
    assert {r[2] for r in rows[1:] if r[2].startswith("Grown")} == {
        f"Grown {slug} {n:03d}" for slug in ("inc-a", "inc-b") for n in range(30)}
