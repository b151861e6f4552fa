"""Every organisation route, as every role of another organisation, answers 404 under row-level security
too (see conftest)."""

from tests.orgs.test_isolation import *  # noqa: F403
