"""Siyu's test kit for plugin authors: helpers beside the pytest fixtures of ``siyu.storefront.testing``.

The fixtures (``siyu_app``, ``siyu_client``, ``siyu_db``, ``siyu_shopper``, ``siyu_staff``,
``siyu_localstripe``, ``siyu_live_server``...) come with the pytest plugin that installing siyu
registers; the helpers here are imported by tests:
``from siyu.plugin.testing import checkout, make_product``. Stability: as :mod:`siyu.plugin`.
"""
from __future__ import annotations

from siyu.core.api_tokens import create_token, revoke_token
from siyu.core.payments.stripe_provider import process_event
from siyu.storefront import create_app
from siyu.storefront.demo import DEMO_PASSWORD
from siyu.storefront.testing import LiveServer
from siyu.storefront.testing_checks import PluginPackageChecks, run_together, use_core_wording
from siyu.storefront.testing_kit import (
    MEMBER_PASSWORD, STAFF_PASSWORD, TEST_ADDRESS, CheckoutRefused, Shopper, ShopClient, add_to_cart,
    allow_unpaid_orders, checkout, csrf_token, fresh, give_address, login, make_member, make_product, make_staff,
    shopper_client, staff_client, staff_login, submit,
)
from siyu.storefront.testing_gateway import FakeGateway, FakeServer
from siyu.storefront.testing_outbox import run_outbox
from siyu.storefront.testing_pg import PostgresCluster
from siyu.storefront.testing_short import short_fixture_names
from siyu.storefront.testing_stripe import deliver_intent_event, pay_by_card, sign_event

__all__ = [
    "create_app", "TEST_ADDRESS", "give_address", "allow_unpaid_orders", "run_together",
    "PluginPackageChecks", "PostgresCluster", "process_event", "create_token", "revoke_token",
    "DEMO_PASSWORD", "run_outbox",
    # a third-party payment gateway and its provider
    "FakeGateway", "FakeServer",
    # the kit's fixtures under short names, for a suite that opts in
    "short_fixture_names",
    # factories
    "MEMBER_PASSWORD", "STAFF_PASSWORD", "make_product", "make_member", "make_staff", "fresh",
    # the web, as shoppers and staff use it
    "csrf_token", "submit", "login", "staff_login", "add_to_cart", "checkout", "CheckoutRefused",
    "ShopClient", "Shopper", "shopper_client", "staff_client", "LiveServer",
    # cards through localstripe
    "pay_by_card", "sign_event", "deliver_intent_event",
    # catalogs
    "use_core_wording",
]
