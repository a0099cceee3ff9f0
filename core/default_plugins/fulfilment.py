"""Fulfilment's replaceable parts: the shipping fee at the ``fee`` stage, its personal data in
data-rights requests (``siyu.core.fulfilment_privacy``), and the completion
sweep as the job ``complete_due_orders``, on the worker's schedule every 30 minutes (the
shopper's order pages also sweep on read, so a shop without a worker completes them too)."""
from siyu.core import hookimpl
from siyu.core.i18n import lazy_gettext as _l


@hookimpl(trylast=True)
def cart_adjustments(cart, stage, session, member):
    if stage != "fee" or not cart.lines or session is None:  # no database: no settings, no fee
        return None
    from siyu.core import delivery, shipping_fees
    from siyu.core.fulfilment_settings import fulfilment_settings
    from siyu.core.pricing import Adjustment

    chosen = delivery.resolve(session, member, cart.lines, cart.inputs)
    fee = shipping_fees.fee_for(fulfilment_settings(session), cart.total, chosen)
    if not fee:
        return None
    return [Adjustment(code="shipping", label=str(_l("Shipping")), amount=fee, source="siyu.shipping",
                       data={"province": chosen.province_code})]


@hookimpl(trylast=True)
def member_data_export(session, member):
    from siyu.core.fulfilment_privacy import export_section

    return export_section(session, member)


@hookimpl(trylast=True)
def on_member_anonymised(session, member):
    from siyu.core.fulfilment_privacy import erase

    erase(session, member)


def complete_due_orders(kernel) -> int:
    from siyu.core.fulfilment import complete_due

    session = kernel.db.Session()
    try:
        return complete_due(kernel, session)
    finally:
        session.close()


@hookimpl(trylast=True)
def register_jobs(register):
    # Completion is counted in days: half-hourly is prompt enough and cheap (one indexed query).
    register("complete_due_orders", complete_due_orders, retries=3, retry_delay=60, every_minutes=30,
             label=_l("Complete shipped orders not confirmed in time"))
