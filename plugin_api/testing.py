"""Siyu's test kit for plugin authors: helpers beside the pytest fixtures of ``siyu.storefront.testing``.

The fixtures (the app, clients, the database, localstripe, the live server) come with the pytest
plugin that installing siyu registers; the helpers here are imported by tests:
``from siyu.plugin.testing import give_address, run_together``. Stability: as :mod:`siyu.plugin`.
"""
from __future__ import annotations

from siyu.core.api_tokens import create_token, revoke_token
from siyu.core.payments.webhooks import process_event
from siyu.storefront import create_app
from siyu.storefront.demo import DEMO_PASSWORD
from siyu.storefront.testing import TEST_ADDRESS, allow_unpaid_orders, give_address
from siyu.storefront.testing_checks import PluginPackageChecks, run_together
from siyu.storefront.testing_pg import PostgresCluster

__all__ = [
    "create_app", "TEST_ADDRESS", "give_address", "allow_unpaid_orders", "run_together",
    "PluginPackageChecks", "PostgresCluster", "process_event", "create_token", "revoke_token",
    "DEMO_PASSWORD",
]
