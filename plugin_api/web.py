"""Siyu's public plugin API, web side: the Flask pieces a plugin's views, admin pages and API use.

Everything here needs a Flask application context (a request, or ``app.app_context()``).
Templates: ``{% from "siyu/macros.html" import field, product_image, product_grid, pager %}``.
Stability: as :mod:`siyu.plugin` (docs/plugin-api.md).
"""
from __future__ import annotations

from typing import TypeVar

from siyu.storefront.admin import current_staff, staff_required
from siyu.storefront.admin.charts import bar_chart
from siyu.storefront.admin.common import PAGE_SIZE, Page, get_or_404, paginate, require_csrf
from siyu.storefront.api import problem
from siyu.storefront.api.auth import current_api_staff, token_required
from siyu.storefront.cache import cached, catalog_key
from siyu.storefront.context import db, invalidate_settings, kernel, shop_settings
from siyu.storefront.errors import problem_response, wants_json
from siyu.storefront.extensions import csrf, limiter
from siyu.storefront.views.helpers import add_to_cart, get_cart, locale_code, save_cart, show_error
from siyu.storefront.visitor import SKIP_PREFIXES as UNTRACKED_PATHS, visitor_id

T = TypeVar("T")


def csrf_exempt(view: T) -> T:
    """Exempt a view or a whole blueprint from CSRF: only for endpoints that check a signature of their own
    (a provider's notification) or a Bearer token (the API)."""
    csrf.exempt(view)
    return view


__all__ = [
    "db", "kernel", "shop_settings", "invalidate_settings",
    "current_staff", "staff_required", "token_required", "current_api_staff",
    "paginate", "Page", "PAGE_SIZE", "get_or_404", "require_csrf", "csrf_exempt",
    "bar_chart", "cached", "catalog_key", "locale_code", "limiter",
    "visitor_id", "UNTRACKED_PATHS", "problem", "problem_response", "wants_json", "show_error",
    "get_cart", "save_cart", "add_to_cart",
]
