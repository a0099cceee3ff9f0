"""Display isolation: a plugin's failing display code is logged, naming the plugin, and skipped.

Pages, cards, widgets and panels call plugins' code that only shows something. Such code must
never break the page, so it runs through ``run_isolated`` (a widget's ``render``, a card type's
``choices``) or ``call_isolated`` (a display hook). ``call_isolated`` is pluggy's own call:
hook wrappers see every result as in any call, and hook monitoring (``SIYU_TRACE_HOOKS``) traces
it, marked ``FAILED`` when an implementation was skipped. What is written here is the only
place a plugin's display error is swallowed.
"""
from __future__ import annotations

import functools
import logging
import threading
from typing import Any, Callable

log = logging.getLogger("siyu.plugins")
_seen = threading.local()


def failures_seen() -> int:
    """How many display failures this thread has swallowed so far (for the hook trace)."""
    return getattr(_seen, "count", 0)


def run_isolated(plugin: str, what: str, func: Callable[..., Any], *args: Any, default: Any = None,
                 **kwargs: Any) -> Any:
    """``func(*args, **kwargs)``; on any exception, log it naming ``plugin`` and ``what`` and
    return ``default``."""
    try:
        return func(*args, **kwargs)
    except Exception:  # noqa: BLE001 - isolation is the point
        _report(plugin, what)
        return default


def _report(plugin: str, what: str) -> None:
    log.exception("plugin %s failed in %s; skipped", plugin, what)
    _seen.count = failures_seen() + 1


def call_isolated(pm: Any, hook_name: str, **kwargs: Any) -> list[Any]:
    """Call a display hook through pluggy, each implementation isolated: one that raises is
    logged with its plugin's name and skipped; the others' answers (not ``None``) are returned
    in pluggy's order, after any wrapper. A wrapper that raises loses this call's answers, logged
    with its plugin's name, never the page."""
    hook = getattr(pm.hook, hook_name, None)
    if hook is None:
        return []
    for impl in hook.get_hookimpls():
        if not (impl.wrapper or impl.hookwrapper or getattr(impl.function, "siyu_isolated", False)):
            impl.function = _isolated(impl.function, impl.plugin_name, f"display hook {hook_name}")
    try:
        results = hook(**kwargs)
    except Exception as exc:  # noqa: BLE001 - only a wrapper's own failure gets here
        from siyu.core.hooks import plugin_in_traceback

        _report(plugin_in_traceback(hook, exc) or "a hook wrapper", f"display hook {hook_name}")
        return []
    if not isinstance(results, list):  # firstresult
        results = [results]
    return [result for result in results if result is not None]


def _isolated(function: Callable[..., Any], plugin: str, what: str) -> Callable[..., Any]:
    @functools.wraps(function)
    def isolated(*args: Any) -> Any:  # pluggy passes a hook's arguments by position
        return run_isolated(plugin, what, function, *args)

    isolated.siyu_isolated = True  # type: ignore[attr-defined]
    return isolated
