"""Fixtures for the crm_tags tests: the plugin enabled, staff, a member and products."""
from __future__ import annotations

import pytest
from crm_helpers import AGENT_PW, OWNER_PW

from siyu.plugin import create_staff
from siyu.plugin.testing import short_fixture_names, give_address, make_member, make_product, staff_login


# The kit's fixtures under short names (app, client, db, kernel...), for this suite only: the
# kit's own names are prefixed so they never collide with pytest-flask's.
globals().update(short_fixture_names())


@pytest.fixture
def siyu_config():
    return {"PLUGINS": ["crm_tags"]}


@pytest.fixture
def owner(db):
    return create_staff(db, email="owner@shop.cn", password=OWNER_PW, role="owner", name="Owner")


@pytest.fixture
def agent(db):
    return create_staff(db, email="agent@shop.cn", password=AGENT_PW, role="agent", name="Agent")


@pytest.fixture
def owner_client(client, owner):
    staff_login(client)
    return client


@pytest.fixture
def member(kernel, db):
    """The shopper, with a delivery address: the checkout needs one for goods that ship."""
    buyer = make_member(kernel, db)
    give_address(db, buyer)
    return buyer


@pytest.fixture
def product(db):
    return make_product(db, "TEA-1", price=10000)
