"""Payment alarms: what staff must know about a payment, in the log and in the back office.

Two kinds (``PaymentAlarmKind``): the provider took money for an order that was cancelled
meanwhile (``paid_after_cancel``; the shop refunds it automatically), and a webhook that
could not ask the provider where an intent stands (``intent_unreadable``; the provider
delivers the event again). Each is written to the ``siyu.payments`` logger at ERROR with the
order number (also as ``record.order_number``), so the server's configured logging puts it
in the error log with time and level, and kept as a ``PaymentAlarm`` row, one per kind and
payment, shown on the order, in the order list and on the orders page and dashboard until
closed.
"""
from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from siyu.core.db import utcnow, write_transaction
from siyu.core.errors import InvalidTransition
from siyu.core.i18n import lazy_gettext as _l
from siyu.core.models import Order, Payment, PaymentAlarm, PaymentAlarmKind, Refund

log = logging.getLogger("siyu.payments")

PAID_AFTER_CANCEL = PaymentAlarmKind.PAID_AFTER_CANCEL.value
INTENT_UNREADABLE = PaymentAlarmKind.INTENT_UNREADABLE.value


def log_extra(order: Order | None, payment: Payment | None, kind: str | None = None) -> dict:
    """``extra=`` for a payment log record: a formatter may show ``%(order_number)s``."""
    return {"order_number": order.number if order is not None else "-",
            "payment_reference": payment.reference if payment is not None else "-",
            "payment_alarm": kind or "-"}


def raise_alarm(session: Session, kind: str, order: Order, payment: Payment, message: str,
                refund: Refund | None = None) -> tuple[PaymentAlarm, bool]:
    """Record the alarm inside the caller's transaction; ``(alarm, True)`` when it is new.

    The same kind for the same payment counts up (and reopens a closed ``intent_unreadable``
    alarm) instead of adding a row. The caller holds the order's row lock or retries on
    ``IntegrityError``.
    """
    now = utcnow()
    alarm = session.scalar(select(PaymentAlarm).where(
        PaymentAlarm.kind == kind, PaymentAlarm.payment_id == payment.id)
        .execution_options(populate_existing=True))
    if alarm is None:
        alarm = PaymentAlarm(kind=kind, order_id=order.id, payment_id=payment.id, message=message[:500],
                             refund_id=refund.id if refund is not None else None, occurrences=1,
                             created_at=now, last_seen_at=now)
        session.add(alarm)
        session.flush()
        return alarm, True
    alarm.occurrences += 1
    alarm.last_seen_at = now
    if refund is not None and alarm.refund_id is None:
        alarm.refund_id = refund.id
    if kind == INTENT_UNREADABLE and alarm.resolved_at is not None:
        alarm.resolved_at, alarm.resolved_by, alarm.resolution = None, None, None
        alarm.message = message[:500]
    session.flush()
    return alarm, False


def intent_unreadable(kernel, session: Session, payment: Payment, exc: BaseException) -> None:
    """A webhook could not read the payment's intent at the provider: log it and keep an
    alarm (its own transaction, outside the webhook's). Never raises for its own sake: the
    webhook answers 503 either way."""
    order = session.get(Order, payment.order_id)
    number = order.number if order is not None else "-"
    log.error("could not read payment intent %s of order %s: %s", payment.reference, number, exc,
              extra=log_extra(order, payment, INTENT_UNREADABLE))
    if order is None:
        return
    message = f"could not read payment intent {payment.reference} at the provider: {exc}"
    for _attempt in range(2):  # a concurrent delivery may insert the same alarm first
        try:
            with write_transaction(session):
                raise_alarm(session, INTENT_UNREADABLE, order, payment, message)
            return
        except IntegrityError:
            continue
        except Exception:  # noqa: BLE001 - the database may be down too: the log line stays
            log.exception("could not record the payment alarm for order %s", number,
                          extra=log_extra(order, payment, INTENT_UNREADABLE))
            return


def intent_readable(session: Session, payment: Payment) -> None:
    """The provider answered for this payment again: close its ``intent_unreadable`` alarm."""
    alarm_id = session.scalar(select(PaymentAlarm.id).where(
        PaymentAlarm.kind == INTENT_UNREADABLE, PaymentAlarm.payment_id == payment.id,
        PaymentAlarm.resolved_at.is_(None)))
    if alarm_id is None:
        return
    with write_transaction(session):
        alarm = session.get(PaymentAlarm, alarm_id, populate_existing=True)
        if alarm is not None and alarm.resolved_at is None:
            alarm.resolved_at = utcnow()
            alarm.resolution = "the provider answered again"


def close_alarm(session: Session, alarm: PaymentAlarm, staff_id: int | None, note: str = "") -> None:
    """Staff read the alarm and dealt with it. A ``paid_after_cancel`` alarm whose automatic
    refund is still pending stays open: the money is not back yet."""
    with write_transaction(session):
        alarm = session.get(PaymentAlarm, alarm.id, populate_existing=True)
        if alarm.resolved_at is not None:
            return
        if alarm.refund_id is not None:
            refund = session.get(Refund, alarm.refund_id)
            if refund is not None and refund.status == "pending":
                raise InvalidTransition(_l("The automatic refund has not completed yet; retry it first."))
        alarm.resolved_at = utcnow()
        alarm.resolved_by = staff_id
        alarm.resolution = (note or "closed by staff")[:200]


def open_alarms(session: Session, limit: int = 50) -> list[PaymentAlarm]:
    return list(session.scalars(select(PaymentAlarm).where(PaymentAlarm.resolved_at.is_(None))
                                .order_by(PaymentAlarm.last_seen_at.desc(), PaymentAlarm.id.desc())
                                .limit(limit)))


def open_alarm_count(session: Session) -> int:
    return session.scalar(select(func.count(PaymentAlarm.id)).where(PaymentAlarm.resolved_at.is_(None))) or 0


def orders_with_open_alarms(session: Session, order_ids) -> set[int]:
    ids = list(order_ids)
    if not ids:
        return set()
    return set(session.scalars(select(PaymentAlarm.order_id).where(
        PaymentAlarm.order_id.in_(ids), PaymentAlarm.resolved_at.is_(None))))
