from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from siyu.core.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:  # mapped in models/fulfilment.py, which imports this module
    from siyu.core.models.fulfilment import OrderDelivery


class OrderStatus(str, enum.Enum):
    PLACED = "placed"
    PAID = "paid"
    SHIPPED = "shipped"
    COMPLETED = "completed"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    CANCELLED = "cancelled"


#: Every state of an order that was paid. A partial refund moves ``paid`` to
#: ``partially_refunded`` but leaves ``shipped`` and ``completed`` as they are (the refunded
#: amount tells); a full refund ends in ``refunded``. See docs/fulfilment.md.
PAID_STATES = (
    OrderStatus.PAID.value, OrderStatus.PARTIALLY_REFUNDED.value, OrderStatus.SHIPPED.value,
    OrderStatus.COMPLETED.value, OrderStatus.REFUNDED.value,
)
#: Paid and not yet shipped: what the shop still has to send.
TO_SHIP_STATES = (OrderStatus.PAID.value, OrderStatus.PARTIALLY_REFUNDED.value)


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("total >= 0", name="total_not_negative"),
        CheckConstraint("refunded_amount >= 0 AND refunded_amount <= total", name="refund_within_total"),
        # Paid orders per member (the repurchase rate) read from the index alone, never the rows.
        Index("ix_orders_member_status", "member_id", "status"),
        # A browser's unpaid orders, counted at each checkout (siyu.core.reservations).
        Index("ix_orders_visitor_status", "visitor_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Public, unguessable order number shown to the shopper.
    number: Mapped[str] = mapped_column(String(32), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    status: Mapped[str] = mapped_column(String(24), default=OrderStatus.PLACED.value, index=True)
    currency: Mapped[str] = mapped_column(String(3))
    subtotal: Mapped[int] = mapped_column(Integer)
    #: Sum of all adjustments (negative for discounts).
    adjustment_total: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer)
    refunded_amount: Mapped[int] = mapped_column(Integer, default=0)
    payment_method: Mapped[str] = mapped_column(String(32))
    #: One per checkout form: a double submit finds the order instead of placing another.
    checkout_token: Mapped[str] = mapped_column(String(64), unique=True)
    locale: Mapped[str] = mapped_column(String(10), default="zh_CN")
    visitor_id: Mapped[str | None] = mapped_column(String(64))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(String(32))
    #: An unpaid order holds its stock until then.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    #: ``express``, ``pickup`` or ``none`` (see ``OrderDelivery`` for the address).
    delivery_method: Mapped[str] = mapped_column(String(12), default="express")
    #: When every shippable line had left (the automatic completion counts from here).
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    lines: Mapped[list["OrderLine"]] = relationship(
        back_populates="order", order_by="OrderLine.id", cascade="all, delete-orphan"
    )
    adjustments: Mapped[list["OrderAdjustment"]] = relationship(
        back_populates="order", order_by="OrderAdjustment.id", cascade="all, delete-orphan"
    )
    delivery: Mapped["OrderDelivery | None"] = relationship(cascade="all, delete-orphan")

    @property
    def is_paid(self) -> bool:
        return self.status in PAID_STATES

    @property
    def refundable_amount(self) -> int:
        return self.total - self.refunded_amount if self.is_paid else 0


class OrderLine(Base):
    __tablename__ = "order_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id", ondelete="SET NULL"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    unit_price: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    #: unit_price × quantity, before adjustments.
    subtotal: Mapped[int] = mapped_column(Integer)
    #: After item-stage adjustments (member price...).
    total: Mapped[int] = mapped_column(Integer)
    #: Copied from the product: a virtual product's line is never shipped.
    requires_shipping: Mapped[bool] = mapped_column(Boolean, default=True)

    order: Mapped[Order] = relationship(back_populates="lines")

    def title(self, locale: str) -> str:
        return self.title_zh if str(locale).startswith("zh") else self.title_en


class OrderAdjustment(Base):
    """A price adjustment kept as a visible line on the order."""

    __tablename__ = "order_adjustments"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200))
    amount: Mapped[int] = mapped_column(Integer)
    sku: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict] = mapped_column(JSON, default=dict)

    order: Mapped[Order] = relationship(back_populates="adjustments")
