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


class DatabaseNotAllowed(RuntimeError):
    """Raised by any use of the database while an error page is made."""


class _NoDatabase:
    """Stands for the request's session once an error page is being made: the page must not
    read (the transaction may be aborted, the server gone), so any use raises at once."""

    def close(self) -> None:
        pass

    def __getattr__(self, name: str):
        raise DatabaseNotAllowed("an error page must not use the database")


def db() -> Session:
    """The request's session, opened on first use and closed at teardown."""
    if "db" not in g:
        g.db = kernel().db.Session()
    return g.db


def end_transaction_for_error_page() -> None:
    """Roll back the request's transaction (a failed statement leaves it aborted on
    PostgreSQL) and close the database to the rest of the request."""
    session = g.get("db")
    g.db = _NoDatabase()
    if session is None or isinstance(session, _NoDatabase):
        return
    try:
        session.close()  # rolls back and returns the connection to the pool
    except Exception:
        try:  # the connection is gone: drop it rather than reuse it
            session.invalidate()
        except Exception:
            pass


def database_closed() -> bool:
    """Whether this request is making an error page (no database access allowed)."""
    return isinstance(g.get("db"), _NoDatabase)


def close_db(_exc: BaseException | None = None) -> None:
    session = g.pop("db", None)
    if session is None:
        return
    try:
        session.close()
    except Exception:  # a connection lost mid-request must not fail the teardown
        try:
            session.invalidate()
        except Exception:
            pass


def shop_settings() -> dict[str, Any]:
    """The shop's ``core`` settings, cached briefly per worker (read on every page)."""
    if g and "shop_settings" in g:
        return g.shop_settings
    if database_closed():
        return known_shop_settings()
    cache = current_app.extensions.setdefault("siyu_settings_cache", {})
    if cache.get("expires", 0) < time.monotonic():
        cache["values"] = core_settings.get_all(db(), "core")
        cache["expires"] = time.monotonic() + SETTINGS_TTL
    g.shop_settings = cache["values"]
    return g.shop_settings


def known_shop_settings() -> dict[str, Any]:
    """The shop's settings without the database: this request's, else the last this worker
    read (however old), else the defaults. For error pages."""
    if g and "shop_settings" in g:
        return g.shop_settings
    values = current_app.extensions.get("siyu_settings_cache", {}).get("values")
    return values if values is not None else dict(core_settings.SHOP_DEFAULTS)


def invalidate_settings() -> None:
    current_app.extensions.pop("siyu_settings_cache", None)
    g.pop("shop_settings", None)
