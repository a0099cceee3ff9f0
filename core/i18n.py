"""Translatable text for the core without a web import.

Strings are marked with ``lazy_gettext`` and resolved when rendered; the storefront installs
the resolver (Flask-Babel's) at start-up. Outside a web app the English source is used.
"""
from __future__ import annotations

from typing import Callable

from babel.support import LazyProxy

_resolver: Callable[[str], str] | None = None
_locale: Callable[[], str | None] | None = None


def set_resolver(resolver: Callable[[str], str] | None) -> None:
    global _resolver
    _resolver = resolver


def set_locale_resolver(resolver: Callable[[], str | None] | None) -> None:
    global _locale
    _locale = resolver


def current_locale(default: str = "zh_CN") -> str:
    """The locale text is being rendered in (the viewer's, in the storefront), for what
    ``gettext`` cannot choose: a product's title in zh or en, money formats."""
    found = _locale() if _locale is not None else None
    return str(found) if found else default


def gettext(text: str, **variables) -> str:
    translated = _resolver(text) if _resolver is not None else text
    return translated % variables if variables else translated


def lazy_gettext(text: str, **variables) -> LazyProxy:
    return LazyProxy(gettext, text, enable_cache=False, **variables)
