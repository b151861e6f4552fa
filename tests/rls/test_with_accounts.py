"""Sign-in, invitations opened by their token, API and service tokens (read before any organisation is
known) under row-level security (see conftest)."""

from tests.accounts.test_auth import *  # noqa: F403
from tests.accounts.test_invitations_and_tokens import *  # noqa: F403
from tests.orgs.test_service_tokens import *  # noqa: F403
