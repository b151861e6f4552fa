"""Where a signed-in user lands after signing in (and on the home page).

Accounts sits below the domains that give a user a home (an organisation's dashboard for a member,
the applications page for an applicant), so it cannot ask them: they register a finder here when
their pages load (the app factory loads them all). A finder is ``fn(session, user) -> url | None``;
finders are tried by ``order`` and the first address found wins.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import url_for

from incubator.extensions import db

HomeFinder = Callable[[Any, Any], str | None]
HOME_FINDERS: list[tuple[int, HomeFinder]] = []

MEMBER, ADMIN, APPLICANT = 10, 20, 30  # the order: a member's organisation first, then the admin pages


def add_home_finder(order: int, finder: HomeFinder) -> None:
    if (order, finder) not in HOME_FINDERS:
        HOME_FINDERS.append((order, finder))
        HOME_FINDERS.sort(key=lambda pair: pair[0])


def home_for(user: Any) -> str:
    for _order, finder in HOME_FINDERS:
        found = finder(db.session, user)
        if found:
            return found
    return url_for("accounts.no_org")


def _platform_admin(_session: Any, user: Any) -> str | None:
    return url_for("admin.index") if user.is_admin else None


add_home_finder(ADMIN, _platform_admin)
