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
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import MANYTOONE, ORMExecuteState, Session, with_loader_criteria

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
    if org_id is None and _reads_org_rows(state):
        _no_org_in_context(state)
    state.statement = state.statement.options(
        with_loader_criteria(OrgScoped, lambda cls: cls.org_id == org_id, include_aliases=True)
    )


class NoOrgInContext(RuntimeError):
    """An org-owned table was queried with no organisation in context and no ``all_orgs``."""


STRICT = "tenancy_strict"


def _reads_org_rows(state: ORMExecuteState) -> bool:
    return any(issubclass(mapper.class_, OrgScoped) for mapper in state.all_mappers)


def _no_org_in_context(state: ORMExecuteState) -> None:
    """Fail loudly where it helps (development, tests); in production the query matches nothing
    (closed) and the mistake is logged."""
    models = sorted(m.class_.__name__ for m in state.all_mappers if issubclass(m.class_, OrgScoped))
    message = (f"query of {', '.join(models)} with no organisation in context: "
               "enter an organisation, or use all_orgs(session) where the code must span organisations")
    if state.session.info.get(STRICT):
        raise NoOrgInContext(message)
    import logging

    logging.getLogger(__name__).error(message)


class CrossOrgReference(RuntimeError):
    """An org-owned row was about to point at another organisation's row."""


@event.listens_for(Session, "before_flush")
def _same_org_references(session: Session, _context: Any, _instances: Any) -> None:
    """A reference from one org-owned row to another stays inside one organisation.

    Checked for every many-to-one relationship between ``OrgScoped`` models, on new rows and on
    references that changed. A relationship that may cross (a partner's booking of a shared lab
    names the partner's startup) says which attribute holds the organisation the target belongs
    to: ``relationship(..., info={"org_from": "partner_org_id"})`` (falling back to ``org_id``)."""
    for obj in (*session.new, *session.dirty):
        if isinstance(obj, OrgScoped):
            _check_references(session, obj, is_new=obj in session.new)


def check_new_row(session: Session, obj: Any) -> None:
    """The check of ``before_flush`` for a new row written without a flush (a Core ``INSERT``)."""
    if isinstance(obj, OrgScoped):
        _check_references(session, obj, is_new=True)


def _check_references(session: Session, obj: Any, *, is_new: bool) -> None:
    state = inspect(obj)
    for rel in state.mapper.relationships:
        if rel.direction is not MANYTOONE or not issubclass(rel.mapper.class_, OrgScoped) or rel.viewonly:
            continue
        columns = [column.key for column in rel.local_columns]
        set_by_object = state.attrs[rel.key].history.has_changes()
        set_by_id = any(column in state.attrs and state.attrs[column].history.has_changes() for column in columns)
        if not (is_new or set_by_object or set_by_id):
            continue
        target = _referenced(session, obj, rel, columns, by_id=set_by_id and not set_by_object)
        if target is None:
            continue
        expected = getattr(obj, rel.info.get("org_from", "org_id"), None) or obj.org_id
        if obj.org_id is not None and target.org_id is not None and target.org_id != expected:
            raise CrossOrgReference(f"{type(obj).__name__}.{rel.key} of organisation {expected} points at "
                                    f"{type(target).__name__} {target.id} of organisation {target.org_id}")


def _referenced(session: Session, obj: Any, rel: Any, columns: list[str], *, by_id: bool) -> Any:
    """The row the reference names: the object set on it, or the row its (changed) id names."""
    target = None if by_id else obj.__dict__.get(rel.key)
    if target is not None or len(columns) != 1:
        return target
    ident = getattr(obj, columns[0], None)
    if ident is None:
        return None
    return session.get(rel.mapper.class_, ident, execution_options={ALL_ORGS: True})


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
    with all_orgs(session):  # the row was already loaded through the caller's scope
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


def init_app(app: Flask, *, find_org: Callable[[str, Any], Any],
             find_membership: Callable[[Any, Any], Any]) -> None:
    """The orgs domain tells core how to find an organisation by slug (for a user, who may be anonymous
    or None) and a user's membership."""
    app.extensions["tenancy"] = {"find_org": find_org, "find_membership": find_membership}


def load_org(slug: str | None, user: Any = None) -> Any:
    """The organisation of ``slug`` (404 if none); ``user``, who is about to enter it, lets a member's
    organisation come from the memberships the page reads anyway."""
    org = current_app.extensions["tenancy"]["find_org"](slug, user) if slug else None
    if org is None:
        abort(404)
    if getattr(org, "suspended_at", None) is not None:
        from flask_babel import gettext as _

        from incubator.core.errors import OrgSuspended

        g.suspended_org = org
        raise OrgSuspended(_("%(name)s is suspended by the platform administrators.", name=org.name))
    return org


def membership_for(user: Any, org: Any) -> Any:
    if not getattr(user, "is_authenticated", False):
        return None
    return current_app.extensions["tenancy"]["find_membership"](user, org)


def enter_org(org: Any, user: Any) -> Any:
    """Put ``org`` in context for this request and return the user's membership (or None)."""
    from incubator.extensions import db

    g.org = org
    set_current_org(db.session, org)  # first: the membership is a row of the organisation (core.rls)
    g.membership = membership_for(user, org)
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
        org = load_org(g.org_slug, current_user)
        membership = enter_org(org, current_user)
        if membership is None and not is_public:
            abort(404)  # another organisation's page: nothing says it exists
        return None

    return bp


def _view_function(endpoint: str) -> Any:
    return current_app.view_functions.get(endpoint)
