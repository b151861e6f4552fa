"""Small factories for the tests. They write through the test's session (see conftest)."""

from __future__ import annotations

from datetime import date, timedelta

import factory
from argon2 import PasswordHasher
from factory.alchemy import SQLAlchemyModelFactory

from incubator.accounts.models import User
from incubator.core.db import utcnow
from incubator.core.permissions import Role
from incubator.core.tokens import hash_token
from incubator.orgs.models import Invitation, Membership, Organisation, OrgKind

PASSWORD = "correct horse battery staple"
_PASSWORD_HASH = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)  # as config.Testing


class _Session:
    current = None


def session_factory():
    if _Session.current is None:
        raise RuntimeError("factories need the `session` fixture")
    return _Session.current


class Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = session_factory
        sqlalchemy_session_persistence = "flush"


class OrgFactory(Base):
    class Meta:
        model = Organisation

    slug = factory.Sequence(lambda n: f"org-{n}")
    name = factory.Sequence(lambda n: f"Organisation {n}")
    kind = OrgKind.INCUBATOR
    timezone = "Asia/Ho_Chi_Minh"
    currency = "VND"
    default_locale = "vi"


class UserFactory(Base):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    name = factory.Sequence(lambda n: f"User {n}")
    password_hash = _PASSWORD_HASH
    locale = "en"
    email_verified_at = factory.LazyFunction(utcnow)  # an account in use (a new one: ``email_verified_at=None``)


class MembershipFactory(Base):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    org = factory.SubFactory(OrgFactory)
    role = Role.FOUNDER


class InvitationFactory(Base):
    class Meta:
        model = Invitation

    org_id = factory.LazyFunction(lambda: OrgFactory().id)
    email = factory.Sequence(lambda n: f"invitee{n}@example.org")
    role = Role.STAFF
    token_hash = factory.Sequence(lambda n: hash_token(f"token-{n}"))
    expires_at = factory.LazyFunction(lambda: utcnow() + timedelta(days=14))


def member(org: Organisation, role: Role | str, **user_fields) -> User:
    """A new user with ``role`` in ``org``."""
    user = UserFactory(**user_fields)
    MembershipFactory(user=user, org=org, role=Role(role))
    return user


# -- cohorts ---------------------------------------------------------------------------------------

from incubator.cohorts.models import (  # noqa: E402
    CheckIn,
    Cohort,
    Enrolment,
    Milestone,
    Programme,
    Startup,
    StartupFounder,
)


class ProgrammeFactory(Base):
    class Meta:
        model = Programme

    org_id = factory.LazyFunction(lambda: OrgFactory().id)
    name = factory.Sequence(lambda n: f"Programme {n}")


class CohortFactory(Base):
    class Meta:
        model = Cohort

    programme = factory.SubFactory(ProgrammeFactory)
    org_id = factory.SelfAttribute("programme.org_id")
    name = factory.Sequence(lambda n: f"Cohort {n}")
    starts_on = date(2026, 1, 1)
    ends_on = date(2026, 12, 31)


class StartupFactory(Base):
    class Meta:
        model = Startup

    org_id = factory.LazyFunction(lambda: OrgFactory().id)
    name = factory.Sequence(lambda n: f"Startup {n}")


def enrolled(cohort: Cohort, founder=None, **startup_fields) -> Startup:
    """A startup enrolled in ``cohort`` since it started, with ``founder`` if given."""
    startup = StartupFactory(org_id=cohort.org_id, **startup_fields)
    _Session.current.add(Enrolment(org_id=cohort.org_id, cohort=cohort, startup=startup, enrolled_on=cohort.starts_on))
    if founder is not None:
        _Session.current.add(StartupFounder(org_id=cohort.org_id, startup=startup, user=founder))
    _Session.current.flush()
    return startup


def checkin(startup: Startup, period: date, **values) -> CheckIn:
    record = CheckIn(org_id=startup.org_id, startup=startup, period=period, **values)
    _Session.current.add(record)
    _Session.current.flush()
    return record


def milestone(startup: Startup, title: str, due_on: date, status: str = "planned") -> Milestone:
    record = Milestone(org_id=startup.org_id, startup=startup, title=title, due_on=due_on, status=status)
    _Session.current.add(record)
    _Session.current.flush()
    return record
