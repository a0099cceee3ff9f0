"""Payment steps: confirming an order's payment and stopping it, serialised per order.

A confirm and a cancel of the same order must agree: either the confirm runs first (the
provider takes the money, the cancel is refused and the webhook pays the order) or the cancel
does (the provider's intent is cancelled before the order, the confirm is refused), never
both. ``cancel_order`` (``siyu.core.orders``) and ``confirm_payment`` both run inside
``payment_step``.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Any, Iterator, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from siyu.core.errors import InvalidTransition, NotFound, PaymentError, SiyuError
from siyu.core.i18n import lazy_gettext as _l
from siyu.core.models import Order, OrderStatus, Payment, PaymentStatus

log = logging.getLogger("siyu.payments")
#: Gateway states in which the money is taken or being taken: such an order is not cancelled.
PAYMENT_UNDER_WAY = ("succeeded", "processing")


@contextmanager
def payment_step(session: Session, order: Order) -> Iterator[Order]:
    """One step of ``order`` that calls its payment provider (confirm, cancel), serialised
    with every other such step of the same order; yields the order as it is now and commits
    what the step wrote (rolls back on any error).

    PostgreSQL: one transaction holding the order's row lock (``SELECT … FOR UPDATE``) from
    before the provider call until the step's writes commit, so a confirm and a cancel of one
    order run one after the other whatever the provider does; other orders never wait, and a
    webhook for this order waits at its conditional UPDATE.
    SQLite has a single write lock for the whole file, and holding it across a network call
    would stall every writer of the shop: there the provider call runs outside any write
    transaction, and the writes after it (``begin_writes``) take the lock and recheck the
    state by conditional UPDATE. The provider's own serialisation of the intent (a cancelled
    intent cannot be confirmed, a succeeded one cannot be cancelled) keeps money and order
    together there.
    """
    postgres = session.get_bind().dialect.name == "postgresql"
    try:
        if session.in_transaction():
            session.commit()
        locked = session.scalar(select(Order).where(Order.id == order.id).with_for_update()
                                .execution_options(populate_existing=True))
        if locked is None:
            raise NotFound(_l("Order not found."))
        if not postgres:
            session.commit()
        yield locked
        session.commit()
    except BaseException:
        session.rollback()
        raise


def begin_writes(session: Session) -> None:
    """Inside ``payment_step``, after the provider call: on SQLite take the write lock now
    (PostgreSQL already holds the order's row lock in the step's transaction)."""
    if session.get_bind().dialect.name != "postgresql":
        if session.in_transaction():
            session.commit()  # only reads so far
        session.connection(execution_options={"siyu_write": True})


def stop_payments(kernel, session: Session, order: Order) -> None:
    """Cancel the order's pending payments at their provider, so none can be paid later.

    A provider's ``cancel(kernel, payment)`` returns ``canceled``, or the intent's state when
    it could not cancel it (``None`` when it cannot be asked, e.g. no API key); it raises
    ``PaymentError`` when the provider did not answer. Money taken or being taken refuses the
    cancel with ``InvalidTransition`` (409): the webhook marks the order paid.
    """
    for payment in session.scalars(select(Payment).where(
            Payment.order_id == order.id, Payment.status == PaymentStatus.PENDING.value)):
        provider = kernel.payment_providers.get(payment.provider)
        if provider is None:
            continue  # its gateway is no longer installed: nothing can be stopped there
        state = provider.cancel(kernel, payment)  # None: nothing taken (a transfer not yet sent)
        if state in PAYMENT_UNDER_WAY:
            log.warning("order %s not cancelled: its payment %s is %s", order.number, payment.reference,
                        state, extra={"order_number": order.number, "payment_reference": payment.reference,
                                      "payment_alarm": "-"})
            raise InvalidTransition(_l("This order is being paid and can no longer be cancelled."),
                                    fields={"payment": state})


def confirm_payment(kernel, session: Session, order: Order, data: Mapping[str, Any]) -> Mapping[str, Any]:
    """Confirm the order's pending payment at its gateway with what the pay page sent
    (``data``: for a card, the shopper's payment method id).

    Runs in the order's payment step, so it never interleaves with a cancel of the same order:
    a cancelled order is refused (409) before the provider is asked. Returns the provider's
    answer (``status``, ``client_secret``, ``error``); the order becomes paid only through the
    provider's signed notification. ``PaymentError`` (502/503) when the provider failed.
    """
    provider = kernel.provider(order.payment_method)
    with payment_step(session, order) as locked:
        payment = session.scalar(select(Payment).where(
            Payment.order_id == locked.id, Payment.status == PaymentStatus.PENDING.value)
            .order_by(Payment.id.desc()))
        if locked.status != OrderStatus.PLACED.value or payment is None or provider is None \
                or payment.provider != provider.name:
            raise InvalidTransition(_l("This order cannot be paid any more."), fields={"order": locked.status})
        try:
            return provider.confirm(kernel, payment, data)
        except SiyuError:
            raise
        except Exception as exc:  # an outage, a timeout, an unexpected answer: nothing decided
            log.exception("confirming the payment of order %s failed", locked.number,
                          extra={"order_number": locked.number, "payment_reference": payment.reference,
                                 "payment_alarm": "-"})
            raise PaymentError(_l("The payment service did not answer. Please try again.")) from exc
