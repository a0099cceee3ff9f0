"""Siyu's pytest plugin (entry point ``pytest11``): fixtures for the core's and plugins' tests.

Every fixture is named ``siyu_*``, so a project that also installs pytest-flask (``app``,
``client``, ``live_server``...) keeps both; a suite that wants short names defines them in its
own conftest (docs/writing-plugins.md). What they give:

- ``siyu_config`` / ``siyu_plugins``: override in a conftest to configure the app or to add
  plugin objects that contribute start-up things (blueprints, migrations).
- ``siyu_app``, ``siyu_client``, ``siyu_runner``, ``siyu_kernel``, ``siyu_db``: a migrated shop
  per test. SQLite by default; ``SIYU_TEST_DATABASE=postgresql`` runs the same tests on a
  throwaway PostgreSQL cluster (``SIYU_TEST_POSTGRES_URL`` reuses one, ``SIYU_TEST_PG_PORT``
  picks the throwaway one's port).
- ``siyu_pg_app``: always PostgreSQL, for race tests (skipped only when no server can be
  started, and never skipped under ``CI``).
- ``siyu_shopper`` / ``siyu_staff``: clients signed in as a new member (with an address) and
  as a new owner, CSRF handled (``siyu.storefront.testing_kit``).
- ``siyu_all_plugins``: true under ``--siyu-all-plugins`` or ``SIYU_TEST_ALL_PLUGINS=1``: a
  suite that enables plugins then runs with every installed plugin enabled; tests marked
  ``siyu_alone`` (they need the plugin without the others) are skipped then.
- ``siyu_register_plugin``: register a plugin object into the running app for request-time hooks.
- ``siyu_localstripe`` (``SIYU_TEST_LOCALSTRIPE_PORT``): a fake Stripe server on 127.0.0.1;
  ``siyu_stripe_config`` is the configuration that uses it.
- ``siyu_live_server`` (``SIYU_TEST_LIVE_PORT``): the app served on 127.0.0.1 from a thread.
"""
from __future__ import annotations

import os
import threading
from typing import Any, Iterator

import pytest

from siyu.storefront.testing_app import make_app
from siyu.storefront.testing_kit import (  # noqa: F401  (the kit's helpers, imported from here before)
    TEST_ADDRESS, allow_unpaid_orders, give_address, shopper_client, staff_client,
)
from siyu.storefront.testing_pg import PostgresCluster, PostgresUnavailable, find_pg_bin, port_from_env

_PG_UNAVAILABLE: list[str] = []  # why the session's cluster could not start


def pytest_addoption(parser):
    parser.addoption("--siyu-all-plugins", action="store_true", default=False,
                     help="Siyu: a test shop that enables plugins enables every installed plugin")


def pytest_configure(config):
    config.addinivalue_line("markers", "siyu_alone: the test needs its plugin without the others "
                                       "(skipped under --siyu-all-plugins / SIYU_TEST_ALL_PLUGINS=1)")


def _all_plugins(config) -> bool:
    return bool(config.getoption("--siyu-all-plugins")) or \
        os.environ.get("SIYU_TEST_ALL_PLUGINS", "") not in ("", "0", "false", "no")


def pytest_runtest_setup(item):
    if item.get_closest_marker("siyu_alone") and _all_plugins(item.config):
        pytest.skip("needs the plugin without the others (siyu_alone)")


def _backend() -> str:
    return "postgresql" if os.environ.get("SIYU_TEST_DATABASE", "").startswith("postgres") else "sqlite"


@pytest.fixture
def siyu_config() -> dict[str, Any]:
    """Extra configuration for ``siyu_app``; override to change it."""
    return {}


@pytest.fixture
def siyu_plugins() -> list[Any]:
    """Plugin objects registered when the app is created; override to add yours."""
    return []


@pytest.fixture
def siyu_all_plugins(request) -> bool:
    """Run with every installed plugin: ``--siyu-all-plugins`` or ``SIYU_TEST_ALL_PLUGINS=1``."""
    return _all_plugins(request.config)


@pytest.fixture(scope="session")
def siyu_pg_cluster() -> Iterator[PostgresCluster | None]:
    """A throwaway PostgreSQL cluster on 127.0.0.1 (``SIYU_TEST_POSTGRES_URL`` to reuse one:
    the databases this session creates there are dropped at its end)."""
    url = os.environ.get("SIYU_TEST_POSTGRES_URL")
    if url:
        cluster = PostgresCluster.external(url)
        try:
            yield cluster
        finally:
            cluster.drop_created()
        return
    if find_pg_bin() is None:
        yield None
        return
    try:
        cluster = PostgresCluster.start(port_from_env("SIYU_TEST_PG_PORT"))  # leaves nothing running when it fails
    except PostgresUnavailable as exc:  # e.g. psycopg not installed
        _PG_UNAVAILABLE.append(str(exc))
        yield None
        return
    try:
        yield cluster
    finally:
        cluster.stop()


