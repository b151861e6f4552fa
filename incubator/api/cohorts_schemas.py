"""The cohorts API's shared fields (bounded text, counts, ids, enums, ``YYYY-MM`` periods) and the schemas of
programmes, cohorts, enrolments, milestone templates and custom KPIs; startups, check-ins and milestones keep
their schemas next to their operations."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask_smorest.fields import Upload
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from incubator.cohorts import access
from incubator.cohorts.models import (
    Enrolment,
    EnrolmentStatus,
    Frequency,
    KpiType,
    ProgrammeKind,
    ResourceKind,
    Stage,
    Startup,
)

MAX_INT = 2**31 - 1


# -- shared fields ---------------------------------------------------------------------------------

def no_nul(value: str) -> None:
    if "\x00" in value:
        raise ValidationError("Must not contain NUL characters.")


def text(limit: int, **kwargs: Any) -> fields.String:
    """A string of at most ``limit`` characters without NUL (PostgreSQL refuses them)."""
    return fields.String(validate=[validate.Length(max=limit), no_nul], **kwargs)


def count(**kwargs: Any) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=0, max=MAX_INT), **kwargs)


def ident(**kwargs: Any) -> fields.Integer:
    """A row id (in a query string too, hence not ``strict``)."""
    return fields.Integer(validate=validate.Range(min=1, max=MAX_INT), **kwargs)


def one_of(enum: Any, **kwargs: Any) -> fields.String:
    values = [item.value for item in enum]
    metadata = {"enum": values, **kwargs.pop("metadata", {})}
    return fields.String(validate=validate.OneOf(values), metadata=metadata, **kwargs)


PERIOD_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class Period(fields.Field):
    """A month ``YYYY-MM``, loaded as its first day."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> date:
        match = PERIOD_RE.match(value) if isinstance(value, str) else None
        if not match:
            raise ValidationError("Use the form YYYY-MM.")
        return date(int(match.group(1)), int(match.group(2)), 1)

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> Any:
        return value.strftime("%Y-%m") if value else None


# -- schemas ---------------------------------------------------------------------------------------

class ProgrammeIn(Schema):
    class Meta:
        unknown = EXCLUDE

    name = text(255, required=True)
    kind = one_of(ProgrammeKind, load_default=ProgrammeKind.INCUBATION.value)
    description = text(5000, load_default="")


class ProgrammePatch(Schema):
    class Meta:
        unknown = EXCLUDE

    name = text(255)
    kind = one_of(ProgrammeKind)
    description = text(5000)


class ProgrammeOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    description = fields.String(required=True)


class CohortOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    programme = fields.String(required=True)
    programme_id = fields.Integer(required=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    capacity = fields.Integer(allow_none=True)
    checkin_frequency = fields.String(required=True)
    mentoring_hours_per_startup = fields.Integer(required=True)
    lab_credit_hours = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    funders = fields.List(fields.String(), required=True)
    funder_user_ids = fields.List(fields.Integer(), required=True)
    funder_org_ids = fields.List(fields.Integer(), required=True)


class CohortPatch(Schema):
    class Meta:
        unknown = EXCLUDE

    programme_id = ident()
    name = text(255)
    starts_on = fields.Date()
    ends_on = fields.Date()
    capacity = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=1, max=MAX_INT),
                              metadata={"description": "How many startups at most; null for no limit"})
    checkin_frequency = one_of(Frequency)
    mentoring_hours_per_startup = count()
    lab_credit_hours = fields.Dict(keys=fields.String(validate=validate.OneOf([k.value for k in ResourceKind])),
                                   values=count(), metadata={"description": "Hours per resource kind"})
    funder_user_ids = fields.List(ident(), metadata={"description": "Members with the funder role"})
    funder_org_ids = fields.List(ident(), metadata={"description": "Funding organisations"})


class CohortIn(CohortPatch):
    programme_id = ident(required=True)
    name = text(255, required=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)


class CohortsQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    programme = ident(metadata={"description": "Only this programme's cohorts"})
    status = fields.String(validate=validate.OneOf(access.COHORT_STATUSES),
                           metadata={"enum": list(access.COHORT_STATUSES),
                                     "description": "upcoming, running or ended, by the cohort's dates"})


class CohortStartupsQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    q = text(100, metadata={"description": "Text in the startup's name"})
    stage = one_of(Stage)
    status = one_of(EnrolmentStatus, metadata={"description": "Enrolment status in this cohort"})


class StartupOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    legal_name = fields.String(allow_none=True)
    registration_number = fields.String(allow_none=True)
    sector = fields.String(required=True)
    stage = fields.String(required=True)
    origin = fields.String(required=True)
    is_st_enterprise = fields.Boolean(required=True)
    status = fields.String(metadata={"description": "Enrolment status in the cohort, when listed by cohort"})
    enrolment_id = fields.Integer(metadata={"description": "The enrolment, when listed by cohort"})


class LockIn(Schema):
    class Meta:
        unknown = EXCLUDE

    period = Period(required=True, metadata={"type": "string", "description": "YYYY-MM", "example": "2026-03"})


class CountOut(Schema):
    count = fields.Integer(required=True, metadata={"description": "How many rows the action changed"})


class EnrolIn(Schema):
    class Meta:
        unknown = EXCLUDE

    startup_id = ident(required=True)
    enrolled_on = fields.Date(load_default=None, metadata={"description": "Today when left out"})


class EnrolmentPatch(Schema):
    class Meta:
        unknown = EXCLUDE

    status = one_of(EnrolmentStatus, required=True)
    reason = text(500, load_default=None, allow_none=True,
                  metadata={"description": "Required when withdrawing"})


class EnrolmentOut(Schema):
    id = fields.Integer(required=True)
    cohort_id = fields.Integer(required=True)
    startup_id = fields.Integer(required=True)
    status = fields.String(required=True)
    enrolled_on = fields.Date(required=True)
    status_changed_on = fields.Date(allow_none=True)
    status_reason = fields.String(allow_none=True)


class TemplateIn(Schema):
    class Meta:
        unknown = EXCLUDE

    title = text(255, required=True)
    due_on = fields.Date(required=True)


class TemplateOut(Schema):
    id = fields.Integer(required=True)
    cohort_id = fields.Integer(required=True)
    title = fields.String(required=True)
    due_on = fields.Date(required=True)
    added = fields.Integer(metadata={"description": "Startups that got the milestone (on create)"})


class KpiIn(Schema):
    class Meta:
        unknown = EXCLUDE

    key = fields.String(required=True, validate=[validate.Length(max=40), validate.Regexp(r"^[a-z][a-z0-9_]*$")],
                        metadata={"description": "Lowercase letters, digits and underscores, e.g. export_markets"})
    name = text(120, required=True)
    unit = text(40, load_default="")
    type = one_of(KpiType, load_default=KpiType.INTEGER.value)


class KpiPatch(Schema):
    class Meta:
        unknown = EXCLUDE

    active = fields.Boolean(required=True, metadata={"description": "Whether startups are asked for it"})


class KpiOut(Schema):
    id = fields.Integer(required=True)
    key = fields.String(required=True)
    name = fields.String(required=True)
    unit = fields.String(required=True)
    type = fields.String(required=True)
    active = fields.Boolean(required=True)


def startup_out(startup: Startup, enrolment: Enrolment | None = None) -> dict[str, Any]:
    out = {name: getattr(startup, name) for name in ("id", "name", "legal_name", "registration_number", "sector",
                                                     "is_st_enterprise")}
    out.update(stage=str(startup.stage), origin=str(startup.origin))
    if enrolment is not None:
        out.update(status=str(enrolment.status), enrolment_id=enrolment.id)
    return out


class EvidenceFileIn(Schema):
    class Meta:
        unknown = EXCLUDE

    file = Upload(required=True, metadata={"description": "The file (multipart/form-data)"})
