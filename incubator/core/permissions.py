"""Roles, named permissions, the role -> permissions map, and the ``@require`` decorator."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from typing import Any

from flask import abort, g
from flask_babel import lazy_gettext as _l


class Role(StrEnum):
    OWNER = "owner"
    MANAGER = "manager"
    STAFF = "staff"
    REVIEWER = "reviewer"
    MENTOR = "mentor"
    FOUNDER = "founder"
    FUNDER = "funder"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])


ROLE_LABELS = {
    Role.OWNER: _l("Owner"),
    Role.MANAGER: _l("Manager"),
    Role.STAFF: _l("Staff"),
    Role.REVIEWER: _l("Reviewer"),
    Role.MENTOR: _l("Mentor"),
    Role.FOUNDER: _l("Founder"),
    Role.FUNDER: _l("Funder"),
}


class Permission(StrEnum):
    VIEW_DASHBOARD = "view_dashboard"
    MANAGE_ORG = "manage_org"  # name, time zone, currency, locale
    MANAGE_MEMBERS = "manage_members"  # invite, change roles, remove
    ASSIGN_OWNER = "assign_owner"  # only owners hand out the owner role
    MANAGE_PROGRAMMES = "manage_programmes"
    REVIEW_APPLICATIONS = "review_applications"
    APPLY = "apply"
    MANAGE_COHORTS = "manage_cohorts"
    SUBMIT_CHECKINS = "submit_checkins"
    MANAGE_MENTORING = "manage_mentoring"
    MENTOR_STARTUPS = "mentor_startups"
    MANAGE_RESOURCES = "manage_resources"
    BOOK_RESOURCES = "book_resources"
    MANAGE_PAYMENTS = "manage_payments"
    VIEW_REPORTS = "view_reports"


_STAFF = {
    Permission.VIEW_DASHBOARD,
    Permission.MANAGE_PROGRAMMES,
    Permission.MANAGE_COHORTS,
    Permission.MANAGE_MENTORING,
    Permission.MANAGE_RESOURCES,
    Permission.VIEW_REPORTS,
    Permission.BOOK_RESOURCES,
}
_MANAGER = _STAFF | {Permission.MANAGE_ORG, Permission.MANAGE_MEMBERS, Permission.MANAGE_PAYMENTS}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(_MANAGER | {Permission.ASSIGN_OWNER}),
    Role.MANAGER: frozenset(_MANAGER),
    Role.STAFF: frozenset(_STAFF),
    Role.REVIEWER: frozenset({Permission.VIEW_DASHBOARD, Permission.REVIEW_APPLICATIONS}),
    Role.MENTOR: frozenset({Permission.VIEW_DASHBOARD, Permission.MENTOR_STARTUPS}),
    Role.FOUNDER: frozenset(
        {Permission.VIEW_DASHBOARD, Permission.APPLY, Permission.SUBMIT_CHECKINS, Permission.BOOK_RESOURCES}
    ),
    Role.FUNDER: frozenset({Permission.VIEW_DASHBOARD, Permission.VIEW_REPORTS}),
}


# The people who run the organisation: their pages carry the side navigation grouped by area.
STAFF_ROLES = frozenset({Role.OWNER, Role.MANAGER, Role.STAFF})


def role_has(role: Role | str, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[Role(role)]


def can(permission: Permission) -> bool:
    """Whether the current member of the current organisation holds ``permission``."""
    membership = g.get("membership")
    return membership is not None and role_has(membership.role, permission)


def runs_the_org() -> bool:
    """Whether the current member is one of the organisation's staff (owner, manager, staff)."""
    membership = g.get("membership")
    return membership is not None and Role(membership.role) in STAFF_ROLES


def require(*permissions: Permission) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Org views declare what they need; a member without it gets 403 (a non-member never gets here)."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not all(can(p) for p in permissions):
                abort(403)
            return view(*args, **kwargs)

        wrapper._permissions = permissions  # type: ignore[attr-defined]  # marker: the permissions the view needs
        return wrapper

    return decorator
