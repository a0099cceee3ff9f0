"""First- and last-touch channel attribution for members (at sign-up) and orders.

Who brought a member or an order is decided in the sign-up's and checkout's transactions
(other plugins act on it there); the roll-ups a payment or a refund changes (the order's
number among the member's paid orders, its revenue) are not money and run after commit.

A touch is the core's ``Touch(source="channel", value=<channel id>)``, recorded whenever a
storefront URL carries ``?ch=<scene>`` (every ``/q/<scene>`` scan redirects with it).
First touch: the earliest channel touch ever. Last touch: the latest one no older than the
window (default 30 days) before the sign-up or the order; a touch exactly ``window`` old
still counts, one a microsecond older does not.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from siyu.plugin import PAID_STATES, after_commit, call_in_transaction, Member, Order, settings, Touch, utcnow
from siyu_qr_channels.models import Channel, MemberAttribution, OrderAttribution

SOURCE = "channel"
DEFAULT_WINDOW_DAYS = 30


@dataclass
class Attribution:
    first: Touch | None
    last: Touch | None
    first_channel: Channel | None
    last_channel: Channel | None


def window(session: Session) -> timedelta:
    days = settings.get_all(session, "qr_channels").get("last_touch_days", DEFAULT_WINDOW_DAYS)
    try:
        days = int(days)
    except (TypeError, ValueError):
        days = DEFAULT_WINDOW_DAYS
    return timedelta(days=min(max(days, 1), 365))


def channel_touches(session: Session, member_id: int, visitor_id: str | None,
                    until: datetime) -> list[Touch]:
    """The member's channel touches up to ``until`` (and the visitor's unbound ones), oldest first."""
    whose = Touch.member_id == member_id
    if visitor_id:
        whose = or_(whose, and_(Touch.visitor_id == visitor_id, Touch.member_id.is_(None)))
    return list(session.scalars(select(Touch).where(whose, Touch.source == SOURCE, Touch.created_at <= until)
                                .order_by(Touch.created_at, Touch.id)))


def attribute(session: Session, member_id: int, visitor_id: str | None, at: datetime,
              span: timedelta | None = None) -> Attribution:
    """Who brought the member, seen at moment ``at``."""
    span = span if span is not None else window(session)
    touches = [t for t in channel_touches(session, member_id, visitor_id, at) if t.value.isdigit()]
    channels = {c.id: c for c in session.scalars(
        select(Channel).where(Channel.id.in_({int(t.value) for t in touches})))} if touches else {}
    touches = [t for t in touches if int(t.value) in channels]
    first = touches[0] if touches else None
    recent = [t for t in touches if t.created_at >= at - span]
    last = recent[-1] if recent else None
    return Attribution(first, last, channels.get(int(first.value)) if first else None,
                       channels.get(int(last.value)) if last else None)


def on_member_created(kernel, session: Session, member: Member, visitor_id: str | None) -> None:
    """Store the member's channels in the sign-up transaction and tell other plugins."""
    signed_up = member.created_at or utcnow()
    found = attribute(session, member.id, visitor_id, signed_up)
    session.add(MemberAttribution(
        member_id=member.id, signed_up_at=signed_up,
        first_channel_id=found.first_channel.id if found.first_channel else None,
        last_channel_id=found.last_channel.id if found.last_channel else None))
    session.flush()
    if found.first_channel is not None:
        call_in_transaction(kernel.pm, "qr_channels_on_attributed", kernel=kernel, session=session,
                            member=member, channel=found.first_channel, touch=found.first, order=None,
                            model="first")


def _order_row(session: Session, order: Order) -> tuple[OrderAttribution, Attribution | None]:
    row = session.get(OrderAttribution, order.id)
    if row is not None:
        return row, None
    found = attribute(session, order.member_id, order.visitor_id, order.placed_at)
    row = OrderAttribution(
        order_id=order.id, member_id=order.member_id, placed_at=order.placed_at,
        first_channel_id=found.first_channel.id if found.first_channel else None,
        last_channel_id=found.last_channel.id if found.last_channel else None, revenue=0)
    session.add(row)
    session.flush()
    return row, found


def on_order_placed(kernel, session: Session, order: Order) -> None:
    """Attribute the order in the checkout transaction; the last-touch channel is announced."""
    _row, found = _order_row(session, order)
    if found is not None and found.last_channel is not None:
        member = session.get(Member, order.member_id)
        call_in_transaction(kernel.pm, "qr_channels_on_attributed", kernel=kernel, session=session,
                            member=member, channel=found.last_channel, touch=found.last, order=order,
                            model="last")


def on_order_paid(session: Session, order: Order) -> None:
    """Number the order among the member's paid orders (1 = first order) and book revenue.

    Run after the payment committed (the outbox task ``qr_channels.order_paid``), so it counts
    the member's orders paid before this one (by ``paid_at``, then id) rather than those paid
    by now: two orders paid at once still get 1 and 2, whichever task runs first, with no lock.
    """
    paid_at = order.paid_at or utcnow()
    earlier = session.scalar(select(func.count(Order.id)).where(
        Order.member_id == order.member_id, Order.status.in_(PAID_STATES), Order.id != order.id,
        or_(Order.paid_at < paid_at, and_(Order.paid_at == paid_at, Order.id < order.id)))) or 0
    row, _found = _order_row(session, order)
    row.paid_at = paid_at
    row.paid_seq = earlier + 1
    row.revenue = order.total - order.refunded_amount
    session.flush()


def on_order_refunded(session: Session, order: Order) -> None:
    """Book what is left of the order's revenue (after commit: ``qr_channels.order_refunded``)."""
    session.execute(update(OrderAttribution).where(OrderAttribution.order_id == order.id)
                    .values(revenue=order.total - order.refunded_amount)
                    .execution_options(synchronize_session=False))


# ------------------------------------------------------------- after commit (outbox tasks)

PAID, REFUNDED = "qr_channels.order_paid", "qr_channels.order_refunded"


def record_paid(kernel, session: Session, order: Order) -> None:
    after_commit(kernel, session, PAID, key=f"order:{order.id}:paid", payload={"order_id": order.id},
                 order_id=order.id)


def record_refunded(kernel, session: Session, order: Order, refund) -> None:
    after_commit(kernel, session, REFUNDED, key=f"refund:{refund.id}", payload={"order_id": order.id},
                 order_id=order.id)


def paid_task(kernel, session: Session, payload: dict) -> None:
    order = session.get(Order, payload["order_id"])
    if order is not None:
        on_order_paid(session, order)


def refunded_task(kernel, session: Session, payload: dict) -> None:
    order = session.get(Order, payload["order_id"])
    if order is not None:
        on_order_refunded(session, order)
