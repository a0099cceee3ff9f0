"""Calling transactional hooks so that a failure is clear and names the plugin."""
from __future__ import annotations

import logging
from typing import Any

import pluggy
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from siyu.core.errors import PluginError, SiyuError
from siyu.core.i18n import lazy_gettext as _l

log = logging.getLogger("siyu.plugins")


def call_in_transaction(pm: pluggy.PluginManager, hook_name: str, **kwargs: Any) -> list[Any]:
    """Call a hook inside a transaction; any failure aborts it (fail closed).

    A ``SiyuError`` a plugin raises on purpose (say, "this coupon has expired") passes
    through as it is, and so does the database refusing or losing the connection (not the
    plugin's fault: the shop answers 503, retry later); anything else becomes a
    ``PluginError`` naming the plugin, and the caller's transaction rolls back.
    """
    hook = getattr(pm.hook, hook_name)
    try:
        return hook(**kwargs)
    except (SiyuError, OperationalError, PoolTimeout):
        raise
    except Exception as exc:
        plugin = _plugin_in_traceback(hook, exc) or "a plugin"
        log.exception("%s failed in %s; the change was rolled back", plugin, hook_name)
        raise PluginError(
            _l("The change could not be completed: %(plugin)s failed (%(error)s).",
               plugin=plugin, error=type(exc).__name__),
            plugin=plugin, hook=hook_name,
        ) from exc


def _plugin_in_traceback(hook, exc: BaseException) -> str | None:
    codes = {impl.function.__code__: impl.plugin_name for impl in hook.get_hookimpls()
             if hasattr(impl.function, "__code__")}
    tb = exc.__traceback__
    found = None
    while tb is not None:
        found = codes.get(tb.tb_frame.f_code, found)
        tb = tb.tb_next
    return found
