"""Conversations: members' messages in, the shop's messages out, interactions recorded.

Everything lives in the database (no per-process state), so a message posted through one
worker is seen by a poll served by another. Outbound messages go through the channel's
proactive-message policy: refused ones are stored as ``undelivered`` with the reason,
never dropped.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from siyu.core import channels as ch
from siyu.core.db import write_transaction
from siyu.core.errors import NotFound, ValidationError
from siyu.core.hooks import call_in_transaction
from siyu.core.i18n import lazy_gettext as _l
from siyu.core.models import Conversation, Member, MemberInteraction, Message, StaffUser
from siyu.core.staff import may
from siyu.core.validation import is_id

log = logging.getLogger("siyu.conversations")
MAX_TEXT = 2000


def clean_text(text: str | None) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError(_l("Write a message first."), fields={"text": _l("Required.")})
    if len(text) > MAX_TEXT:
        raise ValidationError(_l("Use at most %(n)d characters.", n=MAX_TEXT),
                              fields={"text": _l("Too long.")})
    return text


def conversation_for(session: Session, member_id: int, channel: str = ch.WEB) -> Conversation:
    """The member's conversation on ``channel``, created on first use (race-safe)."""
    found = session.scalar(select(Conversation).where(
        Conversation.member_id == member_id, Conversation.channel == channel))
    if found is not None:
        return found
    try:
        with session.begin_nested():
            found = Conversation(member_id=member_id, channel=channel)
            session.add(found)
    except IntegrityError:  # another worker created it first
        found = session.scalar(select(Conversation).where(
            Conversation.member_id == member_id, Conversation.channel == channel))
    return found


def record_interaction(kernel, session: Session, member: Member, kind: str,
                       channel: str = ch.WEB, at: datetime | None = None) -> MemberInteraction:
    """Record an interaction inside the caller's transaction and reopen the window.

    Runs ``on_member_interaction``. Check-ins, card clicks, payments and messages all come
    through here, so every channel's contact window sees them.
    """
    at = ch.aware_now(at)
    row = MemberInteraction(member_id=member.id, channel=channel, kind=kind, at=at)
    session.add(row)
    found = ch.get_channel(kernel, channel)
    if found is not None and (found.policy is None or found.policy.opened_by(kind)):
        if not ch.open_member_window(session, member.id, channel, at):  # usually done in one UPDATE
            ch.open_window(session, conversation_for(session, member.id, channel), at)
    session.flush()
    call_in_transaction(kernel.pm, "on_member_interaction", kernel=kernel, session=session, member=member,
                        kind=kind, channel=channel, at=at)
    return row


def receive_message(kernel, session: Session, member: Member, text: str,
                    channel: str = ch.WEB, at: datetime | None = None) -> Message:
    """A member's message: stored, counted unread for the agents, window reopened."""
    text = clean_text(text)
    if ch.get_channel(kernel, channel) is None:
        raise NotFound(ch.REASONS["unknown_channel"])
    at = ch.aware_now(at)
    with write_transaction(session):
        conversation = conversation_for(session, member.id, channel)
        message = Message(conversation_id=conversation.id, direction="in", author="member",
                          kind="text", body=text, delivery="delivered", created_at=at)
        session.add(message)
        session.execute(update(Conversation).where(Conversation.id == conversation.id).values(
            unread_by_staff=Conversation.unread_by_staff + 1, last_message_at=at)
            .execution_options(synchronize_session=False))
        record_interaction(kernel, session, member, "message", channel, at)
        call_in_transaction(kernel.pm, "on_message_received", kernel=kernel, session=session, message=message,
                            member=member)
    return message


def post_outbound(kernel, session: Session, conversation: Conversation, *, body: str,
                  kind: str = "text", card_type: str | None = None, payload: dict | None = None,
                  staff: StaffUser | None = None, now: datetime | None = None,
                  broadcast_id: int | None = None, notice: bool = False) -> Message:
    """Store one outbound message inside the caller's transaction.

    The channel's window is checked and its quota reserved atomically; outside the window
    the message is kept as ``undelivered`` with the reason. A service ``notice`` (order
    shipped, refund sent) follows the channel's ``notice_policy`` instead. External channels
    deliver it after the commit (``deliver_pending``).
    """
    now = ch.aware_now(now)
    channel = ch.get_channel(kernel, conversation.channel)
    member_active = session.scalar(select(Member.active).where(Member.id == conversation.member_id))
    if channel is None:
        check = ch.SendCheck(False, "unknown_channel", None, 0)
    elif not member_active:
        check = ch.SendCheck(False, "member_inactive", None, 0)
    else:
        check = ch.reserve_send(session, conversation, channel.notice_policy if notice else channel.policy, now)
    delivery = ("pending" if channel.external else "delivered") if check.allowed else "undelivered"
    message = Message(conversation_id=conversation.id, direction="out",
                      author="staff" if staff is not None else "system",
                      staff_id=staff.id if staff is not None else None, kind=kind, body=body,
                      card_type=card_type, payload=payload or {}, delivery=delivery,
                      reason=check.reason, broadcast_id=broadcast_id, created_at=now)
    session.add(message)
    values: dict[str, Any] = {"last_message_at": now}
    if check.allowed:
        values["unread_by_member"] = Conversation.unread_by_member + 1
    session.execute(update(Conversation).where(Conversation.id == conversation.id).values(**values)
                    .execution_options(synchronize_session=False))
    session.flush()
    return message


