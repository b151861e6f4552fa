"""A main flow of two more domains under row-level security (see conftest): an application through the
portal, KPI check-ins."""

from tests.cohorts.test_checkins import *  # noqa: F403
from tests.intake.test_portal_pages import *  # noqa: F403
