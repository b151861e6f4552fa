"""Platform admin, the organisation switcher, where each role lands, members and settings under
row-level security (see conftest)."""

from tests.orgs.test_orgs import *  # noqa: F403
