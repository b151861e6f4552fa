"""Intake pages: one blueprint under /o/<org>, split by concept (manage, apply, review), and the
platform-wide list of open calls."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, g, render_template
from flask_babel import get_locale
from sqlalchemy import select

from incubator.accounts import landing
from incubator.core.db import utcnow
from incubator.core.tenancy import all_orgs, org_blueprint, signed_in
from incubator.core.timezones import to_local
from incubator.extensions import db
from incubator.intake import access, formspec
from incubator.intake.models import Application, Call, Recommendation, ReviewStatus, Stage

bp = org_blueprint("intake", __name__)
platform = Blueprint("intake_platform", __name__)


# A page of a person's own applications: they sign in, but need not be a member of the organisation
# (applying makes no one a member; accepting the application makes the team founders).
applicant_page = signed_in


def locale() -> str:
    return str(get_locale())


def org_now() -> datetime:
    return to_local(utcnow(), g.org.timezone)


def to_utc(local: datetime | None, tz_name: str) -> datetime | None:
    """A naive date and time typed in the organisation's time zone, as UTC."""
    if local is None:
        return None
    return local.replace(tzinfo=ZoneInfo(tz_name)).astimezone(UTC)


_LABELLED: dict[str, Callable[[str], str]] = {
    "stage": lambda v: Stage(v).label, "applicant_stage": lambda v: Stage(v).applicant_label,
    "recommendation": lambda v: Recommendation(v).label, "review_status": lambda v: ReviewStatus(v).label,
}
_VALUES = {"stage": Stage, "applicant_stage": Stage, "recommendation": Recommendation, "review_status": ReviewStatus}


@lru_cache(maxsize=32)
def _labels(kind: str, lang: str) -> dict[str, str]:
    """Every value's label of one kind in ``lang``, the current language when it is first asked: a
    list translates each label once per language, not once per cell."""
    return {value: _LABELLED[kind](value) for value in _VALUES[kind]}


def labels(kind: str) -> dict[str, str]:
    lang = get_locale()
    return _labels(kind, str(lang)) if lang is not None else {v: _LABELLED[kind](v) for v in _VALUES[kind]}


def _label(kind: str, value: str) -> str:
    found = labels(kind).get(value)
    return found if found is not None else _LABELLED[kind](value)  # not a value: as the enum says


@bp.app_template_filter("stage_label")
def stage_label(value: str) -> str:
    return _label("stage", value)


@bp.app_template_filter("applicant_stage")
def applicant_stage(value: str) -> str:
    return _label("applicant_stage", value)


@bp.app_template_filter("recommendation_label")
def recommendation_label(value: str | None) -> str:
    return labels("recommendation").get(value or "", "")


@bp.app_template_filter("review_status_label")
def review_status_label(value: str) -> str:
    return _label("review_status", value)


@bp.app_template_filter("qlabel")
def qlabel(question: dict[str, Any], field: str = "label") -> str:
    return formspec.label(question, locale(), field)


@bp.app_template_filter("qtype_label")
def qtype_label(value: str) -> str:
    return str(formspec.QUESTION_TYPES.get(value, value))


@bp.app_template_filter("option_label")
def option_label(value: str, question: dict[str, Any]) -> str:
    return formspec.option_label(question, value, locale())


@bp.app_template_filter("question_labels")
def question_labels(keys: list[str], questions: list[dict[str, Any]]) -> str:
    """The labels of these questions, in the reader's language (a key no longer asked stays a key)."""
    by_key = {q["key"]: q for q in questions}
    return ", ".join(formspec.label(by_key[k], locale()) if k in by_key else k for k in keys or [])


# The rules the templates need, from the one place they live (no rule is re-derived in a template).
for _name in ("may_apply", "may_manage", "may_score", "may_declare_conflict", "may_unassign",
              "may_decide"):
    bp.add_app_template_global(getattr(access, _name), f"intake_{_name}")


def open_calls_stmt() -> Any:
    now = utcnow()
    return (select(Call).where(Call.is_public.is_(True), Call.opens_at <= now, Call.closes_at > now)
            .order_by(Call.closes_at))


@platform.route("/calls")
def all_open_calls() -> Any:
    """Every organisation's public, open calls."""
    from incubator.orgs.models import Organisation

    session = db.session
    with all_orgs(session):  # the platform's list of every organisation's open calls, of those in use
        calls = session.execute(open_calls_stmt().join(Organisation, Organisation.id == Call.org_id).where(
            Organisation.suspended_at.is_(None), Organisation.deleted_at.is_(None))).scalars().all()
        orgs = {o.id: o for o in session.execute(select(Organisation).where(
            Organisation.id.in_({c.org_id for c in calls}))).scalars()} if calls else {}
    return render_template("intake/open_calls.html", calls=calls, orgs=orgs, platform_wide=True)


def dashboard_panels(session: Any, org: Any, membership: Any) -> dict[str, Any]:
    """What the organisation dashboard shows of intake, by role."""
    from sqlalchemy import func
    from sqlalchemy.orm import selectinload

    from incubator.core.permissions import Permission
    from incubator.intake.models import Application, Review, ReviewStatus

    panels: dict[str, Any] = {}
    if membership.has(Permission.MANAGE_PROGRAMMES):
        now = utcnow()
        calls = session.execute(select(Call).where(Call.org_id == org.id, Call.closes_at > now - timedelta(days=60))
                                .order_by(Call.closes_at).limit(5)).scalars().all()
        counts = dict(session.execute(select(Application.call_id, func.count()).where(
            Application.call_id.in_([c.id for c in calls]), Application.stage != Stage.DRAFT)
            .group_by(Application.call_id)).all()) if calls else {}
        panels["intake_calls"] = [(c, counts.get(c.id, 0)) for c in calls]
    if membership.has(Permission.APPLY):
        panels["intake_applications"] = session.execute(
            select(Application).where(Application.org_id == org.id, Application.applicant_id == membership.user_id)
            .options(selectinload(Application.call)).order_by(Application.created_at.desc())).scalars().all()
    if membership.has(Permission.REVIEW_APPLICATIONS):
        panels["intake_reviews"] = session.execute(
            select(func.count()).select_from(Review).where(Review.org_id == org.id,
                                                           Review.reviewer_id == membership.user_id,
                                                           Review.status == ReviewStatus.ASSIGNED)).scalar_one()
    return panels


from incubator.orgs.panels import PANEL_PROVIDERS  # noqa: E402

PANEL_PROVIDERS.append(dashboard_panels)


def applicant_home(session: Any, user: Any) -> str | None:
    """An applicant is not a member: their latest application's organisation is their home."""
    from flask import url_for

    from incubator.orgs.models import Organisation

    applied_to = session.execute(
        select(Organisation.slug).join(Application, Application.org_id == Organisation.id)
        .where(Application.applicant_id == user.id).order_by(Application.created_at.desc()).limit(1)
        .execution_options(all_orgs=True)).scalar()  # where a signed-in applicant last applied, in any organisation
    return url_for("intake.my_applications", org_slug=applied_to) if applied_to else None


landing.add_home_finder(landing.APPLICANT, applicant_home)

from incubator.intake import (  # noqa: E402,F401  (their routes)
    tasks,  # noqa: E402,F401  (the worker's schedule)
    views_apply,
    views_manage,
    views_review,
)
