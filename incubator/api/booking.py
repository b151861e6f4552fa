"""Labs, resources, bookings and the waitlist over the API: the same loaders and rules as the pages
(``booking.access``), the same service calls, the same error codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any

from flask import abort, g, url_for
from flask_smorest.pagination import PaginationParameters
from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import or_, select

from incubator.api import api_blueprint, error_responses
from incubator.api.paging import api_page
from incubator.booking import services, setup, sharing, usage, waitlist
from incubator.booking.access import (
    bookable_resource_or_404,
    booking_refusal,
    manages,
    resource_or_404,
    visible_booking_or_404,
    waitlist_entry_or_404,
)
from incubator.booking.billing import Money, MoneyState, money_for
from incubator.booking.inputs import HORIZON
from incubator.booking.models import (
    Booking,
    BookingStatus,
    Certification,
    Closure,
    Lab,
    Resource,
    ResourceShare,
    Training,
    WaitlistEntry,
)
from incubator.booking.setup import RULE_NUMBERS
from incubator.cohorts.models import ResourceKind
from incubator.core.db import get_required
from incubator.core.errors import DomainError
from incubator.core.pagination import text_filter
from incubator.core.permissions import Permission, require
from incubator.core.tenancy import all_orgs, get_or_404
from incubator.core.timezones import add_months
from incubator.core.versioning import check_if_match, etag_of
from incubator.extensions import db
from incubator.orgs.models import Membership, Organisation

bp = api_blueprint("api_booking", __name__, org=True, description="Labs, resources, bookings and the waitlist")


def errors(*codes: tuple[int, str]) -> Any:
    return error_responses(bp, *codes)


NOT_FOUND = (404, "Not found, or not visible to the caller")
FORBIDDEN = (403, "The caller's role does not allow it")
INVALID = (422, "Invalid fields; `fields` names them")
MANAGERS = (403, "Only those who run the labs (`manage_resources`)")
BOOKERS = (403, "`not_allowed`: the role books nothing; `no_startup`: only founders of a startup (and lab staff) "
                "book")


# -- schemas ----------------------------------------------------------------------------------------

class LabRowOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    site = fields.String(required=True)
    description = fields.String(required=True)


class LabIn(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    site = fields.String(load_default="", validate=validate.Length(max=255))
    description = fields.String(load_default="", validate=validate.Length(max=5000))


class LabPatch(LabIn):
    name = fields.String(validate=validate.Length(min=1, max=255))
    site = fields.String(validate=validate.Length(max=255))
    description = fields.String(validate=validate.Length(max=5000))


class NameQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    q = fields.String(validate=validate.Length(max=200), metadata={"description": "Text in the name"})


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


class HoursSchema(Schema):
    class Meta:
        unknown = RAISE

    weekday = fields.Integer(required=True, strict=True, validate=validate.Range(0, 6),
                             metadata={"description": "0 is Monday"})
    opens = fields.Time(required=True, format="%H:%M")
    closes = fields.Time(required=True, format="%H:%M")


class ResourceDetailOut(ResourceOut):
    """Everything the rules page shows; ``ETag`` answers the version for ``If-Match`` on PATCH."""

    lab_id = fields.Integer(required=True)
    description = fields.String(required=True)
    active = fields.Boolean(required=True)
    max_hours_per_week = fields.Integer(allow_none=True)
    training_id = fields.Integer(allow_none=True)
    hours = fields.List(fields.Nested(HoursSchema), required=True)
    version = fields.Integer(required=True)
    for _name in RULE_NUMBERS:
        locals()[_name] = fields.Integer(required=True)


class ResourceIn(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in ResourceKind]))


class RulesPatch(Schema):
    """Any of a resource's rules; what is left out stays as it is. ``hours`` replaces every day's opening
    hours (a weekday left out is closed)."""

    class Meta:
        unknown = RAISE

    name = fields.String(validate=validate.Length(min=1, max=255))
    kind = fields.String(validate=validate.OneOf([k.value for k in ResourceKind]))
    description = fields.String(validate=validate.Length(max=5000))
    max_hours_per_week = fields.Integer(strict=True, allow_none=True, validate=validate.Range(1, 168))
    training_id = fields.Integer(strict=True, allow_none=True, validate=validate.Range(1, 2**31 - 1))
    needs_approval = fields.Boolean()
    open_24h = fields.Boolean()
    active = fields.Boolean()
    hours = fields.List(fields.Nested(HoursSchema), validate=validate.Length(max=7))
    for _name, _largest in RULE_NUMBERS.items():
        locals()[_name] = fields.Integer(strict=True, validate=validate.Range(0, _largest))

    @validates_schema
    def _one_range_a_day(self, data: dict[str, Any], **_kwargs: Any) -> None:
        days = [h["weekday"] for h in data.get("hours", [])]
        if len(days) != len(set(days)):
            raise ValidationError("one range per weekday", "hours")


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


def _within_horizon(value: datetime) -> None:
    if abs(value - datetime.now(UTC)) > HORIZON:
        raise ValidationError("within five years of now")


class BookingIn(Schema):
    class Meta:
        unknown = EXCLUDE

    resource_id = fields.Integer(required=True, strict=True)
    starts_at = fields.AwareDateTime(required=True, validate=_within_horizon,
                                     metadata={"description": "ISO 8601 with offset"})
    ends_at = fields.AwareDateTime(required=True, validate=_within_horizon)
    note = fields.String(load_default="", validate=validate.Length(max=500))


class WeeklyIn(BookingIn):
    weeks = fields.Integer(required=True, strict=True, validate=validate.Range(1, 26),
                           metadata={"description": "The same time every week, this many weeks (1 to 26)"})
    skip_conflicts = fields.Boolean(load_default=False, metadata={
        "description": "Book the weeks that can be booked and list the others (else all or nothing)"})


class BookingOut(Schema):
    id = fields.Integer(required=True)
    resource_id = fields.Integer(required=True)
    user_id = fields.Integer(required=True)
    startup_id = fields.Integer(allow_none=True)
    partner_org_id = fields.Integer(allow_none=True, metadata={"description": "Booked from this partner"})
    starts_at = fields.DateTime(required=True)
    ends_at = fields.DateTime(required=True)
    status = fields.String(required=True, metadata={"enum": [s.value for s in BookingStatus]})
    credit_minutes = fields.Integer(required=True)
    price = fields.Integer(required=True)
    currency = fields.String(required=True)
    hold_expires_at = fields.DateTime(allow_none=True)
    checked_in_at = fields.DateTime(allow_none=True)
    note = fields.String(required=True)
    payment = fields.String(required=True, metadata={
        "enum": [s.value for s in MoneyState],
        "description": "paid (with a receipt), refunded, credits (covered by credits), to_pay, invoiced, or none"})
    amount_due = fields.Integer(required=True, metadata={"description": "What is still to pay, minor units"})


class Skipped(Schema):
    starts_at = fields.DateTime(required=True)
    code = fields.String(required=True)
    message = fields.String(required=True)


class WeeklyOut(Schema):
    bookings = fields.List(fields.Nested(BookingOut), required=True)
    skipped = fields.List(fields.Nested(Skipped), required=True)


class BookingsQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    mine = fields.Boolean(load_default=False, metadata={"description": "Only the caller's (managers see all)"})
    status = fields.String(validate=validate.OneOf([s.value for s in BookingStatus]))
    resource_id = fields.Integer(validate=validate.Range(1, 2**31 - 1))
    from_ = fields.AwareDateTime(data_key="from", validate=_within_horizon,
                                 metadata={"description": "Bookings ending after this"})
    to = fields.AwareDateTime(validate=_within_horizon, metadata={"description": "Bookings starting before this"})


class ApprovalIn(Schema):
    class Meta:
        unknown = RAISE

    decision = fields.String(required=True, validate=validate.OneOf(["approve", "decline"]))


class ClosureOut(Schema):
    id = fields.Integer(required=True)
    starts_at = fields.DateTime(required=True)
    ends_at = fields.DateTime(required=True)
    reason = fields.String(required=True)
    maintenance = fields.Boolean(required=True)


class ClosureIn(Schema):
    class Meta:
        unknown = RAISE

    starts_at = fields.AwareDateTime(required=True, validate=_within_horizon)
    ends_at = fields.AwareDateTime(required=True, validate=_within_horizon)
    reason = fields.String(load_default="", validate=validate.Length(max=255))
    maintenance = fields.Boolean(load_default=False)


class ShareOut(Schema):
    id = fields.Integer(required=True)
    partner_org = fields.String(required=True, metadata={"description": "The partner organisation's slug"})
    needs_approval = fields.Boolean(required=True)


class ShareIn(Schema):
    class Meta:
        unknown = RAISE

    partner_org = fields.String(required=True, validate=validate.Length(min=1, max=100))
    needs_approval = fields.Boolean(load_default=False)


class TrainingOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    validity_months = fields.Integer(required=True)


class TrainingIn(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    validity_months = fields.Integer(load_default=12, strict=True, validate=validate.Range(1, 120))


class CertificationOut(Schema):
    id = fields.Integer(required=True)
    training_id = fields.Integer(required=True)
    user_id = fields.Integer(required=True)
    certified_on = fields.Date(required=True)
    expires_on = fields.Date(required=True)


class CertificationIn(Schema):
    class Meta:
        unknown = RAISE

    training_id = fields.Integer(required=True, strict=True, validate=validate.Range(1, 2**31 - 1))
    user_id = fields.Integer(required=True, strict=True, validate=validate.Range(1, 2**31 - 1))


class CertificationsQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    training_id = fields.Integer(validate=validate.Range(1, 2**31 - 1))
    user_id = fields.Integer(validate=validate.Range(1, 2**31 - 1))


class WaitlistIn(Schema):
    class Meta:
        unknown = RAISE

    starts_at = fields.AwareDateTime(required=True, validate=_within_horizon)
    ends_at = fields.AwareDateTime(required=True, validate=_within_horizon)


class WaitlistOut(Schema):
    id = fields.Integer(required=True)
    resource_id = fields.Integer(required=True)
    starts_at = fields.DateTime(required=True)
    ends_at = fields.DateTime(required=True)
    status = fields.String(required=True, metadata={"enum": ["waiting", "offered", "done"]})
    booking_id = fields.Integer(allow_none=True, metadata={"description": "The booking held for the caller"})


class MonthQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    month = fields.String(validate=validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$"),
                          metadata={"description": "YYYY-MM; this month when left out"})


class PartnerUsageOut(Schema):
    partner_org_id = fields.Integer(required=True)
    partner_org = fields.String(required=True)
    bookings = fields.Integer(required=True)
    minutes = fields.Integer(required=True)
    amount = fields.Integer(required=True, metadata={"description": "Minor units of the owner's currency"})


class UsageOut(Schema):
    month = fields.String(required=True)
    resource_id = fields.Integer(required=True)
    startup_id = fields.Integer(allow_none=True)
    cohort_id = fields.Integer(allow_none=True)
    booked_minutes = fields.Integer(required=True)
    used_minutes = fields.Integer(required=True)


# -- answers ----------------------------------------------------------------------------------------

def _resource_out(r: Resource, owner: Any = None, share: Any = None) -> dict[str, Any]:
    return {"id": r.id, "name": r.name, "kind": str(r.kind), "lab": r.lab.name, "slot_minutes": r.slot_minutes,
            "min_minutes": r.min_minutes, "max_minutes": r.max_minutes, "open_24h": r.open_24h,
            "needs_approval": share.needs_approval if share else r.needs_approval,
            "training": r.training.name if r.training else None,
            "price_per_hour": r.price_partner if share else r.price_member,
            "currency": owner.currency if owner else g.org.currency,
            "shared_by": owner.slug if owner is not None and owner.id != g.org.id else None}


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


# -- labs -------------------------------------------------------------------------------------------

@bp.route("/labs")
@require(Permission.VIEW_DASHBOARD)
@bp.arguments(NameQuery, location="query")
@bp.response(200, LabRowOut(many=True))
@bp.paginate()
@errors(NOT_FOUND, FORBIDDEN)
def list_labs(query: dict[str, Any], pagination_parameters: PaginationParameters) -> Any:
    stmt = select(Lab).where(Lab.org_id == g.org.id).order_by(Lab.name, Lab.id)
    if (match := text_filter(query.get("q"), Lab.name)) is not None:
        stmt = stmt.where(match)
    return api_page(stmt, pagination_parameters)


@bp.route("/labs", methods=["POST"])
@require(Permission.MANAGE_RESOURCES)
@bp.arguments(LabIn)
@bp.response(201, LabRowOut)
@errors(NOT_FOUND, MANAGERS, INVALID)
def create_lab(data: dict[str, Any]) -> Any:
    lab = setup.create_lab(db.session, g.org, data["name"], data["site"])
    lab.description = data["description"]
    return _created(lab, "api_booking.get_lab", lab_id=lab.id)


@bp.route("/labs/<int:lab_id>")
@require(Permission.VIEW_DASHBOARD)
@bp.response(200, LabRowOut)
@errors(NOT_FOUND, FORBIDDEN)
def get_lab(lab_id: int) -> Any:
    return get_or_404(Lab, lab_id)


@bp.route("/labs/<int:lab_id>", methods=["PATCH"])
@require(Permission.MANAGE_RESOURCES)
@found_first(lab_id=_lab)
@bp.arguments(LabPatch)
@bp.response(200, LabRowOut)
@errors(NOT_FOUND, MANAGERS, INVALID)
def update_lab(data: dict[str, Any], lab_id: int) -> Any:
    lab = get_or_404(Lab, lab_id)
    setup.update_lab(db.session, lab, data)
    return lab


# -- resources --------------------------------------------------------------------------------------

@bp.route("/resources")
@require(Permission.VIEW_DASHBOARD)
@bp.arguments(NameQuery, location="query")
@bp.response(200, ResourceOut(many=True))
@bp.paginate()
@errors(NOT_FOUND, FORBIDDEN)
def list_resources(query: dict[str, Any], pagination_parameters: PaginationParameters) -> Any:
    """The active resources of the organisation, then those other organisations share with it (for
    members who book)."""
    shared = select(ResourceShare.resource_id).where(ResourceShare.partner_org_id == g.org.id)
    scope = Resource.org_id == g.org.id
    if g.membership.has(Permission.BOOK_RESOURCES):
        scope = or_(scope, Resource.id.in_(shared))
    stmt = (select(Resource).where(scope, Resource.active.is_(True))
            .order_by(Resource.org_id != g.org.id, Resource.name, Resource.id).execution_options(all_orgs=True))
    if (match := text_filter(query.get("q"), Resource.name)) is not None:
        stmt = stmt.where(match)
    out = []
    with all_orgs(db.session):  # a shared resource, its lab and owner belong to another organisation
        for resource in api_page(stmt, pagination_parameters):
            if resource.org_id == g.org.id:
                out.append(_resource_out(resource))
            else:
                share = sharing.share_for(db.session, g.org, resource.id)
                out.append(_resource_out(resource, db.session.get(Organisation, resource.org_id), share))
    return out


def resolved_resource(view: Any) -> Any:
    """Find the bookable resource (or 404) before the query string is even validated."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.resource, g.share, g.owner = bookable_resource_or_404(kwargs["resource_id"], g.membership)
        return view(*args, **kwargs)

    return wrapper


