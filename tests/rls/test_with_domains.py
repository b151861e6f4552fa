"""A main flow of each other domain under row-level security (see conftest): an application through the
portal, KPI check-ins, a large matching run by a job (its organisation from its payload), domain events
delivered as webhooks by a job."""

from tests.cohorts.test_checkins import *  # noqa: F403
from tests.intake.test_portal_pages import *  # noqa: F403
from tests.mentoring.test_matching_job import *  # noqa: F403
from tests.webhooks.conftest import *  # noqa: F403  (its fixtures)
from tests.webhooks.test_domain_events import *  # noqa: F403
