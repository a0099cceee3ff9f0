"""Per-worker caches of rendered storefront fragments that rarely change.

The home page's product list is the same for every anonymous shopper until the catalog
changes, so each worker keeps its rendered HTML, keyed by what it depends on: the catalog
revision (``core`` setting ``catalog_revision``, bumped by
``siyu.core.settings.bump_catalog_revision`` on any product change and read through the
shop settings every request, see ``context.SETTINGS_TTL``), the locale, the sort, the
sort orders offered, the registered plugins and the script root the URLs are built on.

Entries live in ``app.extensions`` (one cache per application, never shared between apps)
and the oldest are dropped past ``MAX_ENTRIES``. The cache is bypassed while templates
auto-reload (debug), so an edited template shows at once.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable, Hashable

from flask import current_app, g, request
from markupsafe import Markup

from siyu.storefront.context import kernel, shop_settings

MAX_ENTRIES = 128
EXTENSION = "siyu_fragment_cache"
CHROME = "siyu_chrome_cache"        # stylesheet and navigation links (storefront/chrome.py)
SNAPSHOTS = "siyu_snapshot_cache"   # read-only objects such as a product with its images


class FragmentCache:
    """A small LRU mapping of keys to rendered markup (or read-only snapshots), safe for
    threaded workers."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_render(self, key: Hashable, render: Callable[[], str]) -> Markup:
        return self.get_or_make(key, lambda: Markup(render()))

    def get_or_make(self, key: Hashable, make: Callable[[], Any]) -> Any:
        """The value kept for ``key``, made and kept on a miss (``None`` is not kept)."""
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return value
            self.misses += 1
        value = make()
        if value is None:
            return None
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def fragment_cache(name: str = EXTENSION) -> FragmentCache:
    """The current application's cache called ``name`` (created on first use)."""
    cache = current_app.extensions.get(name)
    if cache is None:
        cache = current_app.extensions.setdefault(name, FragmentCache())
    return cache


def plugin_names() -> tuple[str, ...]:
    """Names of the plugins registered right now (tests may add some at run time)."""
    return tuple(sorted(name for name, plugin in kernel().pm.list_name_plugin()
                        if plugin is not None))


def catalog_key(*parts: Hashable) -> tuple:
    """A key for a catalog fragment: the catalog revision and the request's invariants + ``parts``."""
    base = g.get("siyu_catalog_key")
    if base is None:  # once per request: a page may hold several cached fragments
        base = g.siyu_catalog_key = (shop_settings().get("catalog_revision"), request.script_root,
                                     plugin_names())
    return base + parts


def cached(key: Hashable, render: Callable[[], str], cache: str = EXTENSION) -> Markup:
    """``render()``'s markup, from the cache when ``key`` was rendered before."""
    if current_app.jinja_env.auto_reload:
        return Markup(render())
    return fragment_cache(cache).get_or_render(key, render)


def cached_snapshot(key: Hashable, make: Callable[[], Any]) -> Any:
    """Like ``cached`` for a read-only object (``None`` is not kept): the caller must never
    change what it gets, other requests share it."""
    if current_app.jinja_env.auto_reload:
        return make()
    return fragment_cache(SNAPSHOTS).get_or_make(key, make)