@bp.route("/resources/<int:resource_id>")
@require(Permission.VIEW_DASHBOARD)
@bp.response(200, ResourceDetailOut)
@errors(NOT_FOUND, FORBIDDEN)
def get_resource(resource_id: int) -> Any:
    """A resource of the organisation (with ``ETag``), or an active one shared with it."""
    own = db.session.execute(select(Resource).where(Resource.id == resource_id, Resource.org_id == g.org.id)
                             ).scalar_one_or_none() if 0 < resource_id < 2**31 else None
    if own is not None:
        return _resource_detail(own), 200, {"ETag": etag_of(own)}
    resource, share, owner = bookable_resource_or_404(resource_id, g.membership)
    with all_orgs(db.session):
        return _resource_detail(resource, owner, share)


@bp.route("/labs/<int:lab_id>/resources", methods=["POST"])
@require(Permission.MANAGE_RESOURCES)
@found_first(lab_id=_lab)
@bp.arguments(ResourceIn)
@bp.response(201, ResourceDetailOut)
@errors(NOT_FOUND, MANAGERS, INVALID)
def create_resource(data: dict[str, Any], lab_id: int) -> Any:
    """A new resource, not bookable until its rules are set (weekdays 8:00-17:00)."""
    lab = get_or_404(Lab, lab_id)
    resource = setup.create_resource(db.session, lab, data["name"], data["kind"])
    body, status, headers = _created(_resource_detail(resource), "api_booking.get_resource", resource_id=resource.id)
    return body, status, {**headers, "ETag": etag_of(resource)}