def _cluster(request) -> PostgresCluster:
    cluster = request.getfixturevalue("siyu_pg_cluster")
    if cluster is None:
        reason = _PG_UNAVAILABLE[-1] if _PG_UNAVAILABLE else "PostgreSQL server binaries not installed"
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI but no server could be started: {reason}")
        pytest.skip(reason)
    return cluster


def _app(request, tmp_path, config, plugins, all_plugins, backend):
    if all_plugins and config.get("PLUGINS"):
        config = {**config, "PLUGINS": "*"}  # a suite that enables plugins: every installed one
    cluster = _cluster(request) if backend == "postgresql" else None
    application = make_app(tmp_path, config, plugins, cluster)
    yield application
    application.extensions["siyu"].db.dispose()


@pytest.fixture
def siyu_app(request, tmp_path, siyu_config, siyu_plugins, siyu_all_plugins):
    """A shop with a freshly migrated database (SQLite, or PostgreSQL when asked)."""
    yield from _app(request, tmp_path, siyu_config, siyu_plugins, siyu_all_plugins, _backend())


@pytest.fixture
def siyu_pg_app(request, tmp_path, siyu_config, siyu_plugins, siyu_all_plugins):
    """A shop on PostgreSQL whatever the suite's backend: for races and row locks."""
    yield from _app(request, tmp_path, siyu_config, siyu_plugins, siyu_all_plugins, "postgresql")


@pytest.fixture
def siyu_client(siyu_app):
    """An anonymous visitor (a ``ShopClient``: Flask's test client with ``submit``)."""
    return siyu_app.test_client()


@pytest.fixture
def siyu_runner(siyu_app):
    return siyu_app.test_cli_runner()


@pytest.fixture
def siyu_kernel(siyu_app):
    return siyu_app.extensions["siyu"]


@pytest.fixture
def siyu_db(siyu_app):
    """A session on the app's database, outside any request."""
    session = siyu_app.extensions["siyu"].db.Session()
    yield session
    session.close()


@pytest.fixture
def siyu_shopper(siyu_app, siyu_db):
    """A client signed in as a new member with a delivery address (``.member``), its own
    cookies apart from ``siyu_client``'s: ``submit``, ``add_to_cart``, ``checkout``, ``pay_by_card``."""
    return shopper_client(siyu_app, siyu_db)


@pytest.fixture
def siyu_staff(siyu_app, siyu_db):
    """A client signed in to /admin as a new owner (``.staff``); ``staff_client(app, db,
    make_staff(db, "agent"))`` gives an agent's."""
    return staff_client(siyu_app, siyu_db)


@pytest.fixture
def siyu_register_plugin(siyu_app):
    """Register plugin objects into the running app (request-time hooks); undone after."""
    pm = siyu_app.extensions["siyu"].pm
    added = []

    def register(plugin, name: str | None = None):
        added.append(pm.register(plugin, name=name))
        return plugin

    yield register
    for name in added:
        pm.unregister(name=name)


@pytest.fixture(scope="session")
def siyu_localstripe() -> Iterator[str]:
    """Base URL of a localstripe server started on 127.0.0.1 for the session."""
    from siyu.storefront import devstripe

    proc, base = devstripe.start(port_from_env("SIYU_TEST_LOCALSTRIPE_PORT"))
    try:
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def siyu_stripe_config(siyu_localstripe) -> dict[str, str]:
    """Configuration for a shop that takes cards through ``siyu_localstripe`` (emptied first)."""
    from siyu.storefront import devstripe

    devstripe.reset(siyu_localstripe)
    return devstripe.dev_config(siyu_localstripe)


class LiveServer:
    def __init__(self, app, port: int | None = None):
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", port or 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()  # the port is free again for the next test
        self.thread.join(timeout=10)


@pytest.fixture
def siyu_live_server(siyu_app) -> Iterator[LiveServer]:
    """``siyu_app`` served over HTTP on 127.0.0.1 from a background thread (``.url``)."""
    server = LiveServer(siyu_app, port_from_env("SIYU_TEST_LIVE_PORT"))
    yield server
    server.stop()
