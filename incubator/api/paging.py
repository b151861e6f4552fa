"""Pagination of API lists: flask-smorest's ``@bp.paginate()`` parameters over one SELECT.

An operation decorated with ``@bp.paginate()`` takes ``page`` and ``page_size`` (25 by default,
at most 100: ``ApiBlueprint``) and answers the total in the ``X-Pagination`` header; its view returns
``api_page(stmt, pagination_parameters)``: one count query and one page query.
"""

from __future__ import annotations

from typing import Any

from flask_smorest.pagination import PaginationParameters
from sqlalchemy import Select

from incubator.core.pagination import paginate
from incubator.extensions import db

MAX_OFFSET = 2**31 - 1


def api_page(stmt: Select[Any], params: PaginationParameters) -> list[Any]:
    """The rows of the requested page; records the total for the ``X-Pagination`` header."""
    # A page beyond any table is empty; capped so that its offset fits the database's integers.
    page = paginate(db.session, stmt, per_page=params.page_size, page=min(params.page, MAX_OFFSET // params.page_size))
    params.item_count = page.total
    return page.items
