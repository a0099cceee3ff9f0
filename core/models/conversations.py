"""Conversations between members and the shop's agents, over channels.

A conversation is one member on one channel (the storefront's web chat, a WeChat official
account...). Its row also holds the channel's contact-window state, so a proactive send can
reserve quota with one conditional UPDATE, safe across workers.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from siyu.core.db import Base, UTCDateTime, utcnow


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("member_id", "channel"),
        Index("ix_conversations_channel_last_inbound", "channel", "last_inbound_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(32))
    assigned_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    #: The member's last interaction on this channel: opens the proactive-message window.
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Outbound messages counted against the channel's quota since ``last_inbound_at``.
    window_sends: Mapped[int] = mapped_column(Integer, default=0)
    #: Inbound messages the agents have not read / outbound the member has not read.
    unread_by_staff: Mapped[int] = mapped_column(Integer, default=0)
    unread_by_member: Mapped[int] = mapped_column(Integer, default=0)


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_conversation_id_id", "conversation_id", "id"),
        # A broadcast reaches each conversation once, even when its job is retried.
        UniqueConstraint("broadcast_id", "conversation_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    #: ``in`` (from the member) or ``out`` (from the shop).
    direction: Mapped[str] = mapped_column(String(3))
    #: ``member``, ``staff`` or ``system`` (automatic replies, broadcasts).
    author: Mapped[str] = mapped_column(String(8))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    #: ``text``, ``card`` or ``event``.
    kind: Mapped[str] = mapped_column(String(8), default="text")
    #: The text, or a card's plain summary for channels that cannot show cards.
    body: Mapped[str] = mapped_column(Text, default="")
    card_type: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    #: ``delivered``, ``pending`` (an adapter will deliver), ``undelivered`` (refused by the
    #: channel's window, kept with ``reason``) or ``failed`` (the adapter gave up).
    delivery: Mapped[str] = mapped_column(String(12), default="delivered")
    reason: Mapped[str | None] = mapped_column(String(32))
    broadcast_id: Mapped[int | None] = mapped_column(ForeignKey("broadcasts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MemberInteraction(Base):
    """Something the member did: a message, a card click, a check-in, a payment..."""

    __tablename__ = "member_interactions"
    __table_args__ = (Index("ix_member_interactions_member_channel_at", "member_id", "channel", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CardActionResult(Base):
    """A card action a member performed: the unique key makes the action idempotent."""

    __tablename__ = "card_action_results"
    __table_args__ = (UniqueConstraint("message_id", "action", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(32))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    result: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Broadcast(Base):
    """A message or card sent to a list of members by a background job, with its report."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(32))
    #: An audience key from ``broadcast_audiences``, or ``list`` for ``member_ids``.
    audience: Mapped[str] = mapped_column(String(128))
    member_ids: Mapped[list | None] = mapped_column(JSON)
    kind: Mapped[str] = mapped_column(String(8), default="text")
    body: Mapped[str] = mapped_column(Text, default="")
    card_type: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    #: ``queued`` → ``running`` → ``done`` or ``failed``.
    status: Mapped[str] = mapped_column(String(12), default="queued", index=True)
    total: Mapped[int] = mapped_column(Integer, default=0)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    #: Skipped and failed counts per reason, e.g. ``{"window_closed": 12}``.
    reasons: Mapped[dict] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def progress(self) -> int:
        """Percent of the audience processed."""
        if self.status == "done":
            return 100
        return int(self.processed * 100 / self.total) if self.total else 0
