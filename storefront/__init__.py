"""Siyu storefront: the Flask application factory.

``flask --app siyu.storefront run`` serves the shop; ``flask --app siyu.storefront siyu``
holds the shop's commands (plugins, db upgrade, seed, demo...).
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Iterable, Mapping

from flask import Flask

from siyu.core.kernel import DEFAULTS, Kernel, config_from_env
from siyu.storefront import admin, api, chrome, context, errors, i18n, inputs, media, security, visitor
from siyu.storefront import hookspecs as web_hookspecs
from siyu.storefront.extensions import csrf, drop_idle_limit_check, limiter, login_manager
from siyu.storefront.logs import configure_logging
from siyu.storefront.views import helpers

CORE_BLUEPRINTS = (
    "siyu.storefront.views.catalog",
    "siyu.storefront.views.cart",
    "siyu.storefront.views.checkout",
    "siyu.storefront.views.account",
    "siyu.storefront.views.webhooks",
    "siyu.storefront.views.locale",
    "siyu.storefront.views.chat",
    "siyu.storefront.views.addresses",
    "siyu.storefront.views.after_sales",
)


def create_app(test_config: Mapping[str, Any] | None = None, plugins: Iterable[Any] = (),
               instance_path: str | None = None) -> Flask:
    """Build one shop application.

    Configuration, later wins: defaults, ``<instance>/siyu.cfg``, ``SIYU_*`` environment
    variables, then ``test_config``. ``plugins`` registers extra plugin objects (tests).
    The instance folder (database, secret key, ``siyu.cfg``) is ``instance_path``,
    ``$SIYU_INSTANCE_PATH`` or ``./instance``.
    """
    instance_path = instance_path or os.environ.get("SIYU_INSTANCE_PATH") or str(Path.cwd() / "instance")
    app = Flask(__name__, instance_path=str(Path(instance_path).resolve()),
                instance_relative_config=True)
    app.config.from_mapping(DEFAULTS)
    app.config.update(
        DATABASE_URL=f"sqlite:///{Path(app.instance_path) / 'siyu.db'}",
        QUEUE_URL=f"sqlite:///{Path(app.instance_path) / 'queue.db'}",
        SECURE_COOKIES=True,
        MAX_CONTENT_LENGTH=8 * 1024 * 1024,
        RATELIMIT_STORAGE_URI="memory://",
        RATELIMIT_ENABLED=True,
        RATELIMIT_HEADERS_ENABLED=True,
        WTF_CSRF_TIME_LIMIT=None,
        SEND_FILE_MAX_AGE_DEFAULT=3600,
    )
    app.config.from_pyfile("siyu.cfg", silent=True)
    app.config.update(config_from_env())
    for key in ("SECURE_COOKIES", "RATELIMIT_STORAGE_URI", "SECRET_KEY"):
        if f"SIYU_{key}" in os.environ:
            app.config[key] = os.environ[f"SIYU_{key}"] not in ("0", "false", "no") \
                if key == "SECURE_COOKIES" else os.environ[f"SIYU_{key}"]
    if test_config:
        app.config.update(test_config)
    # The secret key is read (or made) in the instance folder on first use, by the first request:
    # building the app for a command that needs none (new-plugin) writes nothing.
    app.session_interface = security.KeyOnFirstUse()
    # The shop's log lines (time, level, logger; repeats summarised) unless the host set up its
    # own; before the plugin manager (hook tracing) and Flask's logger look for handlers.
    configure_logging(app.config)
    if app.config.get("TRACE_HOOKS"):
        logging.getLogger("siyu.hooks").setLevel(logging.INFO)
    _trust_proxies(app)

    _apply_plugin_choice(app)
    siyu = Kernel(app.config, extra_plugins=plugins, hookspecs=[web_hookspecs])
    app.extensions["siyu"] = siyu
    _warn_pending_migrations(siyu)
    app.teardown_appcontext(context.close_db)

    security.configure_cookies(app)
    security.install_headers(app)
    inputs.init_app(app)  # before any route is added: the bounded int converter
    csrf.init_app(app)
    limiter.init_app(app)
    _init_login(app)
    i18n.init_app(app, siyu)
    visitor.init_app(app)
    errors.init_app(app)
    helpers.init_app(app)
    chrome.init_app(app)
    _register_blueprints(app, siyu)
    admin.init_app(app)
    media.init_app(app)
    api.init_app(app)
    drop_idle_limit_check(app)

    from siyu.storefront.cli import cli_for

    app.cli.add_command(cli_for(siyu))
    return app


def _apply_plugin_choice(app: Flask) -> None:
    """Apply the owner's enable/disable choice from the back office (stored in the database)
    on top of the configuration; it takes effect when a worker starts."""
    from siyu.core.plugin_admin import apply_stored_choice, read_choice_at_startup

    enabled, disabled = read_choice_at_startup(app.config["DATABASE_URL"])
    if enabled or disabled:
        apply_stored_choice(app.config, enabled, disabled)


def _warn_pending_migrations(siyu: Kernel) -> None:
    """Nothing migrates at start-up: say so when the database lags behind the enabled
    branches (pages and hooks of a plugin whose tables are missing would fail)."""
    from siyu.core.migrate import startup_warning

    message = startup_warning(siyu)
    if message:
        logging.getLogger("siyu.migrate").warning(message)


def _trust_proxies(app: Flask) -> None:
    """Behind ``PROXY_FIX`` trusted proxies, take the client's address and scheme from the
    ``X-Forwarded-For`` / ``X-Forwarded-Proto`` entries they appended (werkzeug's ProxyFix).

    Unset (0, the default), those headers are ignored: the rate limits and the shopper's
    session protection use the address of whoever connected, so a client cannot pick the
    address it is counted or recognised under.
    """
    from werkzeug.middleware.proxy_fix import ProxyFix

    count = int(app.config.get("PROXY_FIX") or 0)
    if count > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)  # type: ignore[method-assign]


def _init_login(app: Flask) -> None:
    from siyu.storefront.signed_in import load_member

    login_manager.init_app(app)
    login_manager.login_view = "account.login"
    login_manager.login_message = None
    login_manager.session_protection = "strong"
    login_manager.user_loader(load_member)


def _register_blueprints(app: Flask, siyu: Kernel) -> None:
    import importlib

    for dotted in CORE_BLUEPRINTS:
        app.register_blueprint(importlib.import_module(dotted).bp)

    def register(blueprint, url_prefix: str | None = None) -> None:
        app.register_blueprint(blueprint, url_prefix=url_prefix)

    siyu.pm.hook.register_blueprints(register=register)
