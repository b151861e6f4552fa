"""The funders' reports and the province roll-up (cohorts of several organisations) under row-level security
(see conftest)."""

from tests.reporting.test_access import *  # noqa: F403
from tests.reporting.test_report_pages import *  # noqa: F403
