"""Resources, availability and bookings over the API (the same rules as the pages)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any

from flask import abort, g
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import or_, select

from incubator.api import api_blueprint, error_responses
from incubator.booking import services, sharing
from incubator.booking.access import booking_refusal
from incubator.booking.billing import Money, MoneyState, money_for
from incubator.booking.inputs import HORIZON
from incubator.booking.models import Booking, BookingStatus, Resource
from incubator.core.errors import DomainError
from incubator.core.permissions import Permission
from incubator.core.tenancy import all_orgs
from incubator.extensions import db

bp = api_blueprint("api_booking", __name__, org=True, description="Lab resources and bookings")


def errors(*codes: tuple[int, str]) -> Any:
    return error_responses(bp, *codes)


NOT_FOUND = (404, "Not found, or not visible to the caller")


class ResourceOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    lab = fields.String(required=True)
    slot_minutes = fields.Integer(required=True)
    min_minutes = fields.Integer(required=True)
    max_minutes = fields.Integer(required=True)
    open_24h = fields.Boolean(required=True)
    needs_approval = fields.Boolean(required=True)
    training = fields.String(allow_none=True, metadata={"description": "The certification it requires, if any"})
    price_per_hour = fields.Integer(required=True, metadata={"description": "Your rate, minor currency units"})
    currency = fields.String(required=True)
    shared_by = fields.String(allow_none=True, metadata={"description": "The owner organisation of a shared resource"})


class AvailabilityQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    from_ = fields.AwareDateTime(required=True, data_key="from")
    to = fields.AwareDateTime(required=True)

    @validates_schema
    def _range(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data["to"] <= data["from_"]:
            raise ValidationError("must come after from", "to")
        if data["to"] - data["from_"] > timedelta(days=31):
            raise ValidationError("at most 31 days after from", "to")
        if abs(data["from_"] - datetime.now(UTC)) > HORIZON:  # and the calendar's ends would overflow
            raise ValidationError("within five years of now", "from")


class Interval(Schema):
    starts_at = fields.DateTime(required=True)
    ends_at = fields.DateTime(required=True)


class AvailabilityOut(Schema):
    free = fields.List(fields.Nested(Interval), required=True)


class BookingIn(Schema):
    class Meta:
        unknown = EXCLUDE

    resource_id = fields.Integer(required=True, strict=True)
    starts_at = fields.AwareDateTime(required=True, metadata={"description": "ISO 8601 with offset"})
    ends_at = fields.AwareDateTime(required=True)
    note = fields.String(load_default="", validate=validate.Length(max=500))


class BookingOut(Schema):
    id = fields.Integer(required=True)
    resource_id = fields.Integer(required=True)
    starts_at = fields.DateTime(required=True)
    ends_at = fields.DateTime(required=True)
    status = fields.String(required=True, metadata={"enum": [s.value for s in BookingStatus]})
    credit_minutes = fields.Integer(required=True)
    price = fields.Integer(required=True)
    currency = fields.String(required=True)
    hold_expires_at = fields.DateTime(allow_none=True)
    payment = fields.String(required=True, metadata={
        "enum": [s.value for s in MoneyState],
        "description": "paid (with a receipt), refunded, credits (covered by credits), to_pay, invoiced, or none"})
    amount_due = fields.Integer(required=True, metadata={"description": "What is still to pay, minor units"})


class MineQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    mine = fields.Boolean(load_default=False)


def _can_book() -> None:
    if not g.membership.has(Permission.BOOK_RESOURCES):
        abort(404)


def _resource_out(r: Resource, owner: Any = None, share: Any = None) -> dict[str, Any]:
    return {"id": r.id, "name": r.name, "kind": str(r.kind), "lab": r.lab.name, "slot_minutes": r.slot_minutes,
            "min_minutes": r.min_minutes, "max_minutes": r.max_minutes, "open_24h": r.open_24h,
            "needs_approval": share.needs_approval if share else r.needs_approval,
            "training": r.training.name if r.training else None,
            "price_per_hour": r.price_partner if share else r.price_member,
            "currency": owner.currency if owner else g.org.currency, "shared_by": owner.slug if owner else None}


def _own_or_shared(resource_id: int) -> tuple[Resource, Any, Any]:
    """A resource of this organisation, or one shared with it: (resource, share, owner)."""
    if not 0 < resource_id < 2**31:
        abort(404)
    own = db.session.execute(select(Resource).where(Resource.id == resource_id, Resource.org_id == g.org.id,
                                                    Resource.active.is_(True))).scalar_one_or_none()
    if own is not None:
        return own, None, g.org
    from incubator.booking.access import shared_or_404

    share, resource, owner = shared_or_404(resource_id)
    if not resource.active:
        abort(404)
    return resource, share, owner


def _booking_out(b: Booking, money: Money | None = None) -> dict[str, Any]:
    money = money or money_for(db.session, [b])[b.id]
    return {"id": b.id, "resource_id": b.resource_id, "starts_at": b.starts_at, "ends_at": b.ends_at,
            "status": str(b.status), "credit_minutes": b.credit_minutes, "price": b.price, "currency": b.currency,
            "hold_expires_at": b.hold_expires_at, "payment": str(money.state),
            "amount_due": money.amount if money.payable else 0}


@bp.route("/resources")
@bp.response(200, ResourceOut(many=True))
@errors(NOT_FOUND)
def list_resources() -> Any:
    _can_book()
    stmt = select(Resource).where(Resource.org_id == g.org.id, Resource.active.is_(True)).order_by(Resource.name)
    out = [_resource_out(r) for r in db.session.execute(stmt).scalars()]
    for share, resource, owner in sharing.shared_with(db.session, g.org):
        if resource.active:
            out.append(_resource_out(resource, owner, share))
    return out


def resolved_resource(view: Any) -> Any:
    """Find the resource (or 404) before the query string is even validated."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _can_book()
        g.resource, g.share, g.owner = _own_or_shared(kwargs["resource_id"])
        return view(*args, **kwargs)

    return wrapper


