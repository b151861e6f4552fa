"""Checkout and Stripe's webhooks (which name no organisation) under row-level security (see conftest)."""

from tests.payments.test_checkout import *  # noqa: F403
