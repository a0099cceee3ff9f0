"""Service notices in the member's conversations: the order shipped, a refund was sent.

A notice is a chat card whose type is marked ``service_notice``. It is not marketing and
not a customer-service reply: each channel sends it under its ``notice_policy`` (on WeChat
a template message, outside the 48-hour window and its quota), never under the window
that coupons and agents' messages use.

``post_notice`` writes inside the caller's transaction, in a SAVEPOINT of its own: a notice
that cannot be written is logged and rolled back to the savepoint, and the caller's other
writes commit all the same. The core's order notices call it from an outbox task, after the
state change they report committed (``siyu.core.default_plugins.order_notices``): the change
records the notice with ``after_commit``, so a notice exists exactly when its change does (none
for a shipment that rolled back, none lost by a crash after the commit), and a notice that
cannot be written is retried instead of lost (``quiet=False``). An external channel's copy is
stored ``pending`` and delivered by its adapter after the task's commit (the outbox task
``siyu.deliver_messages``).
"""
from __future__ import annotations

import logging
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from siyu.core import channels as ch
from siyu.core.models import Conversation, Message
from siyu.core.outbox import after_commit, tasks

log = logging.getLogger("siyu.notices")
#: The outbox task delivering a notice's pending copies (registered by the conversations default plugin).
DELIVER = "siyu.deliver_messages"


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
                payload: dict | Callable[[], dict], quiet: bool = True) -> list[Message]:
    """Post a service-notice card to ``member_id``'s conversations; returns the messages.

    ``payload`` may be a function that builds it: it then runs inside the savepoint too, so
    a failing read cannot abort the caller's transaction either. Inside the caller's
    transaction; a failure is logged and, unless ``quiet`` is off (an outbox task, retried),
    not raised. Pending copies for external channels are delivered after the commit.
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
            messages = [post_outbound(kernel, session, conversation, body=body, kind="card", card_type=card_type,
                                      payload=payload, notice=card.service_notice)
                        for conversation in notice_conversations(kernel, session, member_id)]
            pending = [m.id for m in messages if m.delivery == "pending"]
            if pending and DELIVER in tasks(kernel):
                after_commit(kernel, session, DELIVER, key=f"messages:{pending[0]}", payload={"message_ids": pending})
            return messages
    except Exception:  # noqa: BLE001 - a notice must never undo what it reports
        log.exception("service notice %s (plugin %s) for member %s was not written", card_type,
                      card_types(kernel).plugin_of(card_type), member_id)
        if not quiet:
            raise
        return []


def deliver(kernel, session: Session, payload: dict) -> None:
    """The outbox task ``siyu.deliver_messages``: hand committed pending messages to their channel."""
    from siyu.core.conversations import deliver_pending

    ids = [int(i) for i in payload.get("message_ids", [])]
    deliver_pending(kernel, session, list(session.scalars(select(Message).where(Message.id.in_(ids))
                                                          .order_by(Message.id))))
