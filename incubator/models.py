"""Every domain's models, imported in one place for Alembic and the tests."""

from incubator.accounts.models import ApiToken, User
from incubator.core.db import Base
from incubator.orgs.models import Invitation, Membership, Organisation

__all__ = ["ApiToken", "Base", "Invitation", "Membership", "Organisation", "User"]
