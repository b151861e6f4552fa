"""Optimistic concurrency for rows two people edit (forms, rubrics, check-ins).

* ``Versioned`` adds a ``version`` counter that SQLAlchemy raises on every UPDATE
  (``version_id_col``): an UPDATE that finds the row changed since it was read fails with
  ``StaleDataError``, answered 412 in the API and as a "changed meanwhile" error on pages.
* The API answers ``ETag: etag_of(row)`` and honours ``If-Match`` with ``check_if_match(row)``:
  a stale tag answers 412 ``stale``; a request without the header is not checked.
* Page forms carry the version they were rendered with in a hidden field, checked with
  ``check_version(row, submitted)``.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import request
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from incubator.core.errors import DomainError


class Stale(DomainError):
    status = 412
    code = "stale"


def stale_message() -> str:
    """The one wording of a lost edit, in the reader's language, for pages and API alike."""
    from flask_babel import gettext

    return str(gettext("Someone else changed this since you opened it. Reload to see their changes, then edit again."))


class Versioned:
    """Mixin: a ``version`` column used by SQLAlchemy as the row's version counter."""

    version: Mapped[int] = mapped_column(nullable=False, default=1, server_default="1")

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805  # declared_attr receives the class
        return {"version_id_col": cls.version}


def etag_of(row: Any) -> str:
    """A strong entity tag for the row's current version (quoted, as HTTP wants it)."""
    raw = f"{type(row).__name__}:{row.id}:{row.version}"
    return '"' + hashlib.sha256(raw.encode()).hexdigest()[:32] + '"'


def check_if_match(row: Any) -> None:
    """Refuse (412) an API edit whose ``If-Match`` names an older version of ``row``."""
    if_match = request.if_match
    if not if_match or if_match.star_tag:
        return
    if not if_match.contains(etag_of(row).strip('"')):
        raise Stale(stale_message(), fields={"If-Match": "does not match the current ETag"})


def check_version(row: Any, submitted: Any) -> None:
    """Refuse a page edit made on a form rendered from an older version of ``row``."""
    try:
        version = int(submitted)
    except (TypeError, ValueError):
        version = None
    if version != row.version:
        message = stale_message()
        raise Stale(message, fields={"version": message})
