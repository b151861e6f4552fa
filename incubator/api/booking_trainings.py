"""Trainings and the certifications they grant, over the API (part of the ``api_booking`` blueprint)."""

from __future__ import annotations

from typing import Any

from flask import g
from flask_smorest.pagination import PaginationParameters
from sqlalchemy import select

from incubator.api.booking_common import INVALID, MANAGERS, NOT_FOUND, _created, bp, errors
from incubator.api.booking_schemas import (
    CertificationIn,
    CertificationOut,
    CertificationsQuery,
    NameQuery,
    TrainingIn,
    TrainingOut,
)
from incubator.api.paging import api_page
from incubator.booking import setup
from incubator.booking.models import Certification, Training
from incubator.core.pagination import text_filter
from incubator.core.permissions import Permission, require
from incubator.extensions import db

# -- trainings and certifications -------------------------------------------------------------------

@bp.route("/trainings")
@require(Permission.MANAGE_RESOURCES)
@bp.arguments(NameQuery, location="query")
@bp.response(200, TrainingOut(many=True))
@bp.paginate()
@errors(NOT_FOUND, MANAGERS)
def list_trainings(query: dict[str, Any], pagination_parameters: PaginationParameters) -> Any:
    stmt = select(Training).where(Training.org_id == g.org.id).order_by(Training.name, Training.id)
    if (match := text_filter(query.get("q"), Training.name)) is not None:
        stmt = stmt.where(match)
    return api_page(stmt, pagination_parameters)


@bp.route("/trainings", methods=["POST"])
@require(Permission.MANAGE_RESOURCES)
@bp.arguments(TrainingIn)
@bp.response(201, TrainingOut)
@errors(NOT_FOUND, MANAGERS, INVALID)
def create_training(data: dict[str, Any]) -> Any:
    training = setup.create_training(db.session, g.org, data["name"], str(data["validity_months"]))
    return _created(training, "api_booking.list_trainings")


@bp.route("/certifications")
@require(Permission.MANAGE_RESOURCES)
@bp.arguments(CertificationsQuery, location="query")
@bp.response(200, CertificationOut(many=True))
@bp.paginate()
@errors(NOT_FOUND, MANAGERS)
def list_certifications(query: dict[str, Any], pagination_parameters: PaginationParameters) -> Any:
    stmt = select(Certification).where(Certification.org_id == g.org.id).order_by(
        Certification.expires_on.desc(), Certification.id)
    if "training_id" in query:
        stmt = stmt.where(Certification.training_id == query["training_id"])
    if "user_id" in query:
        stmt = stmt.where(Certification.user_id == query["user_id"])
    return api_page(stmt, pagination_parameters)


@bp.route("/certifications", methods=["POST"])
@require(Permission.MANAGE_RESOURCES)
@bp.arguments(CertificationIn)
@bp.response(201, CertificationOut)
@errors(NOT_FOUND, MANAGERS, (422, "`training_id` or `user_id` names no training or member of this organisation"))
def grant_certification(data: dict[str, Any]) -> Any:
    """Certify a member for a training, from today for the training's validity."""
    from incubator.core.tenancy import org_today

    training, member = setup.certification_parties(db.session, g.org, data["training_id"], data["user_id"])
    record = setup.certify(db.session, training, member, g.api_user, org_today())
    return _created(record, "api_booking.list_certifications")
