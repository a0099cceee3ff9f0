"""A product's title in the language being rendered, for messages built outside a request."""
from __future__ import annotations

from babel.support import LazyProxy


def _locale() -> str:
    # The storefront picks the locale per request; jobs and the CLI fall back to Chinese.
    try:
        from flask import has_request_context
        from flask_babel import get_locale
    except ImportError:  # pragma: no cover - the core without its web layer
        return "zh_CN"
    return str(get_locale() or "zh_CN") if has_request_context() else "zh_CN"


def product_title(product) -> LazyProxy:
    title_zh, title_en = product.title_zh, product.title_en
    return LazyProxy(lambda: title_zh if _locale().startswith("zh") else title_en, enable_cache=False)
