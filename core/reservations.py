"""Stock held by unpaid orders: caps per shopper, and overdue reservations released on read.

An unpaid order reserves its stock until it is paid, cancelled or expires
(``RESERVATION_MINUTES``).

- **Caps.** Without them one shopper could reserve a whole product with orders he never
  pays. How many unpaid orders, and how many units in them, one member may hold are shop
  settings (back office → Settings); the same caps hold, apart, for each visitor id (one
  browser, whichever accounts sign in on it). ``enforce`` runs inside the checkout's write
  transaction, before stock is reserved, after ``lock_member``: on PostgreSQL an advisory
  lock on the member's id and another on the visitor id, so two checkouts of one member or
  one browser count one after the other and never both slip under a cap. Not the member's
  row: paying an order locks it (order numbering) after rows a checkout locks too, and the
  two would wait for each other. SQLite serialises every writer anyway.
- **Expiry on read.** Overdue orders are cancelled where their stock is wanted: before a
  checkout (the member's own and those holding the cart's products) and when a product
  looks sold out. So stock comes back without ``flask siyu expire-orders`` or a worker; the
  worker's schedule (``expire_unpaid_orders``, every minute) sweeps the rest.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Iterable, Mapping

from sqlalchemy import func, or_, select, text
from sqlalchemy.orm import Session

from siyu.core import settings
from siyu.core.errors import SiyuError
from siyu.core.i18n import lazy_gettext as _l
from siyu.core.models import Order, OrderLine, OrderStatus

#: Shop settings (``core``) and the values the back office accepts.
ORDERS_KEY, UNITS_KEY = "unpaid_orders_cap", "unpaid_units_cap"
RANGES = {ORDERS_KEY: (1, 100), UNITS_KEY: (1, 10_000)}
MEMBER_LOCK = 0x4D_45_4D_42  # "MEMB": the advisory lock space of members' checkouts
VISITOR_LOCK = 0x56_49_53_49  # "VISI": the advisory lock space of visitor ids
#: Overdue orders one read cancels at most (the worker's sweep does the rest).
RELEASE_LIMIT = 50

log = logging.getLogger("siyu.orders")


class UnpaidLimitReached(SiyuError):
    """A checkout refused because the shopper already holds too much in unpaid orders."""

    code = "unpaid-limit"
    status = 409


def problems(values: Mapping[str, Any]) -> dict:
    """Field errors for the caps in ``values`` (whole numbers within ``RANGES``)."""
    errors = {}
    for key, (low, high) in RANGES.items():
        value = values.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            errors[key] = _l("Enter a whole number from %(min)d to %(max)d.", min=low, max=high)
    return errors


def caps(session: Session) -> tuple[int, int]:
    """(unpaid orders, units in unpaid orders) one member or visitor may hold."""
    values = settings.get_all(session, "core")
    found = []
    for key, (low, high) in RANGES.items():
        try:
            found.append(min(max(int(values[key]), low), high))
        except (KeyError, TypeError, ValueError):  # a value written around the form
            found.append(int(settings.SHOP_DEFAULTS[key]))
    return found[0], found[1]


def held(session: Session, column, value, now: datetime) -> tuple[int, int]:
    """(orders, units) of unpaid orders whose reservation still runs, where ``column == value``."""
    orders, units = session.execute(
        select(func.count(func.distinct(Order.id)), func.coalesce(func.sum(OrderLine.quantity), 0))
        .select_from(Order).join(OrderLine, OrderLine.order_id == Order.id)
        .where(column == value, Order.status == OrderStatus.PLACED.value,
               or_(Order.expires_at.is_(None), Order.expires_at > now))).one()
    return int(orders), int(units)


def lock_member(session: Session, member_id: int) -> None:
    """Serialise the member's checkouts until the transaction ends (PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:space, :member)"),
                        {"space": MEMBER_LOCK, "member": member_id})


def enforce(session: Session, member_id: int, visitor_id: str | None, units: int, now: datetime) -> None:
    """Refuse (``UnpaidLimitReached``) an order of ``units`` that would pass a cap.

    Inside the checkout's write transaction; call ``lock_member`` first.
    """
    max_orders, max_units = caps(session)
    orders, holding = held(session, Order.member_id, member_id, now)
    _check(orders, holding, units, max_orders, max_units, device=False)
    if visitor_id:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:space, hashtext(:visitor))"),
                            {"space": VISITOR_LOCK, "visitor": visitor_id})
        orders, holding = held(session, Order.visitor_id, visitor_id, now)
        _check(orders, holding, units, max_orders, max_units, device=True)


def _check(orders: int, holding: int, units: int, max_orders: int, max_units: int, device: bool) -> None:
    if orders >= max_orders:
        message = (_l("This device already has too many unpaid orders (at most %(max)d at a time). "
                      "Pay or cancel one first.", max=max_orders) if device else
                   _l("You have too many unpaid orders (at most %(max)d at a time). "
                      "Pay or cancel one first.", max=max_orders))
        raise UnpaidLimitReached(message, fields={"unpaid_orders": _l("at most %(max)d", max=max_orders)},
                                 held=orders, limit=max_orders)
    if holding + units > max_units:
        message = (_l("Unpaid orders on this device may hold at most %(max)d items at a time (this order: "
                      "%(this)d, other unpaid orders: %(held)d). Pay or cancel an order first, or buy fewer.",
                      max=max_units, this=units, held=holding) if device else
                   _l("Unpaid orders may hold at most %(max)d items at a time (this order: %(this)d, "
                      "your other unpaid orders: %(held)d). Pay or cancel an order first, or buy fewer.",
                      max=max_units, this=units, held=holding))
        raise UnpaidLimitReached(message, fields={"unpaid_units": _l("at most %(max)d", max=max_units)},
                                 held=holding, limit=max_units)


def release_overdue(kernel, session: Session, *, member_id: int | None = None,
                    product_ids: Iterable[int] = ()) -> int:
    """Cancel the overdue unpaid orders of ``member_id`` or holding any of ``product_ids``.

    Each in its own committed transaction (``expire_unpaid``), before the caller's write.
    A failure to cancel one (a plugin refusing, the provider not answering) never fails the
    caller: that order waits for the next read or the worker's sweep.
    """
    from siyu.core.orders import expire_unpaid

    product_ids = sorted(set(product_ids))
    conditions = []
    if member_id is not None:
        conditions.append(Order.member_id == member_id)
    if product_ids:
        conditions.append(Order.id.in_(select(OrderLine.order_id).where(OrderLine.product_id.in_(product_ids))))
    if not conditions:
        return 0
    try:
        return expire_unpaid(kernel, session, where=or_(*conditions), limit=RELEASE_LIMIT)
    except SiyuError as exc:
        log.warning("overdue orders not released on read: %s", exc)
        return 0