@bp.route("/resources/<int:resource_id>", methods=["PATCH"])
@require(Permission.MANAGE_RESOURCES)
@found_first(resource_id=resource_or_404)
@bp.arguments(RulesPatch)
@bp.response(200, ResourceDetailOut)
@errors(NOT_FOUND, MANAGERS, (412, "`stale`: `If-Match` names an older version"),
        (422, "Invalid fields, or rules that disagree (e.g. `max_minutes` below `min_minutes`); `fields` names them"))
def update_resource(data: dict[str, Any], resource_id: int) -> Any:
    """Change any of the resource's settings and rules (as its rules page does), checked as a whole."""
    resource = resource_or_404(resource_id)
    check_if_match(resource)
    if "hours" in data:
        data["hours"] = [(h["weekday"], h["opens"], h["closes"]) for h in data["hours"]]
    setup.save_rules(db.session, resource, data)
    return _resource_detail(resource), 200, {"ETag": etag_of(resource)}


@bp.route("/resources/<int:resource_id>/availability")
@require(Permission.VIEW_DASHBOARD)
@resolved_resource
@bp.arguments(AvailabilityQuery, location="query")
@bp.response(200, AvailabilityOut)
@errors(NOT_FOUND, FORBIDDEN, (422, "Invalid range"))
def availability(query: dict[str, Any], resource_id: int) -> Any:
    resource = g.resource
    with all_orgs(db.session):
        free = services.free_intervals(db.session, g.owner, [resource], query["from_"], query["to"])[resource.id]
    return {"free": [{"starts_at": s, "ends_at": e} for s, e in free]}


