"""Who may apply: the one rule the applicant's pages and the API share.

Applying does not make a member: anyone signed in applies to an organisation's calls, except its
own managers, staff and reviewers (a member whose role lacks ``APPLY``)."""

from __future__ import annotations

from typing import Any

from incubator.core.permissions import Permission


def may_apply(membership: Any) -> bool:
    """Whether the holder of ``membership`` (None: not a member) may apply to the organisation's calls."""
    return membership is None or membership.has(Permission.APPLY)
