"""Test shops built fast: each configuration is migrated once per session into a template
database, and every test gets a copy (a file copy on SQLite, ``CREATE DATABASE … TEMPLATE`` on
PostgreSQL).

Template names carry the session's own token, so sessions sharing a reused cluster
(``SIYU_TEST_POSTGRES_URL``), one after the other or at the same time, never collide.
"""
from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path
from typing import Any

_TEMPLATES: dict[tuple, str] = {}
SESSION = f"{os.getpid()}_{secrets.token_hex(3)}"


def base_config() -> dict[str, Any]:
    return {
        "TESTING": True,
        "SECURE_COOKIES": False,
        "SECRET_KEY": "test-secret-key",
        "RATELIMIT_ENABLED": False,
        "STRIPE_SECRET_KEY": "",
        "STRIPE_PUBLISHABLE_KEY": "",
        "STRIPE_WEBHOOK_SECRET": "whsec_test_siyu",
    }


def _template_key(config: dict, plugins: list) -> tuple:
    enabled = config.get("PLUGINS", ())
    return (enabled if isinstance(enabled, str) else tuple(sorted(enabled)),
            tuple(sorted(getattr(p, "__name__", repr(type(p))) for p in plugins)))


def _migrated(config: dict, plugins: list, url: str, instance: Path) -> None:
    from siyu.core import migrate
    from siyu.storefront import create_app

    app = create_app({**config, "DATABASE_URL": url}, plugins=plugins, instance_path=str(instance))
    migrate.upgrade(app.extensions["siyu"])
    app.extensions["siyu"].db.dispose()


def make_app(tmp_path: Path, config: dict, plugins: list, cluster=None):
    """A shop in ``tmp_path/instance`` on a fresh copy of the migrated template: SQLite, or a
    database of ``cluster`` (a ``PostgresCluster``) when one is given."""
    from siyu.storefront import create_app
    from siyu.storefront.testing_kit import ShopClient

    instance = tmp_path / "instance"
    instance.mkdir(exist_ok=True)
    full = {**base_config(), **config}
    key = ("postgresql" if cluster else "sqlite",) + _template_key(full, plugins)
    if cluster is not None:
        if key not in _TEMPLATES:
            name = cluster.create_database(f"tpl_{SESSION}_{len(_TEMPLATES)}")
            _migrated(full, plugins, cluster.url(name), instance)
            _TEMPLATES[key] = name
        full["DATABASE_URL"] = cluster.url(cluster.create_database(template=_TEMPLATES[key]))
    else:
        if key not in _TEMPLATES:
            template = tmp_path.parent / f"siyu-template-{len(_TEMPLATES)}.db"
            _migrated(full, plugins, f"sqlite:///{template}", instance)
            _TEMPLATES[key] = str(template)
        target = instance / "siyu.db"
        shutil.copyfile(_TEMPLATES[key], target)
        full["DATABASE_URL"] = f"sqlite:///{target}"
    app = create_app(full, plugins=plugins, instance_path=str(instance))
    app.test_client_class = ShopClient
    return app