def send_message(kernel, session: Session, conversation: Conversation, text: str,
                 staff: StaffUser | None = None, now: datetime | None = None) -> Message:
    """Send a text from the shop (an agent, or the system when ``staff`` is None)."""
    text = clean_text(text)
    with write_transaction(session):
        message = post_outbound(kernel, session, conversation, body=text, staff=staff, now=now)
    deliver_pending(kernel, session, [message])
    return message


def deliver_pending(kernel, session: Session, messages: list[Message]) -> None:
    """Hand committed ``pending`` messages to their external channel adapter.

    Outside any transaction (an adapter may call a remote API); each outcome is written
    with a conditional UPDATE so a retry never flips a delivered message back.
    """
    for message in messages:
        if message.delivery != "pending":
            continue
        conversation = session.get(Conversation, message.conversation_id)
        channel = ch.get_channel(kernel, conversation.channel)
        try:
            channel.deliver(kernel, conversation, message)
            state, reason = "delivered", None
        except ch.DeliveryError as exc:
            state, reason = "failed", exc.reason
        except Exception:  # noqa: BLE001 - a broken adapter must not lose the message
            log.exception("plugin %s: channel %s failed to deliver message %s",
                          ch.channels(kernel).plugin_of(conversation.channel), conversation.channel, message.id)
            state, reason = "failed", "delivery_failed"
        with write_transaction(session):
            session.execute(update(Message).where(Message.id == message.id, Message.delivery == "pending")
                            .values(delivery=state, reason=reason)
                            .execution_options(synchronize_session=False))
        message.delivery, message.reason = state, reason


def messages_since(session: Session, conversation: Conversation, since_id: int = 0,
                   limit: int = 100) -> list[Message]:
    """Messages after ``since_id``, oldest first; with ``since_id=0`` the latest ``limit``."""
    query = select(Message).where(Message.conversation_id == conversation.id)
    if since_id:
        return list(session.scalars(query.where(Message.id > since_id).order_by(Message.id).limit(limit)))
    latest = list(session.scalars(query.order_by(Message.id.desc()).limit(limit)))
    return latest[::-1]


def mark_read(session: Session, conversation: Conversation, by: str) -> None:
    """Reset the unread counter of ``by`` (``member`` or ``staff``)."""
    column = "unread_by_member" if by == "member" else "unread_by_staff"
    if getattr(conversation, column) == 0:
        return
    with write_transaction(session):
        session.execute(update(Conversation).where(Conversation.id == conversation.id)
                        .values({column: 0}).execution_options(synchronize_session=False))
    setattr(conversation, column, 0)


# -------------------------------------------------------------------------- agent access


def staff_may_see(staff: StaffUser, conversation: Conversation) -> bool:
    """Owners see every conversation; an agent those assigned to them or to nobody."""
    if may(staff, "owner"):
        return True
    return may(staff, "agent") and conversation.assigned_staff_id in (None, staff.id)


def visible_filter(staff: StaffUser):
    if may(staff, "owner"):
        return true()
    return (Conversation.assigned_staff_id.is_(None)) | (Conversation.assigned_staff_id == staff.id)


def conversation_for_staff(session: Session, staff: StaffUser, conversation_id: int) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None or not staff_may_see(staff, conversation):
        # The same answer for "missing" and "not yours": ids are not probed.
        raise NotFound(_l("We could not find that conversation."))
    return conversation


def assign(session: Session, conversation: Conversation, staff: StaffUser, to_staff_id: int | None) -> None:
    """Assign a conversation: owners to anyone (or nobody); an agent only takes an
    unassigned one for themselves (conditional UPDATE: two agents cannot both take it)."""
    if may(staff, "owner"):
        target = session.get(StaffUser, to_staff_id) if is_id(to_staff_id) else None
        if to_staff_id and (target is None or not target.active):
            raise ValidationError(_l("Choose an active staff member."), fields={"staff_id": _l("Unknown.")})
        condition = Conversation.id == conversation.id
    elif to_staff_id == staff.id:
        condition = (Conversation.id == conversation.id) & Conversation.assigned_staff_id.is_(None)
    else:
        raise ValidationError(_l("Only the owner can assign conversations to others."))
    with write_transaction(session):
        result = session.execute(update(Conversation).where(condition)
                                 .values(assigned_staff_id=to_staff_id)
                                 .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise ValidationError(_l("Another agent took this conversation first."))
    session.refresh(conversation)
