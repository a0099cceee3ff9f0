"""Siyu's pytest plugin (entry point ``pytest11``): fixtures for the core and for plugins.

- ``siyu_config`` / ``siyu_plugins``: override in a conftest to configure the app or to
  add plugin objects that contribute start-up things (blueprints, migrations).
- ``app``, ``client``, ``runner``, ``db``: a migrated shop per test. SQLite by default;
  ``SIYU_TEST_DATABASE=postgresql`` runs the same tests on a throwaway PostgreSQL cluster.
- ``pg_app``: always PostgreSQL, for race tests (skipped only when no server can be
  started, and never skipped under ``CI``).
- ``register_plugin``: register a plugin object into the running app for request-time hooks.
- ``localstripe``: a fake Stripe server on 127.0.0.1; ``stripe_app`` uses it.
- ``live_server``: the app served on 127.0.0.1 from a thread, for webhooks and browsers.
- ``give_address(session, member)``: a default delivery address, which the checkout needs
  for goods that ship.
"""
from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from typing import Any, Iterator

import pytest

from siyu.storefront.testing_pg import PostgresCluster, PostgresUnavailable, find_pg_bin

_TEMPLATES: dict[tuple, str] = {}
_PG_UNAVAILABLE: list[str] = []  # why the session's cluster could not start


#: A valid mainland address (杭州市西湖区) for tests whose shoppers buy goods that ship.
TEST_ADDRESS = {"recipient": "王小明", "phone": "13812345678", "province_code": "330000",
                "city_code": "330100", "district_code": "330106", "street": "文三路 90 号 501"}


def give_address(session, member, **changes):
    """Add a default delivery address to ``member``'s address book and return it."""
    from siyu.core.addresses import add_address

    return add_address(session, member, {**TEST_ADDRESS, **changes}, make_default=True)


def allow_unpaid_orders(session, orders=100, units=10_000):
    """Raise the shop's caps on unpaid orders (``siyu.core.reservations``; 3 orders and 50
    items by default): for tests that leave many orders of one member unpaid on purpose."""
    from siyu.core import settings
    from siyu.core.db import write_transaction

    with write_transaction(session):
        settings.put(session, "core", "unpaid_orders_cap", orders)
        settings.put(session, "core", "unpaid_units_cap", units)


def _template_key(config: dict, plugins: list) -> tuple:
    enabled = config.get("PLUGINS", ())
    return (enabled if isinstance(enabled, str) else tuple(sorted(enabled)),
            tuple(sorted(getattr(p, "__name__", repr(type(p))) for p in plugins)))


def _base_config() -> dict[str, Any]:
    return {
        "TESTING": True,
        "SECURE_COOKIES": False,
        "SECRET_KEY": "test-secret-key",
        "RATELIMIT_ENABLED": False,
        "STRIPE_SECRET_KEY": "",
        "STRIPE_PUBLISHABLE_KEY": "",
        "STRIPE_WEBHOOK_SECRET": "whsec_test_siyu",
    }


@pytest.fixture
def siyu_config() -> dict[str, Any]:
    """Extra configuration for the ``app`` fixture; override to change it."""
    return {}


@pytest.fixture
def siyu_plugins() -> list[Any]:
    """Plugin objects registered when the app is created; override to add yours."""
    return []


@pytest.fixture(scope="session")
def postgresql_cluster() -> Iterator[PostgresCluster | None]:
    """A throwaway PostgreSQL cluster on 127.0.0.1 (``SIYU_TEST_POSTGRES_URL`` to reuse one)."""
    url = os.environ.get("SIYU_TEST_POSTGRES_URL")
    if url:
        yield PostgresCluster.external(url)
        return
    if find_pg_bin() is None:
        yield None
        return
    try:
        cluster = PostgresCluster.start()  # leaves nothing running when it fails
    except PostgresUnavailable as exc:  # e.g. psycopg not installed
        _PG_UNAVAILABLE.append(str(exc))
        yield None
        return
    try:
        yield cluster
    finally:
        cluster.stop()


