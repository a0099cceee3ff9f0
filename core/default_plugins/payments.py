"""Registers the core payment providers."""
from siyu.core import hookimpl
from siyu.core.payments.manual import ManualProvider
from siyu.core.payments.stripe_provider import StripeProvider


@hookimpl(trylast=True)
def register_payment_providers(register):
    register(StripeProvider())
    register(ManualProvider())
