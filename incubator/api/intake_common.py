"""What the intake API's modules share: the ``api_intake`` blueprint, the documented errors, the
base of the request schemas, and the decorators that resolve a URL's row before the body is parsed.

Every intake operation registers on this one blueprint: its name gives them the tag ``api_intake``
and the ``intake:read`` / ``intake:write`` scopes (``incubator.api.document_operations``). The
modules by resource are gathered in ``incubator.api.intake``.
"""

from __future__ import annotations

from functools import wraps
from typing import Any

from flask import g
from flask_babel import get_locale
from marshmallow import EXCLUDE, Schema

from incubator.api import api_blueprint, error_responses
from incubator.api.schemas import ID, MAX_ID  # noqa: F401 (the intake modules import them from here)
from incubator.core.pagination import MAX_PAGE
from incubator.core.tenancy import get_or_404
from incubator.intake.access import own_application_or_404, visible_application_or_404, visible_call_or_404
from incubator.intake.models import Call

bp = api_blueprint("api_intake", __name__, org=True, description="Calls, applications, reviews, decisions")

NOT_FOUND = (404, "Not found, or not visible to the caller")
INVALID = (422, "A rule refused the request; `code` says which and `fields` names the fields")
FORBIDDEN = (403, "The caller's role does not allow this")
STALE = (412, "`If-Match` names an older version (`stale`): read it again, then edit")


def errors(*codes: tuple[int, str]) -> Any:
    return error_responses(bp, *codes)


class Strict(Schema):
    class Meta:
        unknown = EXCLUDE


def lang() -> str:
    """The language the app chose for this request (the caller's setting, Accept-Language, a member's
    organisation, else English), as on the pages."""
    return str(get_locale())


def page_of(rows: list[Any], params: Any) -> list[Any]:
    """One page of a list already in its order (the ranking's)."""
    params.item_count = len(rows)
    start = (min(params.page, MAX_PAGE) - 1) * params.page_size
    return rows[start:start + params.page_size]


# -- rows resolved before the body is parsed -------------------------------------------------------

def visible_application(view: Any) -> Any:
    """Resolve ``application_id`` (404 unless the caller may see it) before the body is parsed."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.application = visible_application_or_404(kwargs["application_id"])
        return view(*args, **kwargs)

    return wrapper


def own_application(view: Any) -> Any:
    """The caller's own application (404 for anyone else's, 403 for a role that does not apply), resolved
    before the body is parsed: the applicant's operations, as their pages."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.application = own_application_or_404(kwargs["application_id"])
        return view(*args, **kwargs)

    return wrapper


def visible_call(view: Any) -> Any:
    """Resolve ``call_id`` (404 for a call not published yet, but to its managers) before the body is parsed."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.call = visible_call_or_404(kwargs["call_id"])
        return view(*args, **kwargs)

    return wrapper


def managed_call(view: Any) -> Any:
    """Resolve ``call_id`` (404 for another organisation's) before the body is parsed."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.call = get_or_404(Call, kwargs["call_id"])
        return view(*args, **kwargs)

    return wrapper