# -- closures and shares ----------------------------------------------------------------------------

@bp.route("/resources/<int:resource_id>/closures")
@require(Permission.MANAGE_RESOURCES)
@bp.response(200, ClosureOut(many=True))
@bp.paginate()
@errors(NOT_FOUND, MANAGERS)
def list_closures(resource_id: int, pagination_parameters: PaginationParameters) -> Any:
    resource = resource_or_404(resource_id)
    return api_page(select(Closure).where(Closure.resource_id == resource.id)
                    .order_by(Closure.starts_at.desc(), Closure.id), pagination_parameters)


@bp.route("/resources/<int:resource_id>/closures", methods=["POST"])
@require(Permission.MANAGE_RESOURCES)
@found_first(resource_id=resource_or_404)
@bp.arguments(ClosureIn)
@bp.response(201, ClosureOut)
@errors(NOT_FOUND, MANAGERS, INVALID)
def create_closure(data: dict[str, Any], resource_id: int) -> Any:
    resource = resource_or_404(resource_id)
    closure = setup.close(db.session, g.org, resource, data["starts_at"], data["ends_at"], data["reason"],
                          data["maintenance"], fields=("starts_at", "ends_at"))
    return _created(closure, "api_booking.list_closures", resource_id=resource.id)


@bp.route("/resources/<int:resource_id>/closures/<int:closure_id>", methods=["DELETE"])
@require(Permission.MANAGE_RESOURCES)
@bp.response(204)
@errors(NOT_FOUND, MANAGERS)
def delete_closure(resource_id: int, closure_id: int) -> Any:
    resource = resource_or_404(resource_id)
    closure = get_or_404(Closure, closure_id)
    if closure.resource_id != resource.id:
        abort(404)
    setup.remove_closure(db.session, resource, closure)
    return None


