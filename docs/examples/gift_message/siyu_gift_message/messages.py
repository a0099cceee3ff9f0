"""Reading and writing gift messages; no Flask here, so hooks, jobs and tests share it."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from siyu.plugin import lazy_gettext as _l, ValidationError
from siyu_gift_message.models import GiftMessage
from siyu_gift_message.settings import load


def save_for_order(session: Session, order, text: str) -> GiftMessage | None:
    """Store the message of a new order; called inside the checkout transaction, so raising
    aborts the whole order (stock, lines, everything) and the shopper sees the message."""
    text = " ".join((text or "").split())  # one line: it is printed on a card
    if not text:
        return None
    limit = load(session)["max_length"]
    if len(text) > limit:
        raise ValidationError(_l("Your gift message is too long."),
                              fields={"gift_message": _l("At most %(count)d characters.", count=limit)})
    row = GiftMessage(order_id=order.id, member_id=order.member_id, message=text)
    session.add(row)
    return row


def for_order(session: Session, order_id: int) -> GiftMessage | None:
    return session.scalar(select(GiftMessage).where(GiftMessage.order_id == order_id))


def for_member(session: Session, member_id: int, limit: int = 5) -> list[GiftMessage]:
    return list(session.scalars(select(GiftMessage).where(GiftMessage.member_id == member_id)
                                .order_by(GiftMessage.id.desc()).limit(limit)))
