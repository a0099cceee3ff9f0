"""Per-request access to the shop's kernel, a database session and cached shop settings."""
from __future__ import annotations

import time
from typing import Any

from flask import current_app, g
from sqlalchemy.orm import Session

from siyu.core import settings as core_settings
from siyu.core.kernel import Kernel

SETTINGS_TTL = 5.0  # seconds a worker may show a shop setting after another worker changed it


def kernel() -> Kernel:
    return current_app.extensions["siyu"]


def db() -> Session:
    """The request's session, opened on first use and closed at teardown."""
    if "db" not in g:
        g.db = kernel().db.Session()
    return g.db


def close_db(_exc: BaseException | None = None) -> None:
    session = g.pop("db", None)
    if session is not None:
        session.close()


def shop_settings() -> dict[str, Any]:
    """The shop's ``core`` settings, cached briefly per worker (read on every page)."""
    if g and "shop_settings" in g:
        return g.shop_settings
    cache = current_app.extensions.setdefault("siyu_settings_cache", {})
    if cache.get("expires", 0) < time.monotonic():
        cache["values"] = core_settings.get_all(db(), "core")
        cache["expires"] = time.monotonic() + SETTINGS_TTL
    g.shop_settings = cache["values"]
    return g.shop_settings


def invalidate_settings() -> None:
    current_app.extensions.pop("siyu_settings_cache", None)
    g.pop("shop_settings", None)
