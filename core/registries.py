"""What plugins contribute through ``register_*`` hooks, collected once per kernel, in one place.

``kernel.registry(name, collect)`` builds a registry on first use and keeps it on the kernel:
the channels, the card types, the job queue, the back office's menu, widgets and settings
forms. A registry is collected again when the kernel's set of plugins changes (a test
registering a plugin), unless it is ``lasting`` (the job queue: its tasks are running).

``contributions(pm, hook)`` calls a ``register_*`` hook through pluggy (wrappers and hook
monitoring see it) and says which plugin made each ``register(...)`` call, so a failure of
something registered later is logged with its plugin's name.
"""
from __future__ import annotations

import sys
import threading
from typing import Any, Callable, NamedTuple

_MISSING = object()


class Contribution(NamedTuple):
    plugin: str
    args: tuple
    kwargs: dict

    def arg(self, index: int, name: str, default: Any = _MISSING) -> Any:
        """The ``register(...)`` argument at ``index``, or given as ``name=``."""
        if len(self.args) > index:
            return self.args[index]
        if name in self.kwargs:
            return self.kwargs[name]
        if default is _MISSING:
            raise TypeError(f"plugin {self.plugin} called register() without {name!r}")
        return default


class Registry(dict):
    """``name → thing`` as registered (the first registration of a name wins), with the plugin
    that registered each: ``plugin_of(name)``."""

    def __init__(self) -> None:
        super().__init__()
        self.plugins: dict[str, str] = {}

    def add(self, name: str, thing: Any, plugin: str) -> None:
        if name not in self:
            self[name] = thing
            self.plugins[name] = plugin

    def plugin_of(self, name: str) -> str:
        return self.plugins.get(name, "?")


def _code(function: Any) -> Any:
    function = getattr(function, "__wrapped__", function)
    return getattr(function, "__code__", None)


def contributions(pm: Any, hook_name: str, **kwargs: Any) -> list[Contribution]:
    """Every ``register(...)`` call the hook's implementations make, with the plugin making it."""
    hook = getattr(pm.hook, hook_name)
    codes = {_code(impl.function): impl.plugin_name for impl in hook.get_hookimpls()}
    found: list[Contribution] = []

    def register(*args: Any, **values: Any) -> None:
        frame = sys._getframe(1)  # the implementation, or a helper it called
        while frame is not None and frame.f_code not in codes:
            frame = frame.f_back
        found.append(Contribution(codes[frame.f_code] if frame is not None else "?", args, values))

    hook(register=register, **kwargs)
    return found


class Registries:
    """The kernel's registries, each built once by its ``collect(kernel)``."""

    def __init__(self, kernel: Any) -> None:
        self._kernel = kernel
        self._built: dict[str, Any] = {}
        self._lasting: set[str] = set()
        self._lock = threading.RLock()

    def get(self, name: str, collect: Callable[[Any], Any], lasting: bool = False) -> Any:
        found = self._built.get(name, _MISSING)
        if found is _MISSING:
            with self._lock:  # two threads asking at once build it once
                found = self._built.get(name, _MISSING)
                if found is _MISSING:
                    found = self._built[name] = collect(self._kernel)
                    if lasting:
                        self._lasting.add(name)
        return found

    def plugins_changed(self) -> None:
        """Forget what the plugins contributed (not the lasting registries): asked again on use."""
        with self._lock:
            for name in list(self._built):
                if name not in self._lasting:
                    del self._built[name]
