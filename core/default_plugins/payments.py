"""Registers the core payment gateways, the sweep that expires unpaid orders and the one that
asks gateways about payments whose notification never came."""
from siyu.core import hookimpl
from siyu.core.i18n import lazy_gettext as _l
from siyu.core.payments.manual import ManualProvider
from siyu.core.payments.stripe_provider import StripeProvider


def expire_unpaid_orders(kernel) -> int:
    """Cancel every unpaid order whose reservation ran out (the worker runs it every minute)."""
    from siyu.core.orders import expire_unpaid

    session = kernel.db.Session()
    try:
        return expire_unpaid(kernel, session)
    finally:
        session.close()


@hookimpl(trylast=True)
def register_jobs(register):
    from siyu.core.payments.reconcile import reconcile_job

    register("expire_unpaid_orders", expire_unpaid_orders, retries=0, every_minutes=1,
             label=_l("Cancel unpaid orders past their reservation"))
    register("reconcile_payments", reconcile_job, retries=0, every_minutes=5,
             label=_l("Ask payment gateways about payments whose notification has not arrived"))


@hookimpl(trylast=True)
def register_payment_providers(register):
    register(StripeProvider())
    register(ManualProvider())
