"""A product's title in the language being rendered, for messages built outside a request."""
from __future__ import annotations

from babel.support import LazyProxy

from siyu.plugin import current_locale


def _locale() -> str:
    return current_locale()  # the viewer's in the storefront; Chinese in jobs and the CLI


def product_title(product) -> LazyProxy:
    title_zh, title_en = product.title_zh, product.title_en
    return LazyProxy(lambda: title_zh if _locale().startswith("zh") else title_en, enable_cache=False)
