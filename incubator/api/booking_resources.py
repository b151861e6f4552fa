"""Labs, resources, their closures and their shares with partner organisations over the API.

Part of the ``api_booking`` blueprint (``incubator.api.booking_common``); the same loaders and rules as
the pages (``booking.access``, ``booking.setup``).
"""

from __future__ import annotations

from functools import wraps
from typing import Any

from flask import abort, g
from flask_smorest.pagination import PaginationParameters
from sqlalchemy import or_, select

from incubator.api.booking_common import (
    FORBIDDEN,
    INVALID,
    MANAGERS,
    NOT_FOUND,
    _created,
    _lab,
    _resource_detail,
    _resource_out,
    bp,
    errors,
    found_first,
)
from incubator.api.booking_schemas import (
    AvailabilityOut,
    AvailabilityQuery,
    ClosureIn,
    ClosureOut,
    LabIn,
    LabPatch,
    LabRowOut,
    NameQuery,
    PhotoIn,
    ResourceDetailOut,
    ResourceIn,
    ResourceOut,
    RulesPatch,
    ShareIn,
    ShareOut,
)
from incubator.api.paging import api_page
from incubator.booking import setup, sharing
from incubator.booking.access import bookable_resource_or_404, booking_refusal, resource_or_404
from incubator.booking.availability import free_intervals
from incubator.booking.models import Closure, Lab, Resource, ResourceShare
from incubator.core.db import get_required
from incubator.core.errors import DomainError
from incubator.core.pagination import text_filter
from incubator.core.permissions import Permission, require
from incubator.core.storage import image_mimetype, storage
from incubator.core.tenancy import all_orgs, get_or_404
from incubator.core.versioning import check_if_match, etag_of
from incubator.extensions import db
from incubator.orgs.models import Organisation

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
    if booking_refusal(db.session, g.org, g.api_user, g.membership) is None:  # as the shared-resources page
        scope = or_(scope, Resource.id.in_(shared))
    stmt = (select(Resource).where(scope, Resource.active.is_(True))
            # all_orgs: own resources and those other organisations share with this one
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
    with all_orgs(db.session):  # a shared resource is its owner's row
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


@bp.route("/resources/<int:resource_id>/photo", methods=["PUT"])
@require(Permission.MANAGE_RESOURCES)
@found_first(resource_id=resource_or_404)
@bp.arguments(PhotoIn, location="files")
@bp.response(200, ResourceDetailOut)
@errors(NOT_FOUND, MANAGERS, (413, "`payload_too_large`: the request is larger than the upload limit"),
        (422, "No file, not a PNG or JPEG image (by its content), or larger than `MAX_UPLOAD_MB` (`fields.photo`)"))
def put_photo(files: dict[str, Any], resource_id: int) -> Any:
    """Replace the resource's photo, with the rules page's checks; the answer's `photo_url` serves it."""
    resource = resource_or_404(resource_id)
    setup.save_photo(db.session, resource, files["photo"])
    return _resource_detail(resource), 200, {"ETag": etag_of(resource)}


@bp.route("/resources/<int:resource_id>/photo", methods=["DELETE"])
@require(Permission.MANAGE_RESOURCES)
@bp.response(204)
@errors(NOT_FOUND, MANAGERS)
def delete_photo(resource_id: int) -> Any:
    """Remove the resource's photo (none to remove is fine)."""
    setup.remove_photo(db.session, resource_or_404(resource_id))
    return None


@bp.route("/resources/<int:resource_id>/photo")
@require(Permission.VIEW_DASHBOARD)
@bp.doc(responses={"200": {"description": "The photo (PNG or JPEG)", "content": dict.fromkeys(
    ("image/png", "image/jpeg"), {"schema": {"type": "string", "format": "binary"}})}})
@errors(NOT_FOUND, FORBIDDEN)
def get_photo(resource_id: int) -> Any:
    """The photo of a resource of the organisation, or of an active one shared with it; 404 when it has none."""
    own = db.session.execute(select(Resource).where(Resource.id == resource_id, Resource.org_id == g.org.id)
                             ).scalar_one_or_none() if 0 < resource_id < 2**31 else None
    resource = own if own is not None else bookable_resource_or_404(resource_id, g.membership)[0]
    if not resource.photo_key:
        abort(404)
    return storage().send(resource.photo_key, mimetype=image_mimetype(resource.photo_key), max_age=3600)


@bp.route("/resources/<int:resource_id>/availability")
@require(Permission.VIEW_DASHBOARD)
@resolved_resource
@bp.arguments(AvailabilityQuery, location="query")
@bp.response(200, AvailabilityOut)
@errors(NOT_FOUND, FORBIDDEN, (422, "Invalid range"))
def availability(query: dict[str, Any], resource_id: int) -> Any:
    resource = g.resource
    with all_orgs(db.session):  # a shared resource's bookings are its owner's rows
        free = free_intervals(db.session, g.owner, [resource], query["from_"], query["to"])[resource.id]
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
