"""A partner's payment for a booking of a shared lab, under row-level security (see conftest)."""

from tests.payments.test_shared_payments import *  # noqa: F403
