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
        plugin = plugin_in_traceback(hook, exc) or "a plugin"
        log.exception("%s failed in %s; the change was rolled back", plugin, hook_name)
        raise PluginError(
            _l("The change could not be completed: %(plugin)s failed (%(error)s).",
               plugin=plugin, error=type(exc).__name__),
            plugin=plugin, hook=hook_name,
        ) from exc


class _NotAvailable:
    """``call_service``'s answer when no enabled plugin offers the hook: falsy, one object."""

    __slots__ = ()

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "NOT_AVAILABLE"


#: What ``call_service`` returns when no enabled plugin offers the hook (test with ``is``).
NOT_AVAILABLE = _NotAvailable()


def call_service(kernel: Any, hook_name: str, **kwargs: Any) -> Any:
    """Call a hook another plugin offers, such as ``crm_tags_spend_points``, without importing
    it; the one way to call another plugin's services.

    Returns the hook's answer (the first non-``None`` one for a ``firstresult`` hook, else the
    list of answers), or ``NOT_AVAILABLE`` when no enabled plugin implements the hook (the
    offering plugin is not installed, or disabled)::

        spent = call_service(kernel, "crm_tags_spend_points", session=session, member_id=7, ...)
        if spent is NOT_AVAILABLE:
            raise ValidationError(_l("Points are not available in this shop."))

    A service whose hookspec takes ``kernel`` receives ``kernel`` without it being passed twice.
    Failures are those of ``call_in_transaction``: a ``SiyuError`` passes through, anything
    else becomes a ``PluginError`` naming the plugin (and rolls back the caller's unit).
    """
    caller = getattr(kernel.pm.hook, hook_name, None)
    if caller is None or not caller.get_hookimpls():
        return NOT_AVAILABLE
    if caller.spec is not None and "kernel" in caller.spec.argnames:
        kwargs.setdefault("kernel", kernel)  # a service that needs the shop gets the caller's
    return call_in_transaction(kernel.pm, hook_name, **kwargs)


def plugin_in_traceback(hook, exc: BaseException) -> str | None:
    """The plugin whose implementation of ``hook`` raised ``exc`` (the innermost one)."""
    functions = [(getattr(impl.function, "__wrapped__", impl.function), impl.plugin_name)
                 for impl in hook.get_hookimpls()]
    codes = {function.__code__: name for function, name in functions if hasattr(function, "__code__")}
    tb = exc.__traceback__
    found = None
    while tb is not None:
        found = codes.get(tb.tb_frame.f_code, found)
        tb = tb.tb_next
    return found
