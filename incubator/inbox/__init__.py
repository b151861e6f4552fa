"""The to-do inbox of a person (``services``): on the organisation's dashboard, as a count in the
navigation, and at ``GET /api/v1/me/todo``.

It reads every domain that gives people something to do, so it sits above them all; the domains know
nothing of it. ``init_app`` registers the dashboard's panel (``orgs.panels``) and the ``todo_count()``
Jinja global, computed once per request.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g
from flask_login import current_user


def todo_count() -> int:
    """How many things the signed-in member has to do in the current organisation (0 outside one),
    counted once per request."""
    if "todo_count" not in g:
        from incubator.extensions import db
        from incubator.inbox import services

        org, membership = g.get("org"), g.get("membership")
        if org is None or membership is None or not current_user.is_authenticated:
            g.todo_count = 0
        else:
            g.todo_count = services.count(services.Context.of(db.session, org, current_user, membership))
    return int(g.todo_count)


def dashboard_panels(session: Any, org: Any, membership: Any) -> dict[str, Any]:
    from incubator.inbox import services

    groups = services.groups(services.Context.of(session, org, membership.user, membership))
    g.todo_count = sum(group.count for group in groups)  # the navigation's count, without counting again
    return {"todo": groups}


def init_app(app: Flask) -> None:
    from incubator.orgs.panels import PANEL_PROVIDERS

    app.add_template_global(todo_count, "todo_count")
    if dashboard_panels not in PANEL_PROVIDERS:
        PANEL_PROVIDERS.append(dashboard_panels)
