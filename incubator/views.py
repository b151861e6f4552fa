"""Pages outside any organisation: the home page, the health and readiness checks."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, request
from flask_login import current_user
from sqlalchemy import text

from incubator.extensions import db

bp = Blueprint("main", __name__)


@bp.route("/")
def index() -> Any:
    if current_user.is_authenticated:
        from incubator.accounts.landing import home_for

        return redirect(home_for(current_user))
    return render_template("index.html")


@bp.route("/healthz")
def healthz() -> Any:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any failure to reach the database
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


@bp.route("/readyz")
def readyz() -> Any:
    """200 when the database, Redis (if configured) and the file storage all answer; else 503 naming
    what is down. For a load balancer or an orchestrator: send traffic to this instance, or not yet."""
    from incubator.core.health import NOT_CONFIGURED, OK, readiness

    states = readiness(current_app._get_current_object())  # type: ignore[attr-defined]
    down = sorted(name for name, state in states.items() if state not in (OK, NOT_CONFIGURED))
    body = {"status": "unavailable" if down else "ok", "checks": states, "down": down}
    return jsonify(body), 503 if down else 200


@bp.route("/metrics")
def metrics() -> Any:
    """Prometheus' scrape: ``Authorization: Bearer $METRICS_TOKEN``; 401 otherwise, 404 while it is unset."""
    from incubator.core.metrics import answer

    status, headers, body = answer(current_app._get_current_object(),  # type: ignore[attr-defined]
                                   request.headers.get("Authorization"))
    return Response(body, status=status, headers=headers)
