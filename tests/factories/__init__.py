"""Small factories for the tests. They write through the test's session (see conftest)."""

from __future__ import annotations

from datetime import timedelta

import factory
from argon2 import PasswordHasher
from factory.alchemy import SQLAlchemyModelFactory

from incubator.accounts.models import User
from incubator.core.db import utcnow
from incubator.core.permissions import Role
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
    token_hash = factory.Sequence(lambda n: Invitation.hash(f"token-{n}"))
    expires_at = factory.LazyFunction(lambda: utcnow() + timedelta(days=14))


def member(org: Organisation, role: Role | str, **user_fields) -> User:
    """A new user with ``role`` in ``org``."""
    user = UserFactory(**user_fields)
    MembershipFactory(user=user, org=org, role=Role(role))
    return user
