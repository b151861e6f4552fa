"""Pages outside any organisation: the home page and the health check."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, redirect, render_template
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
