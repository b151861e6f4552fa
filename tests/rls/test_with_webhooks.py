"""Domain events delivered as webhooks by jobs that span organisations, under row-level security (see
conftest)."""

from tests.webhooks.conftest import *  # noqa: F403  (its fixtures)
from tests.webhooks.test_domain_events import *  # noqa: F403
