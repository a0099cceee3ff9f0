"""The plugin manager: default plugins, installed entry points, enabled state, tracing.

Display hooks are called with ``call_isolated`` (``siyu.core.isolation``, re-exported here)."""
from __future__ import annotations

import importlib
import logging
import threading
import time
from dataclasses import dataclass, field
from importlib import metadata
from types import ModuleType
from typing import Any, Callable, Iterable

import pluggy

from siyu.core import hookspecs as core_hookspecs
from siyu.core import hookspecs_people as core_people_hookspecs
from siyu.core.isolation import call_isolated, failures_seen  # noqa: F401 - call_isolated is re-exported

log = logging.getLogger("siyu.plugins")
trace_log = logging.getLogger("siyu.hooks")

ENTRY_POINT_GROUP = "siyu"

#: Core features written as plugins on the same hooks (``trylast``), so a third-party
#: plugin can replace any of them.
DEFAULT_PLUGINS = (
    "siyu.core.default_plugins.catalog",
    "siyu.core.default_plugins.payments",
    "siyu.core.default_plugins.migrations",
    "siyu.core.default_plugins.conversations",
    "siyu.core.default_plugins.fulfilment",
    "siyu.core.default_plugins.order_notices",
    "siyu.core.default_plugins.outbox",
)


@dataclass
class InstalledPlugin:
    name: str
    version: str
    enabled: bool
    hooks: list[str] = field(default_factory=list)
    default: bool = False


def installed_entry_points() -> list[metadata.EntryPoint]:
    return sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)


def _is_enabled(name: str, enabled: Iterable[str] | str, disabled: Iterable[str]) -> bool:
    if name in set(disabled):
        return False
    return enabled == "*" or name in set(enabled)


class PluginManager(pluggy.PluginManager):
    """pluggy's manager for one shop. It refuses ``optionalhook=True`` on an implementation of
    Siyu's own hooks (the core's and the host's): pluggy would then silently skip a misspelt or
    renamed hook instead of failing at start-up. A plugin's implementation of another plugin's
    hook may be optional: that hook exists only while the other plugin is enabled."""

    def __init__(self) -> None:
        super().__init__("siyu")
        self.siyu_own_hooks: set[str] = set()
        #: Called after a plugin is registered or unregistered (the kernel's registries).
        self.siyu_listeners: list[Callable[[], None]] = []

    def add_own_hookspecs(self, module: Any) -> None:
        """Add the core's or the host's hook module (not a plugin's)."""
        self.add_hookspecs(module)
        self.siyu_own_hooks.update(name for name in dir(module) if self.parse_hookspec_opts(module, name))

    def register(self, plugin: Any, name: str | None = None) -> str | None:
        for attr in dir(plugin):
            opts = self.parse_hookimpl_opts(plugin, attr)
            hook = (opts or {}).get("specname") or attr
            if opts and opts.get("optionalhook") and hook in self.siyu_own_hooks:
                raise pluggy.PluginValidationError(
                    plugin, f"plugin {name or plugin!r}: {hook} is one of Siyu's hooks; remove optionalhook=True "
                            "(it would hide a misspelt or renamed hook)")
        registered = super().register(plugin, name)
        self._plugins_changed()
        return registered

    def unregister(self, plugin: Any = None, name: str | None = None) -> Any:
        removed = super().unregister(plugin, name)
        self._plugins_changed()
        return removed

    def _plugins_changed(self) -> None:
        for listener in list(self.siyu_listeners):
            listener()


def make_plugin_manager(
    enabled: Iterable[str] | str = (),
    disabled: Iterable[str] = (),
    extra_plugins: Iterable[Any] = (),
    trace: bool = False,
    hookspecs: Iterable[ModuleType] = (),
) -> pluggy.PluginManager:
    """Build a fresh manager: default plugins, then the enabled installed plugins.

    Installed is not enabled: an entry point of group ``siyu`` is loaded only when its name
    is in ``enabled`` (or ``enabled == "*"``) and not in ``disabled``. ``extra_plugins``
    (objects or modules) are registered as they are, for tests and embedding.

    ``hookspecs`` are the host's hook modules beside the core's (the storefront passes its
    web hooks). With them, an implementation of a hook nobody specifies fails at start-up
    (a typo, a renamed hook); without them (the core alone: a job runner, another host's CLI)
    such implementations are left uncalled, since the core cannot tell a web hook it does not
    know from a typo.
    """
    pm = PluginManager()
    host = list(hookspecs)
    for module in (core_hookspecs, core_people_hookspecs, *host):
        pm.add_own_hookspecs(module)
    pm.hook.register_hookspecs.call_historic(kwargs={"pm": pm})
    for dotted in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(dotted), name=dotted)
    enabled = enabled if enabled == "*" else list(enabled)
    for ep in installed_entry_points():
        if not _is_enabled(ep.name, enabled, disabled):
            pm.set_blocked(ep.name)
    pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    for plugin in extra_plugins:
        pm.register(plugin, name=getattr(plugin, "__name__", None) or repr(plugin))
    if host:
        pm.check_pending()
    if trace:
        enable_tracing(pm)
    return pm


def describe_plugins(pm: pluggy.PluginManager) -> list[InstalledPlugin]:
    """Installed and default plugins with version, enabled state and implemented hooks."""
    rows = []
    for dotted in DEFAULT_PLUGINS:
        rows.append(
            InstalledPlugin(dotted, "core", True, _hooks_of(pm, pm.get_plugin(dotted)), True)
        )
    for ep in installed_entry_points():
        plugin = pm.get_plugin(ep.name)
        rows.append(
            InstalledPlugin(
                ep.name,
                ep.dist.version if ep.dist else "?",
                plugin is not None,
                _hooks_of(pm, plugin) if plugin is not None else [],
            )
        )
    return rows


def _hooks_of(pm: pluggy.PluginManager, plugin: Any) -> list[str]:
    callers = pm.get_hookcallers(plugin) or []
    return sorted(caller.name for caller in callers)


def enable_tracing(pm: pluggy.PluginManager) -> None:
    """Log every hook call with the plugins called and the time spent (``SIYU_TRACE_HOOKS=1``).

    Logger ``siyu.hooks`` at INFO; when the process has configured no logging at all (a plain
    ``flask run``), a stderr handler is added so the trace is seen.
    """
    starts = threading.local()  # hooks nest and requests run in threads: one stack per thread

    def before(hook_name, hook_impls, kwargs):
        starts.__dict__.setdefault("stack", []).append((time.perf_counter(), failures_seen()))

    def after(outcome, hook_name, hook_impls, kwargs):
        started, failures = starts.stack.pop()
        elapsed = (time.perf_counter() - started) * 1000
        skipped = failures_seen() > failures  # a display hook's implementation, isolated
        _trace(hook_name, [impl.plugin_name for impl in reversed(hook_impls)], elapsed,
               outcome.exception is not None or skipped)

    pm.add_hookcall_monitoring(before, after)
    if trace_log.level == logging.NOTSET or trace_log.level > logging.INFO:
        trace_log.setLevel(logging.INFO)
    if not trace_log.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
        trace_log.addHandler(handler)


def _trace(hook_name: str, plugins: list[str], elapsed_ms: float, failed: bool) -> None:
    trace_log.info("hook %s [%s] %.2f ms%s", hook_name, ", ".join(plugins), elapsed_ms,
                   " FAILED" if failed else "")
