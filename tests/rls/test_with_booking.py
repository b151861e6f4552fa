"""Shared labs and partner bookings under row-level security: the partner's bookings are the lab
owner's rows, read and written across the two organisations (see tests/rls/conftest.py)."""

from tests.booking.test_shared import *  # noqa: F403
