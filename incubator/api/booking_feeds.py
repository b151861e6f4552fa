"""The calendar feed addresses over the API: a person's bookings and a resource's bookings, with the
same rules and the same call (``core.feeds.issue_feed_token``) as the pages. A new address revokes
the previous one. The mentor's feed is in ``api.mentoring``."""

from __future__ import annotations

from typing import Any

from flask import g, url_for

from incubator.api.booking_common import MANAGERS, NOT_FOUND, bp, errors
from incubator.api.schemas import FeedOut
from incubator.booking.models import Resource
from incubator.core.feeds import FeedKind, issue_feed_token
from incubator.core.permissions import Permission, require
from incubator.core.tenancy import get_or_404
from incubator.extensions import db


@bp.route("/bookings/feed", methods=["POST"])
@require(Permission.VIEW_DASHBOARD)
@bp.response(201, FeedOut)
@errors(NOT_FOUND)
def new_bookings_feed() -> Any:
    """A new secret address for the caller's booking calendar in this organisation."""
    token = issue_feed_token(db.session, org_id=g.org.id, kind=FeedKind.BOOKINGS, owner_id=g.api_user.id)
    return {"url": url_for("booking_feeds.person_feed", token=token, _external=True)}


@bp.route("/resources/<int:resource_id>/feed", methods=["POST"])
@require(Permission.MANAGE_RESOURCES)
@bp.response(201, FeedOut)
@errors(NOT_FOUND, MANAGERS)
def new_resource_feed(resource_id: int) -> Any:
    """A new secret address for the resource's booking calendar (those who run the labs)."""
    resource = get_or_404(Resource, resource_id)
    token = issue_feed_token(db.session, org_id=resource.org_id, kind=FeedKind.RESOURCE, owner_id=resource.id)
    return {"url": url_for("booking_feeds.resource_feed", token=token, _external=True)}
