"""A large matching run by a job, which sets the organisation its payload names, under row-level
security (see conftest)."""

from tests.mentoring.test_matching_job import *  # noqa: F403
