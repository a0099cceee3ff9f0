"""Locale selection and translation catalogs (core and plugins merged)."""
from __future__ import annotations

from pathlib import Path

from babel import Locale
from flask import Flask, g, has_request_context, request, session
from flask_babel import Babel, get_locale, gettext
from flask_login import current_user

from siyu.core import i18n as core_i18n
from siyu.storefront.context import database_closed, shop_settings

LOCALES = ("zh_CN", "en")
LOCALE_NAMES = {"zh_CN": "中文", "en": "English"}
TRANSLATIONS = Path(__file__).resolve().parent / "translations"


class _Nobody:
    pass


_NOBODY = _Nobody()


def select_locale() -> str:
    """Chosen in the switcher > the member's own > Accept-Language > the shop's default."""
    if not has_request_context():  # CLI and jobs speak the shop's default language
        default = shop_settings().get("default_locale")
        return default if default in LOCALES else "zh_CN"
    chosen = session.get("locale")
    if chosen in LOCALES:
        return chosen
    if database_closed():  # an error page: the member's language only if already loaded
        member_locale = vars(g.get("_login_user") or _NOBODY).get("locale")
    else:
        member_locale = getattr(current_user, "locale", None)
    if member_locale in LOCALES:
        return member_locale
    best = request.accept_languages.best_match(LOCALES + ("zh",))
    if best == "zh":
        return "zh_CN"
    if best:
        return best
    default = shop_settings().get("default_locale")
    return default if default in LOCALES else "zh_CN"


_PARSED: dict[str, Locale] = {}


def selected_locale() -> Locale:
    """``select_locale()`` as a Babel ``Locale``, parsed once per code per process.

    Flask-Babel parses the selector's string on every request, and ``Locale.parse`` scans
    every locale name Babel knows (about a fifth of a cached page's time); a ``Locale`` it
    is given is used as it is.
    """
    code = select_locale()
    locale = _PARSED.get(code)
    if locale is None:
        locale = _PARSED[code] = Locale.parse(code)
    return locale


def select_timezone() -> str:
    return shop_settings().get("timezone") or "Asia/Shanghai"


def init_app(app: Flask, kernel) -> None:
    directories = [str(TRANSLATIONS)]
    kernel.pm.hook.register_translations(register=lambda path: directories.append(str(path)))
    # One Babel per app: Flask-Babel caches catalogs on the Babel object by locale only, so a
    # shared one would hand an app the catalogs (core + plugins) of the first app in the process.
    Babel().init_app(app, locale_selector=selected_locale, timezone_selector=select_timezone,
                     default_translation_directories=";".join(directories))
    core_i18n.set_resolver(gettext)
    core_i18n.set_locale_resolver(get_locale)
    app.jinja_env.globals.update(LOCALES=LOCALES, LOCALE_NAMES=LOCALE_NAMES)
