"""The test kit's fixtures under short names, for a suite that prefers ``app`` to ``siyu_app``.

The kit's own names are prefixed so they never collide with pytest-flask's in a project that
has both. A suite opts in from its conftest.py with
``globals().update(short_fixture_names())``.
"""
from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(name="app")
def _app(siyu_app):
    return siyu_app


@pytest.fixture(name="pg_app")
def _pg_app(siyu_pg_app):
    return siyu_pg_app


# The rest derive from ``app``, so a test module that overrides ``app`` gets its client, kernel
# and session from that app.
@pytest.fixture(name="client")
def _client(app):
    return app.test_client()


@pytest.fixture(name="runner")
def _runner(app):
    return app.test_cli_runner()


@pytest.fixture(name="kernel")
def _kernel(app):
    return app.extensions["siyu"]


@pytest.fixture(name="db")
def _db(app):
    """A session on the app's database, outside any request."""
    session = app.extensions["siyu"].db.Session()
    yield session
    session.close()


@pytest.fixture(name="register_plugin")
def _register_plugin(siyu_register_plugin):
    return siyu_register_plugin


@pytest.fixture(name="postgresql_cluster", scope="session")
def _postgresql_cluster(siyu_pg_cluster):
    return siyu_pg_cluster


@pytest.fixture(name="localstripe", scope="session")
def _localstripe(siyu_localstripe):
    return siyu_localstripe


@pytest.fixture(name="stripe_config")
def _stripe_config(siyu_stripe_config):
    return siyu_stripe_config


@pytest.fixture(name="live_server")
def _live_server(siyu_live_server):
    return siyu_live_server


def short_fixture_names() -> dict[str, Any]:
    """``{attribute: fixture}`` for a conftest's ``globals().update(...)``: pytest finds each
    under its short name (``app``, ``pg_app``, ``client``, ``runner``, ``kernel``, ``db``,
    ``register_plugin``, ``postgresql_cluster``, ``localstripe``, ``stripe_config``,
    ``live_server``)."""
    return {f"_siyu_short{name}": fixture for name, fixture in (
        ("_app", _app), ("_pg_app", _pg_app), ("_client", _client), ("_runner", _runner), ("_kernel", _kernel),
        ("_db", _db), ("_register_plugin", _register_plugin), ("_postgresql_cluster", _postgresql_cluster),
        ("_localstripe", _localstripe), ("_stripe_config", _stripe_config), ("_live_server", _live_server))}