def _share_out(share: ResourceShare) -> dict[str, Any]:
    partner = get_required(db.session, Organisation, share.partner_org_id)
    return {"id": share.id, "partner_org": partner.slug, "needs_approval": share.needs_approval}


@bp.route("/resources/<int:resource_id>/shares")
@require(Permission.MANAGE_RESOURCES)
@bp.response(200, ShareOut(many=True))
@bp.paginate()
@errors(NOT_FOUND, MANAGERS)
def list_shares(resource_id: int, pagination_parameters: PaginationParameters) -> Any:
    resource = resource_or_404(resource_id)
    rows = api_page(select(ResourceShare).where(ResourceShare.resource_id == resource.id)
                    .order_by(ResourceShare.id), pagination_parameters)
    return [_share_out(share) for share in rows]


@bp.route("/resources/<int:resource_id>/shares", methods=["POST"])
@require(Permission.MANAGE_RESOURCES)
@found_first(resource_id=resource_or_404)
@bp.arguments(ShareIn)
@bp.response(201, ShareOut)
@errors(NOT_FOUND, MANAGERS, (422, "`partner_org`: no such organisation, or this one"))
def create_share(data: dict[str, Any], resource_id: int) -> Any:
    """Share the resource with a partner organisation at the partner rate (again: change its approval)."""
    resource = resource_or_404(resource_id)
    partner = db.session.execute(select(Organisation).where(Organisation.slug == data["partner_org"])
                                 ).scalar_one_or_none()
    if partner is None:
        raise DomainError("No such organisation.", code="invalid", fields={"partner_org": "No such organisation."})
    try:
        setup.set_share(db.session, resource, partner, share=True, needs_approval=data["needs_approval"])
    except DomainError as error:
        raise DomainError(error.message, code=error.code, fields={"partner_org": error.message}) from error
    share = db.session.execute(select(ResourceShare).where(
        ResourceShare.resource_id == resource.id, ResourceShare.partner_org_id == partner.id)).scalar_one()
    return _created(_share_out(share), "api_booking.list_shares", resource_id=resource.id)