@bp.route("/resources/<int:resource_id>/availability")
@resolved_resource
@bp.arguments(AvailabilityQuery, location="query")
@bp.response(200, AvailabilityOut)
@errors(NOT_FOUND, (422, "Invalid range"))
def availability(query: dict[str, Any], resource_id: int) -> Any:
    resource = g.resource
    with all_orgs(db.session):
        free = services.free_intervals(db.session, g.owner, [resource], query["from_"], query["to"])[resource.id]
    return {"free": [{"starts_at": s, "ends_at": e} for s, e in free]}


@bp.route("/bookings", methods=["POST"])
@bp.arguments(BookingIn)
@bp.response(201, BookingOut)
@errors(NOT_FOUND, (403, "`no_startup`: only founders of a startup (and lab staff) book"),
        (409, "`slot_taken`: the time overlaps another booking; `too_many_holds`: as many bookings await "
              "payment as one person may hold; `hold_renewal`: this person's hold of the time ran out unpaid"),
        (422, "A booking rule said no; `code` says which (outside_opening_hours, training_required, too_long, "
              "too_short, too_far_ahead, too_late_notice, quota_exceeded, closed, not_on_slot, ...)"))
def create_booking(data: dict[str, Any]) -> Any:
    _can_book()
    refusal = booking_refusal(db.session, g.org, g.api_user, g.membership)
    if refusal is not None:
        raise refusal
    resource, share, owner = _own_or_shared(data["resource_id"])
    with all_orgs(db.session):  # a shared resource's bookings belong to its owner
        booking = services.create_booking(
            db.session, owner, resource, g.api_user, data["starts_at"], data["ends_at"], note=data["note"],
            is_staff=share is None and g.membership.has(Permission.MANAGE_RESOURCES), share=share)
    return _booking_out(booking)


@bp.route("/bookings")
@bp.arguments(MineQuery, location="query")
@bp.response(200, BookingOut(many=True))
@errors(NOT_FOUND)
def list_bookings(query: dict[str, Any]) -> Any:
    """Managers see the organisation's bookings; everyone (or ``mine=1``) their own, shared labs included."""
    if query["mine"] or not g.membership.has(Permission.MANAGE_RESOURCES):
        stmt = select(Booking).where(Booking.user_id == g.api_user.id, or_(
            Booking.org_id == g.org.id, Booking.partner_org_id == g.org.id)).execution_options(all_orgs=True)
    else:
        stmt = select(Booking).where(Booking.org_id == g.org.id)
    rows = list(db.session.execute(stmt.order_by(Booking.starts_at.desc()).limit(500)).scalars())
    money = money_for(db.session, rows)
    return [_booking_out(b, money[b.id]) for b in rows]


@bp.route("/bookings/<int:booking_id>/cancel", methods=["POST"])
@bp.response(200, BookingOut)
@errors(NOT_FOUND, (422, "Not cancellable"), (502, "A paid booking's refund failed: nothing was cancelled"))
def cancel(booking_id: int) -> Any:
    if not 0 < booking_id < 2**31:
        abort(404)
    booking = db.session.execute(select(Booking).where(Booking.id == booking_id, or_(
        Booking.org_id == g.org.id, Booking.partner_org_id == g.org.id)).execution_options(all_orgs=True)
    ).scalar_one_or_none()
    manager = booking is not None and booking.org_id == g.org.id and g.membership.has(Permission.MANAGE_RESOURCES)
    if booking is None or not (manager or booking.user_id == g.api_user.id):
        abort(404)
    if not booking.can_cancel(g.api_user, manager):
        raise DomainError("This booking cannot be cancelled.", code="not_cancellable")
    from incubator.booking import waitlist

    waitlist.cancel(db.session, booking, g.api_user, manager)
    return _booking_out(booking)
