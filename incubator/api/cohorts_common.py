"""The cohorts API's blueprint (``api_cohorts``) and what its operations share: the documented error answers,
the loaders that answer 404 before a body is read, ``Location`` headers, rows named in a body, file answers.

The operations live in ``incubator.api.cohorts`` (programmes, cohorts, enrolments, milestone templates,
custom KPIs), ``cohorts_startups`` (startups, founders), ``cohorts_checkins`` and ``cohorts_milestones``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import Any

from flask import abort, g, url_for
from sqlalchemy import select

from incubator.api import api_blueprint, error_responses
from incubator.cohorts.models import Enrolment, KpiDefinition, Programme
from incubator.core.db import utcnow
from incubator.core.errors import DomainError
from incubator.core.storage import storage
from incubator.core.tenancy import get_or_404
from incubator.core.timezones import to_local
from incubator.extensions import db

bp = api_blueprint("api_cohorts", __name__, org=True, description="Cohorts, startups, check-ins, milestones")

NOT_FOUND = (404, "Not found, or not visible to the caller")
FORBIDDEN = (403, "The caller's role does not allow this")
INVALID = (422, "Invalid fields; `fields` names them")


def errors(*codes: tuple[int, str]) -> Any:
    return error_responses(bp, *codes)


STALE = (412, "`If-Match` names an older version: read it again")


IMAGE_TYPES = ("image/png", "image/jpeg")
# What an evidence file may be (cohorts.progress.EVIDENCE_TYPES), served with its type.
EVIDENCE_MIMETYPES = ("application/pdf", *IMAGE_TYPES, "text/csv",
                      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _file_doc(what: str, types: tuple[str, ...] = EVIDENCE_MIMETYPES) -> dict[str, Any]:
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {"responses": {"200": {"description": what, "content": dict.fromkeys(types, binary)}}}


def resolved(param: str, loader: Callable[[int], Any]) -> Callable[[Any], Any]:
    """Load the row named in the path (404 if the caller may not see it) before the body is even
    parsed, so that another organisation's id answers 404 and never 422."""

    def decorator(view: Any) -> Any:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            loader(kwargs[param])
            return view(*args, **kwargs)

        return wrapper

    return decorator


def _programme_or_404(programme_id: int) -> Programme:
    return get_or_404(Programme, programme_id)


def _enrolment_or_404(enrolment_id: int) -> Enrolment:
    return get_or_404(Enrolment, enrolment_id)


def _kpi_or_404(kpi_definition_id: int) -> KpiDefinition:
    return get_or_404(KpiDefinition, kpi_definition_id)


def _today() -> date:
    return to_local(utcnow(), g.org.timezone).date()


def location(endpoint: str, **values: Any) -> dict[str, str]:
    return {"Location": url_for(f"api_cohorts.{endpoint}", org=g.org.slug, **values)}


def scoped(model: Any, row_id: int | None, field: str) -> Any:
    """A row of this organisation named in a request body, or a 422 naming the field."""
    if row_id is None:
        return None
    row = db.session.execute(select(model).where(model.id == row_id, model.org_id == g.org.id)).scalar_one_or_none()
    if row is None:
        raise DomainError("Not a valid choice.", fields={field: "Not a valid choice."})
    return row


def _send_evidence(key: str | None, name: str | None) -> Any:
    if not key:
        abort(404)
    return storage().send(key, as_attachment=True, download_name=name or key)
