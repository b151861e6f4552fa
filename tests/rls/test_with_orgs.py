"""Platform admin, the organisation switcher, members, settings and the isolation between organisations under
row-level security (see conftest)."""

from tests.orgs.test_isolation import *  # noqa: F403
from tests.orgs.test_orgs import *  # noqa: F403
