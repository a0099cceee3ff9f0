"""Fulfilment's replaceable parts: the shipping fee at the ``fee`` stage, the delivery copied
onto a placed order, and the completion sweep as a job (a scheduler, once there is one, or
``flask siyu complete-orders`` runs it; pages sweep on read meanwhile)."""
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
def on_order_placed(session, order, cart):
    # Checkouts that chose a delivery (the storefront always does) get it checked and copied;
    # an order placed without one (the API, scripts) keeps the default method and no address.
    if "delivery_method" not in cart.inputs:
        return
    from siyu.core import delivery
    from siyu.core.models import Member

    chosen = delivery.require(delivery.resolve(session, session.get(Member, order.member_id), cart.lines,
                                               cart.inputs))
    order.delivery_method = chosen.method
    order.delivery = delivery.snapshot(chosen)
    session.flush()


def complete_due_orders(kernel) -> int:
    from siyu.core.fulfilment import complete_due

    session = kernel.db.Session()
    try:
        return complete_due(kernel, session)
    finally:
        session.close()


@hookimpl(trylast=True)
def register_jobs(register):
    register("complete_due_orders", complete_due_orders, retries=3, retry_delay=60)
