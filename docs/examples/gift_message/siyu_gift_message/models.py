"""The plugin's tables, all prefixed ``gift_message_`` and created by its own Alembic branch."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from siyu.plugin import Base, Order, UTCDateTime, utcnow

TABLE_PREFIX = "gift_message_"
MAX_LENGTH = 200  # the column's size; the shop may allow less (settings)


class GiftMessage(Base):
    """The message a shopper wrote for one order."""

    __tablename__ = "gift_message_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique: one message per order, and a double-submitted checkout cannot add a second.
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    message: Mapped[str] = mapped_column(String(MAX_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # One way only: the core's Order knows nothing about plugins.
    order: Mapped[Order] = relationship(lazy="joined")
