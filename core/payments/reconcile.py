"""Reconciliation: ask the gateway about payments whose notification has not arrived.

A provider's notification can be lost (a network fault, a misconfigured endpoint). So the worker
asks the gateway (``query``) about pending payments a few minutes old, and the return page asks
once about its own order. What the gateway answers is fulfilled exactly as its notification
would be (``webhooks.process``), under a key of its own per payment, so a notification arriving
later is a duplicate in effect: the order is paid once.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from siyu.core.db import utcnow
from siyu.core.models import Order, OrderStatus, Payment, PaymentStatus
from siyu.core.payments.gateway import GatewayEvent
from siyu.core.payments.webhooks import process

log = logging.getLogger("siyu.payments")
#: A payment younger than this is left to its notification, which normally arrives in seconds.
QUIET = timedelta(minutes=5)


def reconcile_payment(kernel, session: Session, payment: Payment) -> str | None:
    """Ask the payment's gateway where it stands and settle what it says; returns the state
    (``None``: the gateway cannot be asked, or staff confirm its payments)."""
    gateway = kernel.payment_providers.get(payment.provider)
    if gateway is None or gateway.supports.staff_confirm or payment.status != PaymentStatus.PENDING.value:
        return None
    if session.in_transaction():
        session.commit()  # no transaction stays open across the gateway call
    try:
        state = gateway.query(kernel, payment)
    except Exception:  # noqa: BLE001 - the provider did not answer: the next round asks again
        log.warning("the gateway %s could not be asked about payment %s", payment.provider, payment.reference)
        return None
    if state == "succeeded":
        process(kernel, session, gateway.name, GatewayEvent(
            f"query:{payment.reference}:succeeded", "succeeded", payment.reference, amount=payment.amount,
            type="query"))
    elif state in ("failed", "canceled"):
        process(kernel, session, gateway.name, GatewayEvent(
            f"query:{payment.reference}:{state}", "failed", payment.reference,
            message=f"the payment {state} at {gateway.name}", type="query"))
    return state


def reconcile_pending(kernel, session: Session, now=None, limit: int = 50) -> int:
    """Reconcile the oldest pending payments of unpaid orders older than ``QUIET``; returns how
    many the gateways settled (paid or failed)."""
    before = (now or utcnow()) - QUIET
    payments = session.scalars(
        select(Payment).join(Order, Order.id == Payment.order_id)
        .where(Payment.status == PaymentStatus.PENDING.value, Order.status == OrderStatus.PLACED.value,
               Payment.created_at < before)
        .order_by(Payment.id).limit(limit)).all()
    settled = 0
    for payment in payments:
        if reconcile_payment(kernel, session, payment) in ("succeeded", "failed", "canceled"):
            settled += 1
    return settled


def reconcile_job(kernel) -> int:
    """The scheduled job (every five minutes)."""
    session = kernel.db.Session()
    try:
        return reconcile_pending(kernel, session)
    finally:
        session.close()
