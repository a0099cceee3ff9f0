"""The runtime of one shop: configuration, database, plugin manager, payment providers.

Built by ``create_app()`` for the web and by the CLI and jobs alike; nothing here is an
import-time global.
"""
from __future__ import annotations

import os
from types import ModuleType
from typing import Any, Callable, Iterable, Mapping

import pluggy

from siyu.core import outbox_runner
from siyu.core.db import Database
from siyu.core.plugins import make_plugin_manager
from siyu.core.registries import Registries

DEFAULTS: dict[str, Any] = {
    "DATABASE_URL": "sqlite:///siyu.db",
    # Installed is not enabled: list plugin names, or "*" for every installed plugin.
    "PLUGINS": (),
    "PLUGINS_DISABLED": (),
    "TRACE_HOOKS": False,
    "STRIPE_SECRET_KEY": "",
    "STRIPE_PUBLISHABLE_KEY": "",
    "STRIPE_WEBHOOK_SECRET": "",
    # Point the SDK at localstripe (http://127.0.0.1:8420) for development and tests.
    "STRIPE_API_BASE": "",
    "STRIPE_JS_URL": "https://js.stripe.com/v3/",
    "WEBHOOK_TOLERANCE": 300,
    # Minutes an unpaid order holds its stock (a provider may set its own, below).
    "RESERVATION_MINUTES": 30,
    # Minutes a bank-transfer / pay-on-delivery order holds its stock: the money arrives in
    # days, not minutes (3 days).
    "MANUAL_RESERVATION_MINUTES": 4320,
    # Background jobs (broadcasts): "sqlite:///path" (the app's default: the instance
    # folder), "redis://host:6379/0" at scale, or "memory:" for tests.
    "QUEUE_URL": "",
    # Run jobs at once in the caller instead of a worker (tests only).
    "QUEUE_IMMEDIATE": False,
    # Checkouts (POST /checkout) one member may send, Flask-Limiter notation ("10/minute;60/hour").
    "CHECKOUT_RATE_LIMIT": "10/minute;60/hour",
    # Sign-in lockout per email address (core/signin.py): after this many wrong passwords
    # the address is locked for SIGNIN_LOCK_SECONDS, doubling with each further failure,
    # up to SIGNIN_LOCK_MAX_SECONDS.
    "SIGNIN_LOCK_AFTER": 5,
    "SIGNIN_LOCK_SECONDS": 60,
    "SIGNIN_LOCK_MAX_SECONDS": 3600,
    # Behind a reverse proxy: how many proxies in front of the shop append X-Forwarded-For
    # and X-Forwarded-Proto (usually 1). 0 trusts no such header: the client's address is
    # the peer's, whatever the request says.
    "PROXY_FIX": 0,
    # Follow-up work recorded with after_commit (siyu.core.outbox): run in this process right
    # after the commit (a shop without a separate worker: the demo, small shops), or, off, by
    # the worker (`flask siyu worker`), which the commit wakes through the queue.
    "OUTBOX_INLINE": True,
    # Attempts before an outbox entry is marked failed (the back office can retry it).
    "OUTBOX_MAX_ATTEMPTS": 8,
}


class Kernel:
    def __init__(self, config: Mapping[str, Any], extra_plugins: Iterable[Any] = (),
                 hookspecs: Iterable[ModuleType] = ()):
        """``hookspecs``: the host's own hook modules (the storefront's web hooks), beside the
        core's; a kernel without them (the core alone) still loads plugins that implement them."""
        self.config = {**DEFAULTS, **dict(config)}
        self.pm: pluggy.PluginManager = make_plugin_manager(
            enabled=self.config["PLUGINS"],
            disabled=self.config["PLUGINS_DISABLED"],
            extra_plugins=extra_plugins,
            trace=bool(self.config["TRACE_HOOKS"]),
            hookspecs=hookspecs,
        )
        self.db = Database(self.config["DATABASE_URL"])
        self.registries = Registries(self)
        self.pm.siyu_listeners.append(self.registries.plugins_changed)
        self.payment_providers: dict[str, Any] = {}
        self.pm.hook.register_payment_providers(register=self._register_provider)
        outbox_runner.install(self)  # follow-up work recorded in a transaction runs after its commit

    @property
    def hook(self):
        return self.pm.hook

    def registry(self, name: str, collect: Callable[["Kernel"], Any], lasting: bool = False) -> Any:
        """What plugins contributed under ``name`` (channels, card types, the back office's menu,
        the job queue...), built by ``collect(kernel)`` on first use and kept here; collected
        again when the plugins change, unless ``lasting``."""
        return self.registries.get(name, collect, lasting)

    def _register_provider(self, provider: Any) -> None:
        from siyu.core.payments.gateway import check_gateway

        check_gateway(provider)  # a gateway lacking part of the contract fails at start-up, by name
        self.payment_providers.setdefault(provider.name, provider)

    def available_providers(self, currency: str | None = None, environment: Any = None) -> list[Any]:
        """Configured gateways; with ``currency`` and ``environment`` (a ``ClientEnvironment``),
        only those that take that currency from that browser or app."""
        found = [p for p in self.payment_providers.values() if p.available(self.config)]
        if currency is not None and environment is not None:
            found = [p for p in found if p.supports.fits(currency, environment)]
        return found

    def provider(self, name: str) -> Any:
        provider = self.payment_providers.get(name)
        if provider is None or not provider.available(self.config):
            return None
        return provider


def config_from_env(environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """Read ``SIYU_*`` variables: ``SIYU_DATABASE_URL``, ``SIYU_PLUGINS=a,b`` or ``*``..."""
    config: dict[str, Any] = {}
    for key in DEFAULTS:
        raw = environ.get(f"SIYU_{key}")
        if raw is None:
            continue
        if key in ("PLUGINS", "PLUGINS_DISABLED"):
            config[key] = "*" if raw.strip() == "*" else [p.strip() for p in raw.split(",") if p.strip()]
        elif key in ("TRACE_HOOKS", "QUEUE_IMMEDIATE", "OUTBOX_INLINE"):
            config[key] = raw.lower() in ("1", "true", "yes")
        elif isinstance(DEFAULTS[key], int) and not isinstance(DEFAULTS[key], bool):
            config[key] = int(raw)
        else:
            config[key] = raw
    return config