@bp.route("/resources/<int:resource_id>/shares/<int:resource_share_id>", methods=["DELETE"])
@require(Permission.MANAGE_RESOURCES)
@bp.response(204)
@errors(NOT_FOUND, MANAGERS)
def delete_share(resource_id: int, resource_share_id: int) -> Any:
    """Stop sharing: the partner can no longer book it (its bookings stay)."""
    resource = resource_or_404(resource_id)
    share = get_or_404(ResourceShare, resource_share_id)
    if share.resource_id != resource.id:
        abort(404)
    partner = get_required(db.session, Organisation, share.partner_org_id)
    setup.set_share(db.session, resource, partner, share=False, needs_approval=False)
    return None


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

    training = db.session.execute(select(Training).where(Training.id == data["training_id"],
                                                         Training.org_id == g.org.id)).scalar_one_or_none()
    member = db.session.execute(select(Membership).where(Membership.org_id == g.org.id,
                                                         Membership.user_id == data["user_id"])).scalar_one_or_none()
    if training is None or member is None:
        field = "training_id" if training is None else "user_id"
        raise DomainError("Not a valid choice.", code="invalid", fields={field: "Not a valid choice."})
    record = setup.certify(db.session, training, member, g.api_user, org_today())
    return _created(record, "api_booking.list_certifications")


# -- read-outs --------------------------------------------------------------------------------------

@bp.route("/partner-usage")
@require(Permission.MANAGE_RESOURCES)
@bp.arguments(MonthQuery, location="query")
@bp.response(200, PartnerUsageOut(many=True))
@bp.paginate()
@errors(NOT_FOUND, MANAGERS, (422, "Invalid month"))
def partner_usage(query: dict[str, Any], pagination_parameters: PaginationParameters) -> Any:
    """The month's usage statement per partner organisation (what the partner-usage page shows)."""
    lines = sharing.partner_statement(db.session, g.org, _month(query))
    slugs = dict(db.session.execute(select(Organisation.id, Organisation.slug).where(
        Organisation.id.in_([line["partner_org_id"] for line in lines]))).all())
    return _slice([{**line, "partner_org": slugs.get(line["partner_org_id"], "")} for line in lines],
                  pagination_parameters)


@bp.route("/utilisation")
@require(Permission.MANAGE_RESOURCES)
@bp.arguments(MonthQuery, location="query")
@bp.response(200, UsageOut(many=True))
@bp.paginate()
@errors(NOT_FOUND, MANAGERS, (422, "Invalid month"))
def utilisation(query: dict[str, Any], pagination_parameters: PaginationParameters) -> Any:
    """Minutes booked and used in the month per resource, startup and cohort (the utilisation page)."""
    month = _month(query)
    return _slice(usage.utilisation(db.session, g.org, month, add_months(month, 1)), pagination_parameters)


# -- bookings ---------------------------------------------------------------------------------------

BOOKING_REFUSALS = (
    (409, "`slot_taken`: the time overlaps another booking; `too_many_holds`: as many bookings await "
          "payment as one person may hold; `hold_renewal`: this person's hold of the time ran out unpaid"),
    (422, "A booking rule said no; `code` says which (outside_opening_hours, training_required, too_long, "
          "too_short, too_far_ahead, too_late_notice, quota_exceeded, closed, not_on_slot, ...)"),
)


