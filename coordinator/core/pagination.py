"""Pagination of SQL queries for pages and the API (page numbers from 1)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from coordinator.core.bounds import MAX_PAGE

MAX_PER_PAGE = 500


@dataclass
class Page:
    items: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def _int_arg(name: str, default: int) -> int:
    try:
        return int(request.args.get(name, default))
    except (TypeError, ValueError):
        return default


def count(session: Session, query: Select) -> int:
    """How many rows `query` selects, counted in SQL."""
    return session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0


def paginate(session: Session, query: Select, page: int | None = None,
             per_page: int | None = None) -> Page:
    """One page of `query`: its rows and the total count, counted in SQL."""
    page = min(max(1, page if page is not None else _int_arg("page", 1)), MAX_PAGE)
    per_page = per_page if per_page is not None else _int_arg(
        "per_page", current_app.config["PER_PAGE"])
    per_page = min(max(1, per_page), MAX_PER_PAGE)
    total = count(session, query)
    items = list(session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return Page(items=items, total=total, page=page, per_page=per_page)
