"""Fixtures for the gift_message plugin's tests.

The shop comes from Siyu's pytest plugin, installed with the core: ``siyu_app``, ``siyu_client``,
``siyu_db``, ``siyu_kernel``, ``siyu_shopper`` (a signed-in member), ``siyu_staff`` (a signed-in
owner)... Their names are prefixed so they never collide with pytest-flask's; helpers come from
``siyu.plugin.testing``. This file enables the plugin for them and adds this suite's own.
"""
from __future__ import annotations

import pytest

from siyu.plugin.testing import make_product


@pytest.fixture
def siyu_config():
    # Installed is not enabled: every test shop here runs with this plugin on.
    return {"PLUGINS": ["gift_message"]}


@pytest.fixture
def product(siyu_db):
    return make_product(siyu_db, "TEA-1", price=3900, stock=10, title_en="White tea", title_zh="白茶")


@pytest.fixture
def buy(siyu_shopper, product):
    """``buy(gift_message=...)``: the shopper puts the tea in the cart and checks out by bank
    transfer through the checkout form; returns the order, or raises ``CheckoutRefused``."""
    def buy_(**fields):
        return siyu_shopper.checkout({product: 1}, headers={"Accept-Language": "en"}, **fields)
    return buy_
