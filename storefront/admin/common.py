"""Helpers shared by the back-office pages: pagination, POST guards, error display."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import abort, request
from flask_wtf import FlaskForm
from sqlalchemy import func, select

from siyu.core.validation import MAX_ID
from siyu.storefront.context import db
from siyu.storefront.views.helpers import show_error  # noqa: F401 - the back office's pages import it from here

PAGE_SIZE = 25


@dataclass
class Page:
    items: list
    page: int
    pages: int
    total: int

    def args(self, page: int) -> dict[str, Any]:
        """The current query arguments with another page number, for pager links."""
        values = {k: v for k, v in request.args.items() if k != "page"}
        values["page"] = page
        return values


def paginate(query, size: int = PAGE_SIZE) -> Page:
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    total = db().scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max((total + size - 1) // size, 1)
    page = min(page, pages)
    items = db().scalars(query.limit(size).offset((page - 1) * size)).all()
    return Page(items, page, pages, total)


def require_csrf() -> None:
    """For POST-only action views without a form class: the CSRF token must be valid."""
    if not FlaskForm().validate():
        abort(400)


def get_or_404(model, object_id: int):
    if not 0 < object_id <= MAX_ID:
        abort(404)
    row = db().get(model, object_id)
    if row is None:
        abort(404)
    return row
