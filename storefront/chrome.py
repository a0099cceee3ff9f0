"""The page chrome plugins add through start-up hooks: stylesheets and navigation links.

Both are the same for every shopper of a locale and sign-in state, so they are rendered
once per worker (``storefront/cache.py``) instead of calling every plugin on every page.
The hooks are called on a cache miss, so a plugin registered at run time (tests) shows at
once: the set of plugins is part of the key.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, request, url_for
from flask_login import current_user
from markupsafe import Markup

from siyu.storefront.cache import CHROME, cached, plugin_names
from siyu.storefront.context import kernel
from siyu.storefront.views.helpers import locale_code


@dataclass(frozen=True)
class NavLink:
    endpoint: str
    label: object  # lazy-translatable
    signed_in: bool | None
    order: int
    css_class: str


def _stylesheets() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    kernel().pm.hook.register_stylesheets(register=lambda endpoint, filename: found.append((endpoint, filename)))
    return found


def _nav_links() -> list[NavLink]:
    found: list[NavLink] = []

    def register(endpoint: str, label, signed_in: bool | None = True, order: int = 100, css_class: str = "") -> None:
        found.append(NavLink(endpoint, label, signed_in, order, css_class))

    kernel().pm.hook.register_nav_links(register=register)
    return sorted(found, key=lambda link: link.order)


def head_links() -> Markup:
    """The shop's and the plugins' stylesheet links and the icon, for ``<head>``."""
    def render() -> str:
        links = [url_for("static", filename="siyu.css")] + [url_for(e, filename=f) for e, f in _stylesheets()]
        html = [Markup('<link rel="stylesheet" href="{}">').format(href) for href in links]
        html.append(Markup('<link rel="icon" href="{}" type="image/svg+xml">').format(
            url_for("static", filename="favicon.svg")))
        return Markup("\n  ").join(html)
    return cached(("head", request.script_root, plugin_names()), render, CHROME)


def nav_links(signed_in: bool | None = None) -> Markup:
    """The plugins' navigation links for this shopper's locale and sign-in state (given by
    an error page, which must not load the member)."""
    if signed_in is None:
        signed_in = bool(current_user.is_authenticated)

    def render() -> str:
        shown = [link for link in _nav_links() if link.signed_in is None or link.signed_in == signed_in]
        return Markup("\n    ").join(
            Markup('<a href="{}"{}>{}</a>').format(
                url_for(link.endpoint), Markup(' class="{}"').format(link.css_class) if link.css_class else "",
                str(link.label))
            for link in shown)
    return cached(("nav", locale_code(), signed_in, request.script_root, plugin_names()), render, CHROME)


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(head_links=head_links, nav_links=nav_links)
