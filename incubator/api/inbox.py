"""The caller's to-do inbox over the API (``GET /me/todo``): the dashboard's list, every item with the page
where it is done (``incubator.inbox.services``). Part of the ``api_accounts`` blueprint (``/me``)."""

from __future__ import annotations

from typing import Any

from flask import g
from flask_smorest.pagination import PaginationParameters

from incubator.api import error_responses
from incubator.api.accounts import NOT_FOUND, bp
from incubator.api.schemas import TodoItemOut, TodoQuery
from incubator.core.errors import DomainError
from incubator.core.pagination import MAX_PAGE
from incubator.core.tenancy import enter_org
from incubator.extensions import db
from incubator.inbox import services
from incubator.orgs.services import memberships_of


@bp.route("/me/todo")
@bp.arguments(TodoQuery, location="query")
@bp.response(200, TodoItemOut(many=True))
@bp.paginate()
@error_responses(bp, NOT_FOUND, (422, "An unknown `kind`, or `org` names no organisation of the caller "
                                      "(`fields` says which)"))
def my_todo(query: dict[str, Any], pagination_parameters: PaginationParameters) -> Any:
    """What the caller has to do: per organisation they belong to, the kinds that concern their role
    (check-ins to submit or verify, matches to answer, sessions to log or rate, reviews with their
    deadline, bookings to approve or pay, time held from a waitlist, applications awaiting a decision),
    then the invitations sent to their address. The same items, in the same order, as the dashboard."""
    user = g.api_user
    if query["kind"] is not None and query["kind"] not in services.KIND_KEYS:
        raise DomainError("Unknown kind", fields={"kind": "One of: " + ", ".join(services.KIND_KEYS)})
    memberships = memberships_of(db.session, user)
    if query["org"] is not None:
        memberships = [m for m in memberships if m.org.slug == query["org"]]
        if not memberships:
            raise DomainError("Not an organisation of yours", fields={"org": "Not an organisation of yours."})
    parts: list[tuple[services.Context, services.Kind]] = []
    for membership in memberships:
        enter_org(membership.org, user)
        ctx = services.Context.of(db.session, membership.org, user, membership)
        parts.extend(services.sections(ctx, personal=False))
    # The invitations are the person's, listed once (and to someone who belongs nowhere yet too).
    personal = services.Context.of(db.session, None, user, None)
    parts.extend((personal, kind) for kind in services.PERSONAL_KINDS if kind.applies(personal))
    if query["kind"] is not None:
        parts = [(c, k) for c, k in parts if k.key == query["kind"]]
    size = pagination_parameters.page_size
    items, total = services.page(parts, (min(pagination_parameters.page, MAX_PAGE) - 1) * size, size)
    pagination_parameters.item_count = total
    return items
