from __future__ import annotations

from dataclasses import dataclass

import pytest

from incubator.cohorts.checkins import add_months
from incubator.cohorts.models import Cohort, Startup
from incubator.core.db import utcnow  # noqa: E402
from incubator.core.permissions import Role
from incubator.core.timezones import to_local  # noqa: E402
from incubator.orgs.models import Organisation
from tests.factories import CohortFactory, OrgFactory, ProgrammeFactory, enrolled, member

TODAY = to_local(utcnow(), "Asia/Ho_Chi_Minh").date()  # the organisation's today, as the pages see it
THIS_MONTH = TODAY.replace(day=1)


@dataclass
class World:
    org: Organisation
    cohort: Cohort
    startup: Startup
    other: Startup
    manager: object
    founder: object
    other_founder: object
    funder: object


@pytest.fixture()
def world(session) -> World:
    """bbi with a cohort that started six months ago, two startups with a founder each, a funder."""
    org = OrgFactory(slug="bbi", currency="VND")
    programme = ProgrammeFactory(org_id=org.id)
    cohort = CohortFactory(programme=programme, org_id=org.id, starts_on=add_months(THIS_MONTH, -6),
                           ends_on=add_months(THIS_MONTH, 6))
    manager = member(org, Role.MANAGER)
    founder, other_founder = member(org, Role.FOUNDER), member(org, Role.FOUNDER)
    funder = member(org, Role.FUNDER)
    startup = enrolled(cohort, founder, name="AgriSense")
    other = enrolled(cohort, other_founder, name="FactoryEye")
    return World(org, cohort, startup, other, manager, founder, other_founder, funder)


def kpis(**overrides) -> dict:
    values = {"revenue": 1500000, "employees_full_time": 4, "employees_part_time": 1, "jobs_created": 1,
              "funding_equity": 0, "funding_debt": 0, "funding_grant": 0, "customers": 12,
              "products_commercialised": 0, "ip_filings": 0}
    values.update(overrides)
    return values