def _make_app(request, tmp_path: Path, config: dict, plugins: list, backend: str):
    from siyu.core import migrate
    from siyu.storefront import create_app

    instance = tmp_path / "instance"
    instance.mkdir(exist_ok=True)
    full = {**_base_config(), **config}
    key = (backend,) + _template_key(full, plugins)
    if backend == "postgresql":
        cluster = request.getfixturevalue("postgresql_cluster")
        if cluster is None:
            reason = _PG_UNAVAILABLE[-1] if _PG_UNAVAILABLE else "PostgreSQL server binaries not installed"
            if os.environ.get("CI"):
                pytest.fail(f"PostgreSQL is required in CI but no server could be started: {reason}")
            pytest.skip(reason)
        if key not in _TEMPLATES:
            _TEMPLATES[key] = cluster.create_database(f"tpl_{len(_TEMPLATES)}")
            tpl_app = create_app({**full, "DATABASE_URL": cluster.url(_TEMPLATES[key])}, plugins=plugins,
                                 instance_path=str(instance))
            migrate.upgrade(tpl_app.extensions["siyu"])
            tpl_app.extensions["siyu"].db.dispose()
        full["DATABASE_URL"] = cluster.url(cluster.create_database(template=_TEMPLATES[key]))
    else:
        if key not in _TEMPLATES:
            template = tmp_path.parent / f"siyu-template-{len(_TEMPLATES)}.db"
            tpl_app = create_app({**full, "DATABASE_URL": f"sqlite:///{template}"}, plugins=plugins,
                                 instance_path=str(instance))
            migrate.upgrade(tpl_app.extensions["siyu"])
            tpl_app.extensions["siyu"].db.dispose()
            _TEMPLATES[key] = str(template)
        target = instance / "siyu.db"
        shutil.copyfile(_TEMPLATES[key], target)
        full["DATABASE_URL"] = f"sqlite:///{target}"
    return create_app(full, plugins=plugins, instance_path=str(instance))


def _backend() -> str:
    return "postgresql" if os.environ.get("SIYU_TEST_DATABASE", "").startswith("postgres") else "sqlite"


@pytest.fixture
def app(request, tmp_path, siyu_config, siyu_plugins):
    """A shop with a freshly migrated database (SQLite, or PostgreSQL when asked)."""
    application = _make_app(request, tmp_path, siyu_config, siyu_plugins, _backend())
    yield application
    application.extensions["siyu"].db.dispose()


@pytest.fixture
def pg_app(request, tmp_path, siyu_config, siyu_plugins):
    """A shop on PostgreSQL whatever the suite's backend: for races and row locks."""
    application = _make_app(request, tmp_path, siyu_config, siyu_plugins, "postgresql")
    yield application
    application.extensions["siyu"].db.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def kernel(app):
    return app.extensions["siyu"]


@pytest.fixture
def db(app):
    """A session on the app's database, outside any request."""
    session = app.extensions["siyu"].db.Session()
    yield session
    session.close()


@pytest.fixture
def register_plugin(app):
    """Register plugin objects into the running app (request-time hooks); undone after."""
    pm = app.extensions["siyu"].pm
    added = []

    def register(plugin, name: str | None = None):
        added.append(pm.register(plugin, name=name))
        return plugin

    yield register
    for name in added:
        pm.unregister(name=name)


@pytest.fixture(scope="session")
def localstripe() -> Iterator[str]:
    """Base URL of a localstripe server started on 127.0.0.1 for the session."""
    from siyu.storefront import devstripe

    proc, base = devstripe.start()
    try:
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def stripe_config(localstripe) -> dict[str, str]:
    from siyu.storefront import devstripe

    devstripe.reset(localstripe)
    return devstripe.dev_config(localstripe)


class LiveServer:
    def __init__(self, app):
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(app) -> Iterator[LiveServer]:
    """The ``app`` served over HTTP on 127.0.0.1 from a background thread."""
    server = LiveServer(app)
    yield server
    server.stop()
