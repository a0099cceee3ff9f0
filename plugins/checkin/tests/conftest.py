"""Fixtures for the checkin tests: the plugin enabled, a member, staff accounts."""
from __future__ import annotations

import pytest
from checkin_helpers import AGENT_PW, OWNER_PW, set_zone

from siyu.plugin.testing import short_fixture_names
from siyu.plugin import create_staff, sign_up


# The kit's fixtures under short names (app, client, db, kernel...), for this suite only: the
# kit's own names are prefixed so they never collide with pytest-flask's.
globals().update(short_fixture_names())


@pytest.fixture
def siyu_config():
    return {"PLUGINS": ["checkin"]}


@pytest.fixture
def member(kernel, db):
    found = sign_up(kernel, db, email="buyer@example.com", password="correct-horse", name="Buyer")
    set_zone(db, "Asia/Shanghai")
    return found


@pytest.fixture
def owner(db):
    return create_staff(db, email="owner@shop.cn", password=OWNER_PW, role="owner", name="Owner")


@pytest.fixture
def agent(db):
    return create_staff(db, email="agent@shop.cn", password=AGENT_PW, role="agent", name="Agent")
