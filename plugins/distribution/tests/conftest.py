"""The distribution tests: the plugin enabled, and short names for the test kit's fixtures."""
from __future__ import annotations

import pytest

from siyu.plugin.testing import short_fixture_names


# The kit's fixtures under short names (app, client, db, kernel...), for this suite only: the
# kit's own names are prefixed so they never collide with pytest-flask's.
globals().update(short_fixture_names())


@pytest.fixture
def siyu_config():
    return {"PLUGINS": ["distribution"]}