@bp.route("/bookings", methods=["POST"])
@require(Permission.BOOK_RESOURCES)
@bp.arguments(BookingIn)
@bp.response(201, BookingOut)
@errors(NOT_FOUND, BOOKERS, *BOOKING_REFUSALS)
def create_booking(data: dict[str, Any]) -> Any:
    _refuse_booking()
    resource, share, owner = bookable_resource_or_404(data["resource_id"], g.membership)
    with all_orgs(db.session):  # a shared resource's bookings belong to its owner
        booking = services.create_booking(
            db.session, owner, resource, g.api_user, data["starts_at"], data["ends_at"], note=data["note"],
            is_staff=share is None and g.membership.has(Permission.MANAGE_RESOURCES), share=share)
        body = _booking_out(booking)
    return _created(body, "api_booking.get_booking", booking_id=booking.id)


@bp.route("/bookings/weekly", methods=["POST"])
@require(Permission.BOOK_RESOURCES)
@bp.arguments(WeeklyIn)
@bp.response(201, WeeklyOut)
@errors(NOT_FOUND, BOOKERS, *BOOKING_REFUSALS)
def create_weekly(data: dict[str, Any]) -> Any:
    """The same time every week (as the booking page offers): all or nothing, or skipping the weeks that
    cannot be booked (each listed with its reason). A resource of this organisation only."""
    _refuse_booking()
    resource = resource_or_404(data["resource_id"])
    made, skipped = services.create_weekly(
        db.session, g.org, resource, g.api_user, data["starts_at"], data["ends_at"], data["weeks"],
        skip_conflicts=data["skip_conflicts"], is_staff=g.membership.has(Permission.MANAGE_RESOURCES),
        note=data["note"])
    if not made:
        raise skipped[0][1]
    money = money_for(db.session, made)
    body = {"bookings": [_booking_out(b, money[b.id]) for b in made],
            "skipped": [{"starts_at": start, "code": error.code, "message": error.message}
                        for start, error in skipped]}
    return _created(body, "api_booking.get_booking", booking_id=made[0].id)


@bp.route("/bookings")
@require(Permission.VIEW_DASHBOARD)
@bp.arguments(BookingsQuery, location="query")
@bp.response(200, BookingOut(many=True))
@bp.paginate()
@errors(NOT_FOUND, FORBIDDEN)
def list_bookings(query: dict[str, Any], pagination_parameters: PaginationParameters) -> Any:
    """Those who run the labs see the organisation's bookings; everyone (or ``mine=1``) their own, shared
    labs included. Filters: ``status``, ``resource_id``, and bookings overlapping ``from``/``to``."""
    if query["mine"] or not g.membership.has(Permission.MANAGE_RESOURCES):
        stmt = select(Booking).where(Booking.user_id == g.api_user.id, or_(
            Booking.org_id == g.org.id, Booking.partner_org_id == g.org.id)).execution_options(all_orgs=True)
    else:
        stmt = select(Booking).where(Booking.org_id == g.org.id)
    if "status" in query:
        stmt = stmt.where(Booking.status == query["status"])
    if "resource_id" in query:
        stmt = stmt.where(Booking.resource_id == query["resource_id"])
    if "from_" in query:
        stmt = stmt.where(Booking.ends_at > query["from_"])
    if "to" in query:
        stmt = stmt.where(Booking.starts_at < query["to"])
    rows = api_page(stmt.order_by(Booking.starts_at.desc(), Booking.id.desc()), pagination_parameters)
    money = money_for(db.session, rows)
    return [_booking_out(b, money[b.id]) for b in rows]


@bp.route("/bookings/<int:booking_id>")
@require(Permission.VIEW_DASHBOARD)
@bp.response(200, BookingOut)
@errors(NOT_FOUND, FORBIDDEN)
def get_booking(booking_id: int) -> Any:
    """A booking the caller may see: their own, or any of the labs they run."""
    return _booking_out(visible_booking_or_404(booking_id, g.api_user, g.membership))


@bp.route("/bookings/<int:booking_id>/cancel", methods=["POST"])
@require(Permission.VIEW_DASHBOARD)
@bp.response(200, BookingOut)
@errors(NOT_FOUND, FORBIDDEN, (422, "Not cancellable"),
        (502, "A paid booking's refund failed: nothing was cancelled"))
