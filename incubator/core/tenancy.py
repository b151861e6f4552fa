"""Tenancy: the current organisation, the global org filter, and the scoped get.

* ``org_blueprint()`` makes a blueprint under ``/o/<org_slug>``; the slug resolves to ``g.org`` once
  per request and only members (or views marked ``@public``) get past it. Anyone else gets 404.
* Every ORM query of an ``OrgScoped`` model is filtered to the organisation set on the session
  (``session.info["org_id"]``). With no organisation set the filter matches nothing: it fails
  closed. Code that must see several organisations (CLI, jobs, the platform admin) says so with
  ``all_orgs(session)``.
* ``get_or_404(Model, id)`` is the one door to org-owned rows by id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any, TypeVar

from flask import Blueprint, Flask, abort, current_app, g, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import event, select
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from incubator.core.db import OrgScoped

T = TypeVar("T")
ALL_ORGS = "all_orgs"


@event.listens_for(Session, "do_orm_execute")
def _filter_by_org(state: ORMExecuteState) -> None:
    if state.is_column_load or state.is_relationship_load:
        return
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.session.info.get(ALL_ORGS) or state.execution_options.get(ALL_ORGS):
        return
    org_id = state.session.info.get("org_id")  # None matches no row: fail closed
    state.statement = state.statement.options(
        with_loader_criteria(OrgScoped, lambda cls: cls.org_id == org_id, include_aliases=True)
    )


def set_current_org(session: Session, org: Any) -> None:
    session.info["org_id"] = org.id if org is not None else None


@contextmanager
def all_orgs(session: Session) -> Iterator[Session]:
    """Lift the org filter for code that legitimately spans organisations."""
    previous = session.info.get(ALL_ORGS)
    session.info[ALL_ORGS] = True
    try:
        yield session
    finally:
        session.info[ALL_ORGS] = previous


def org_today() -> date:
    """Today in the current organisation's time zone."""
    from incubator.core.db import utcnow
    from incubator.core.timezones import to_local

    return to_local(utcnow(), g.org.timezone).date()


def lock_row(session: Session, obj: Any) -> None:
    """Lock ``obj``'s row until the transaction ends (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's
    write transactions already run one at a time) and read it afresh, as the last holder left it."""
    session.flush()  # a refresh would drop changes not yet written
    with all_orgs(session):
        session.refresh(obj, with_for_update=True)


def get_or_404(model: type[T], ident: Any) -> T:
    from incubator.extensions import db

    if not isinstance(ident, int) or not 0 < ident < 2**31:  # ids are 32-bit integers
        abort(404)
    # Every model passed here maps ``id`` and ``org_id`` (OrgScoped), but no shared base declares
    # ``id``, so the TypeVar cannot promise it to the type checker.
    stmt = select(model).where(model.id == ident, model.org_id == g.org.id)  # type: ignore[attr-defined]
    obj = db.session.execute(stmt).scalar_one_or_none()
    if obj is None:
        abort(404)
    return obj


def public(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark an org view as open to people who are not members (e.g. the public call list)."""
    view._public = True  # type: ignore[attr-defined]  # a marker attribute on the function, read by the org guard
    return view


def signed_in(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark an org view as open to any signed-in person, member or not (e.g. an applicant's own
    applications and payments: applying does not make a member). The view checks what they may see."""
    view._public = True  # type: ignore[attr-defined]  # marker attributes on the function, read by the org guard
    view._signed_in = True  # type: ignore[attr-defined]
    return view


def init_app(app: Flask, *, find_org: Callable[[str], Any], find_membership: Callable[[Any, Any], Any]) -> None:
    """The orgs domain tells core how to find an organisation by slug and a user's membership."""
    app.extensions["tenancy"] = {"find_org": find_org, "find_membership": find_membership}


def load_org(slug: str | None) -> Any:
    org = current_app.extensions["tenancy"]["find_org"](slug) if slug else None
    if org is None:
        abort(404)
    return org


def membership_for(user: Any, org: Any) -> Any:
    if not getattr(user, "is_authenticated", False):
        return None
    return current_app.extensions["tenancy"]["find_membership"](user, org)


def enter_org(org: Any, user: Any) -> Any:
    """Put ``org`` in context for this request and return the user's membership (or None)."""
    from incubator.extensions import db

    g.org = org
    g.membership = membership_for(user, org)
    set_current_org(db.session, org)
    return g.membership


def org_blueprint(name: str, import_name: str, url_prefix: str = "") -> Blueprint:
    """A blueprint whose routes live under ``/o/<org_slug>`` and only answer to members."""
    bp = Blueprint(name, import_name, url_prefix="/o/<org_slug>" + url_prefix)

    @bp.url_value_preprocessor
    def _pull_org(_endpoint: str | None, values: dict[str, Any] | None) -> None:
        slug = values.pop("org_slug", None) if values else None
        g.org_slug = slug

    @bp.url_defaults
    def _add_org(endpoint: str, values: dict[str, Any]) -> None:
        if "org_slug" not in values and g.get("org") is not None:
            values["org_slug"] = g.org.slug

    @bp.before_request
    def _check_member() -> Any:
        view = request.endpoint and _view_function(request.endpoint)
        is_public = bool(getattr(view, "_public", False))
        if (not is_public or getattr(view, "_signed_in", False)) and not current_user.is_authenticated:
            return redirect(url_for("accounts.login", next=request.full_path))
        org = load_org(g.org_slug)
        membership = enter_org(org, current_user)
        if membership is None and not is_public:
            abort(404)  # another organisation's page: nothing says it exists
        return None

    return bp


def _view_function(endpoint: str) -> Any:
    return current_app.view_functions.get(endpoint)
