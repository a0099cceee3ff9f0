"""Service notices in the member's conversations: the order shipped, a refund was sent.

A notice is a chat card whose type is marked ``service_notice``. It is not marketing and
not a customer-service reply: each channel sends it under its ``notice_policy`` (on WeChat
a template message, outside the 48-hour window and its quota), never under the window
that coupons and agents' messages use.

``post_notice`` writes inside the caller's transaction, in a SAVEPOINT of its own, and never
raises: a notice that cannot be written is logged and rolled back to the savepoint, and the
state change it reports (a shipment, a refund) commits all the same. Written in the same
transaction, a notice exists exactly when its state change does: none for a shipment that
rolled back, none lost after a crash between the commit and a later send (there is no
outbox yet to make an after-commit send durable). An external channel's copy is stored
``pending`` for its adapter to deliver after the commit; the outbox will run that.
"""
from __future__ import annotations

import logging
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from siyu.core import channels as ch
from siyu.core.models import Conversation, Message

log = logging.getLogger("siyu.notices")


def notice_conversations(kernel, session: Session, member_id: int) -> list[Conversation]:
    """Where a member's notices go: the web chat (created on first use) and every other
    conversation the member already has on a registered channel."""
    from siyu.core.conversations import conversation_for

    known = ch.channels(kernel)
    found = [c for c in session.scalars(select(Conversation).where(Conversation.member_id == member_id)
                                        .order_by(Conversation.id)) if c.channel in known]
    if ch.WEB in known and not any(c.channel == ch.WEB for c in found):
        found.insert(0, conversation_for(session, member_id, ch.WEB))
    return found


def post_notice(kernel, session: Session, member_id: int | None, card_type: str,
                payload: dict | Callable[[], dict]) -> list[Message]:
    """Post a service-notice card to ``member_id``'s conversations; returns the messages.

    ``payload`` may be a function that builds it: it then runs inside the savepoint too, so
    a failing read cannot abort the caller's transaction either. Inside the caller's
    transaction; never raises (see the module docstring).
    """
    from siyu.core.cards import card_types
    from siyu.core.conversations import post_outbound

    if member_id is None:
        return []
    try:
        with session.begin_nested():
            card = card_types(kernel).get(card_type)
            if card is None:
                return []
            if callable(payload):
                payload = payload()
            body = card.summary_of(payload)[:2000]
            return [post_outbound(kernel, session, conversation, body=body, kind="card", card_type=card_type,
                                  payload=payload, notice=card.service_notice)
                    for conversation in notice_conversations(kernel, session, member_id)]
    except Exception:  # noqa: BLE001 - a notice must never undo what it reports
        log.exception("service notice %s (plugin %s) for member %s was not written", card_type,
                      card_types(kernel).plugin_of(card_type), member_id)
        return []
