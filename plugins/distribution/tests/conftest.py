"""The distribution tests: the plugin enabled, and short names for the test kit's fixtures."""
from __future__ import annotations

import pytest


@pytest.fixture
def siyu_config():
    return {"PLUGINS": ["distribution"]}


# Short names for the test kit's fixtures (``siyu_app``...), for this suite only: the kit's own
# names are prefixed so they never collide with pytest-flask's in a project that has both.
@pytest.fixture
def app(siyu_app):
    return siyu_app


@pytest.fixture
def pg_app(siyu_pg_app):
    return siyu_pg_app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def kernel(siyu_kernel):
    return siyu_kernel


@pytest.fixture
def db(siyu_db):
    return siyu_db


@pytest.fixture
def register_plugin(siyu_register_plugin):
    return siyu_register_plugin
