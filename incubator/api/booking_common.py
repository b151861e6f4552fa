"""The booking API's blueprint (``api_booking``) and what its operations share: the documented error
answers, the answer builders and the loaders that answer 404 before a body is read.

The operations live in ``incubator.api.booking`` (bookings, waitlist, read-outs), ``booking_resources``
(labs, resources, closures, shares) and ``booking_trainings`` (trainings, certifications); their schemas
in ``booking_schemas``.
"""

from __future__ import annotations

from datetime import datetime
from functools import wraps
from typing import Any

from flask import g, url_for
from flask_smorest.pagination import PaginationParameters

from incubator.api import api_blueprint, error_responses
from incubator.booking.access import booking_refusal
from incubator.booking.billing import Money, money_for
from incubator.booking.inputs import HORIZON
from incubator.booking.models import Booking, Lab, Resource
from incubator.booking.setup import RULE_NUMBERS
from incubator.core.errors import DomainError
from incubator.core.tenancy import get_or_404
from incubator.extensions import db

bp = api_blueprint("api_booking", __name__, org=True, description="Labs, resources, bookings and the waitlist")


def errors(*codes: tuple[int, str]) -> Any:
    return error_responses(bp, *codes)


NOT_FOUND = (404, "Not found, or not visible to the caller")
FORBIDDEN = (403, "The caller's role does not allow it")
INVALID = (422, "Invalid fields; `fields` names them")
MANAGERS = (403, "Only those who run the labs (`manage_resources`)")
BOOKERS = (403, "`not_allowed`: the role books nothing; `no_startup`: only founders of a startup (and lab staff) "
                "book")

# -- answers ----------------------------------------------------------------------------------------

def _resource_out(r: Resource, owner: Any = None, share: Any = None) -> dict[str, Any]:
    return {"id": r.id, "name": r.name, "kind": str(r.kind), "lab": r.lab.name, "slot_minutes": r.slot_minutes,
            "min_minutes": r.min_minutes, "max_minutes": r.max_minutes, "open_24h": r.open_24h,
            "needs_approval": share.needs_approval if share else r.needs_approval,
            "training": r.training.name if r.training else None,
            "price_per_hour": r.price_partner if share else r.price_member,
            "currency": owner.currency if owner else g.org.currency,
            "shared_by": owner.slug if owner is not None and owner.id != g.org.id else None,
            "photo_url": url_for("api_booking.get_photo", org=g.org.slug, resource_id=r.id, _external=True)
            if r.photo_key else None}


def _resource_detail(r: Resource, owner: Any = None, share: Any = None) -> dict[str, Any]:
    return {**_resource_out(r, owner, share), "lab_id": r.lab_id, "description": r.description, "active": r.active,
            "max_hours_per_week": r.max_hours_per_week, "training_id": r.training_id, "version": r.version,
            "hours": [{"weekday": h.weekday, "opens": h.opens, "closes": h.closes} for h in r.hours],
            **{name: getattr(r, name) for name in RULE_NUMBERS}}


def _booking_out(b: Booking, money: Money | None = None) -> dict[str, Any]:
    money = money or money_for(db.session, [b])[b.id]
    return {"id": b.id, "resource_id": b.resource_id, "user_id": b.user_id, "startup_id": b.startup_id,
            "partner_org_id": b.partner_org_id, "starts_at": b.starts_at, "ends_at": b.ends_at,
            "status": str(b.status), "credit_minutes": b.credit_minutes, "price": b.price, "currency": b.currency,
            "hold_expires_at": b.hold_expires_at, "checked_in_at": b.checked_in_at, "note": b.note,
            "payment": str(money.state), "amount_due": money.amount if money.payable else 0}


def _created(body: Any, endpoint: str, **values: Any) -> tuple[Any, int, dict[str, str]]:
    return body, 201, {"Location": url_for(endpoint, org=g.org.slug, **values)}


def _slice(rows: list[Any], params: PaginationParameters) -> list[Any]:
    """A page of a list computed in Python (a read-out), with its total for ``X-Pagination``."""
    params.item_count = len(rows)
    start = (params.page - 1) * params.page_size
    return rows[start:start + params.page_size]


def _refuse_booking() -> None:
    refusal = booking_refusal(db.session, g.org, g.api_user, g.membership)
    if refusal is not None:
        raise refusal


def _month(query: dict[str, Any]) -> Any:
    from incubator.core.tenancy import org_today

    today = org_today()
    if "month" not in query:
        return today.replace(day=1)
    month = datetime.strptime(query["month"], "%Y-%m").date()
    if abs(month - today) > HORIZON:
        raise DomainError("Choose a month within five years of now.", code="invalid_month",
                          fields={"month": "within five years of now"})
    return month


def found_first(**loaders: Any) -> Any:
    """Load the path's rows (or 404) before the body is even validated: another organisation's id
    answers 404 whatever the body."""

    def decorator(view: Any) -> Any:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            for arg, load in loaders.items():
                load(kwargs[arg])
            return view(*args, **kwargs)

        return wrapper

    return decorator


def _lab(lab_id: int) -> Lab:
    return get_or_404(Lab, lab_id)


def _booking(booking_id: int) -> Booking:
    return get_or_404(Booking, booking_id)
