"""The two doors to one rule, the HTML page and the JSON API, must answer alike.

``answer_class`` reduces a response to what the rule decided: ``allowed`` (the action ran, or it
was refused on its merits: 2xx, 3xx other than to the sign-in page, 409, 412, 422), ``forbidden``
(403: a member whose role does not allow it), ``hidden`` (404: not a member, or a row the caller
may not see), ``login`` (not signed in: 401 or a redirect to the sign-in page).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

ALLOWED_REFUSALS = {400, 409, 412, 422}


def answer_class(response: Any) -> str:
    status = response.status_code
    if status == 401 or (300 <= status < 400 and "/auth/login" in response.headers.get("Location", "")):
        return "login"
    if status == 403:
        return "forbidden"
    if status == 404:
        return "hidden"
    if status < 400 or status in ALLOWED_REFUSALS:
        return "allowed"
    raise AssertionError(f"unexpected answer {status}: {response.get_data(as_text=True)[:300]}")


def assert_same_door(page: Any, api: Any, label: str = "") -> str:
    """Both responses belong to the same class; returns it so the test can also assert which."""
    page_class, api_class = answer_class(page), answer_class(api)
    assert page_class == api_class, (
        f"{label}: page {page.status_code} ({page_class}) vs API {api.status_code} ({api_class})")
    return page_class


# -- door tables ------------------------------------------------------------------------------------
# The booking, orgs and payments tables (``tests/<domain>/test_doors.py``) walk every API operation of
# their domain next to its page twin, for each kind of caller, with these helpers.

ROLES = ("owner", "manager", "staff", "reviewer", "mentor", "founder", "funder", "outsider", "admin", "anonymous")
MEMBER_ROLES = ROLES[:7]
MANAGERS = ("owner", "manager", "staff")


def expect(allowed: tuple[str, ...] | str = MEMBER_ROLES, *, hidden: tuple[str, ...] = ()) -> dict[str, str]:
    """What each caller gets: the members named in ``allowed`` (or "all") are allowed, those in ``hidden``
    get 404, the other members 403; a member of another organisation and a platform admin who is no
    member get 404, and someone not signed in is sent to sign in (401 on the API)."""
    allowed = MEMBER_ROLES if allowed == "all" else allowed
    out = {role: "allowed" if role in allowed else "hidden" if role in hidden else "forbidden"
           for role in MEMBER_ROLES}
    return {**out, "outsider": "hidden", "admin": "hidden", "anonymous": "login"}


@dataclass
class Door:
    """One API operation (method, path under ``/api/v1/orgs/{org}`` with ``{id}`` fields, JSON body) and
    its page twin (method, path under ``/o/{org}``, form), or ``None`` with the reason in ``no_page``."""

    name: str
    api: tuple[str, str, Any]
    page: tuple[str, str, dict[str, Any] | None] | None
    expect: dict[str, str]
    no_page: str = ""

    @property
    def operation(self) -> tuple[str, str]:
        """(METHOD, path) with each ``{id}`` field as ``{}``, as ``documented`` names it."""
        return self.api[0], _anonymous_fields(self.api[1].split("?")[0])


def _anonymous_fields(path: str) -> str:
    return re.sub(r"\{\w+\}", "{}", path)


def documented(app: Any, tags: set[str]) -> set[tuple[str, str]]:
    """The operations of the OpenAPI document with one of ``tags``, as (METHOD, path under the org)."""
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    return {(method.upper(), _anonymous_fields(path.removeprefix("/api/v1/orgs/{org}")))
            for path, item in spec["paths"].items()
            for method, op in item.items()
            if method in ("get", "post", "put", "patch", "delete") and set(op.get("tags", [])) & tags}


def walk(app: Any, session: Any, role: str, person: Any, doors: list[Door], ids: dict[str, Any],
         slug: str = "bbi") -> list[str]:
    """Call each door's API operation and then its page as ``person`` in ``role`` (None: not signed
    in); the differences between the two doors and from the table's expectations, as a list of lines.
    One person walks the whole table: an earlier row's change only turns a later action into a
    refusal on its merits, which is still "allowed"."""
    from incubator.accounts.services import create_api_token
    from tests.conftest import csrf_token, login

    pages, apis = app.test_client(), app.test_client()
    for c in (pages, apis):
        c.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    headers: dict[str, str] = {}
    if person is not None:
        headers = {"Authorization": f"Bearer {create_api_token(session, person, 'doors')[0]}"}
        session.flush()
        assert login(pages, person.email).status_code == 302
    token = csrf_token(pages, "/account" if person is not None else "/auth/login")
    wrong = []
    for door in doors:
        method, path, body = door.api
        api = apis.open(_url(f"/api/v1/orgs/{slug}", path, ids), method=method, headers=headers,
                        **({"json": filled(body, ids)} if body is not None else {}))
        found = answer_class(api)
        if door.page is not None:
            page_method, page_path, form = door.page
            url = _url(f"/o/{slug}", page_path, ids)
            page = pages.get(url) if page_method == "GET" else pages.post(url, data={
                **{k: v if isinstance(v, list) else str(v) for k, v in filled(form or {}, ids).items()},
                "csrf_token": token})
            if answer_class(page) != found:
                wrong.append(f"{door.name}: page {page.status_code} ({answer_class(page)}) vs API {api.status_code}"
                             f" ({found})")
                continue
        if found != door.expect[role]:
            wrong.append(f"{door.name}: {found} ({api.status_code}), expected {door.expect[role]}")
    return wrong


def _url(prefix: str, path: str, ids: dict[str, Any]) -> str:
    """A path of the organisation under ``prefix``; one of the platform (``/api/...``, ``/admin...``) as is."""
    path = path.format(**ids)
    return path if path.startswith(("/api/", "/admin")) else prefix + path


def filled(value: Any, ids: dict[str, Any]) -> Any:
    """``"{name}"`` in a body or a form is the id ``name`` (a number in JSON, text in a form)."""
    if isinstance(value, dict):
        return {k: filled(v, ids) for k, v in value.items()}
    if isinstance(value, str) and value.startswith("{") and value.endswith("}") and value[1:-1] in ids:
        return ids[value[1:-1]]
    return value


def person(world: Any, role: str) -> Any:
    """Who walks a table in ``role``, with bbi's ``world``: its manager, founder (of AgriSense) and funder,
    a new member for the other roles, the owner of another organisation, a platform admin who is no
    member of bbi, or None (not signed in)."""
    from incubator.core.permissions import Role
    from tests.factories import OrgFactory, UserFactory, member

    if role == "anonymous":
        return None
    if role == "outsider":
        return member(OrgFactory(slug="elsewhere"), Role.OWNER)
    if role == "admin":
        return UserFactory(is_admin=True)
    return {"manager": world.manager, "founder": world.founder, "funder": world.funder}.get(role) \
        or member(world.org, Role(role))