def cancel(booking_id: int) -> Any:
    """Cancel; the freed time is offered to the waitlist (``waitlist.cancel``, as on the pages)."""
    booking = visible_booking_or_404(booking_id, g.api_user, g.membership)
    waitlist.cancel(db.session, booking, g.api_user, manages(g.membership, booking))
    return _booking_out(booking)


@bp.route("/bookings/<int:booking_id>/approval", methods=["POST"])
@require(Permission.MANAGE_RESOURCES)
@found_first(booking_id=_booking)
@bp.arguments(ApprovalIn)
@bp.response(200, BookingOut)
@errors(NOT_FOUND, MANAGERS, (422, "`not_pending`: the booking does not wait for approval; or an invalid decision"))
def decide_approval(data: dict[str, Any], booking_id: int) -> Any:
    """Approve (confirmed, or awaiting payment when priced) or decline a booking waiting for approval."""
    booking = _booking(booking_id)
    services.decide_approval(booking, data["decision"] == "approve")
    return _booking_out(booking)


@bp.route("/bookings/<int:booking_id>/check-in", methods=["POST"])
@require(Permission.VIEW_DASHBOARD)
@bp.response(200, BookingOut)
@errors(NOT_FOUND, (403, "`not_yours`: someone else's booking"),
        (422, "`not_confirmed`, or `not_now`: from 15 minutes before the start until the end"))
def check_in(booking_id: int) -> Any:
    booking = visible_booking_or_404(booking_id, g.api_user, g.membership)
    services.check_in(booking, g.api_user, manages(g.membership, booking))
    return _booking_out(booking)


@bp.route("/bookings/<int:booking_id>/take", methods=["POST"])
@require(Permission.BOOK_RESOURCES)
@bp.response(200, BookingOut)
@errors(NOT_FOUND, BOOKERS, (422, "`not_held`: nothing is held for the caller; `hold_expired`: the hold ran out"))
def take(booking_id: int) -> Any:
    """Take the slot the waitlist held for the caller: confirmed, or awaiting payment when priced."""
    _refuse_booking()
    booking = visible_booking_or_404(booking_id, g.api_user, g.membership)
    if booking.user_id != g.api_user.id:  # a manager sees it, but it is held for its booker
        abort(404)
    waitlist.take_held(booking, g.api_user)
    return _booking_out(booking)


# -- waitlist ---------------------------------------------------------------------------------------

@bp.route("/waitlist")
@require(Permission.VIEW_DASHBOARD)
@bp.response(200, WaitlistOut(many=True))
@bp.paginate()
@errors(NOT_FOUND, FORBIDDEN)
def list_waitlist(pagination_parameters: PaginationParameters) -> Any:
    """The caller's places in this organisation's waitlists."""
    return api_page(select(WaitlistEntry).where(WaitlistEntry.org_id == g.org.id,
                                                WaitlistEntry.user_id == g.api_user.id)
                    .order_by(WaitlistEntry.starts_at.desc(), WaitlistEntry.id), pagination_parameters)


@bp.route("/resources/<int:resource_id>/waitlist", methods=["POST"])
@require(Permission.BOOK_RESOURCES)
@found_first(resource_id=resource_or_404)
@bp.arguments(WaitlistIn)
@bp.response(201, WaitlistOut)
@errors(NOT_FOUND, BOOKERS, (422, "`invalid_range`: choose a time in the future"))
def join_waitlist(data: dict[str, Any], resource_id: int) -> Any:
    """Wait for a taken time: when it frees up, it is held for the first in line, who gets an email."""
    _refuse_booking()
    resource = resource_or_404(resource_id)
    entry = waitlist.join_waitlist(db.session, g.org, resource, g.api_user, data["starts_at"], data["ends_at"])
    return _created(entry, "api_booking.list_waitlist")


@bp.route("/waitlist/<int:waitlist_entry_id>", methods=["DELETE"])
@require(Permission.VIEW_DASHBOARD)
@bp.response(204)
@errors(NOT_FOUND, FORBIDDEN, (409, "`not_waiting`: the time was already offered"))
def leave_waitlist(waitlist_entry_id: int) -> Any:
    waitlist.leave_waitlist(db.session, waitlist_entry_or_404(waitlist_entry_id, g.api_user), g.api_user)
    return None
