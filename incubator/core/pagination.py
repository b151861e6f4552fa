"""Pagination of a SELECT: one count query, one page query."""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil
from typing import Any

from flask import request
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

MAX_PAGE = 2**31 - 1


@dataclass
class Page:
    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def paginate(session: Session, stmt: Select[Any], per_page: int = 25, page: int | None = None) -> Page:
    if page is None:
        page = request.args.get("page", 1, type=int) or 1
    # A page number typed or sent far past the end is an empty page, never an offset the database
    # cannot hold (SQLite's integers are 64-bit; keep it within 32 bits).
    page = min(max(1, page), (2**31 - 1) // per_page + 1)
    # The count runs with the list's own options (a list that says ``all_orgs`` is counted across them too).
    count = select(func.count()).select_from(stmt.order_by(None).subquery())
    total = session.execute(count.execution_options(**stmt.get_execution_options())).scalar_one()
    # A page past the end is empty without asking (a huge ?page= would overflow the OFFSET).
    offset = (page - 1) * per_page
    items = list(session.execute(stmt.limit(per_page).offset(offset)).scalars()) if offset < total else []
    return Page(items=items, page=page, per_page=per_page, total=total)


def text_filter(query: str | None, *columns: Any) -> Any:
    """A case-insensitive "contains" over ``columns`` for a typed search, or None for an empty query.

    ``%`` and ``_`` typed by the user match themselves, not any text.
    """
    text = (query or "").strip()
    if not text:
        return None
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return or_(*(column.ilike(f"%{escaped}%", escape="\\") for column in columns))
