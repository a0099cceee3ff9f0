"""Fulfilment: the member's address book, an order's delivery, shipments and after-sales.

States are strings in the database and enums here; every transition is a conditional
UPDATE in ``siyu.core.fulfilment`` / ``siyu.core.after_sales`` (see docs/fulfilment.md).
"""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint, text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from siyu.core.db import Base, UTCDateTime, utcnow


class DeliveryMethod(str, enum.Enum):
    EXPRESS = "express"  # a parcel to the shopper's address
    PICKUP = "pickup"    # 到店自提: collected at a shop location
    NONE = "none"        # virtual products: nothing to deliver


class AfterSaleKind(str, enum.Enum):
    REFUND_ONLY = "refund_only"      # not shipped, or not received: money back, no goods back
    RETURN_REFUND = "return_refund"  # the goods come back, then the money


class AfterSaleState(str, enum.Enum):
    REQUESTED = "requested"
    APPROVED = "approved"                # refund only: ready to refund
    AWAITING_RETURN = "awaiting_return"  # return approved: the shopper sends the goods back
    RETURNED = "returned"                # the shopper entered the return's tracking number
    RECEIVED = "received"                # the shop has the goods again (stock restored)
    REFUNDED = "refunded"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"              # the shopper took the request back


#: Requests still in progress: they hold their amount and quantity of the line.
OPEN_AFTER_SALE_STATES = (
    AfterSaleState.REQUESTED.value, AfterSaleState.APPROVED.value, AfterSaleState.AWAITING_RETURN.value,
    AfterSaleState.RETURNED.value, AfterSaleState.RECEIVED.value,
)
#: Requests that count against what the line may still claim.
COUNTED_AFTER_SALE_STATES = OPEN_AFTER_SALE_STATES + (AfterSaleState.REFUNDED.value,)


class _AddressFields:
    """The postal part shared by an address-book entry and an order's snapshot."""

    recipient: Mapped[str] = mapped_column(String(50), default="")
    #: E.164 (``+8613812345678``).
    phone: Mapped[str] = mapped_column(String(20), default="")
    #: GB/T 2260 codes (6 digits) and names as they were when chosen.
    province_code: Mapped[str] = mapped_column(String(12), default="")
    province_name: Mapped[str] = mapped_column(String(50), default="")
    city_code: Mapped[str] = mapped_column(String(12), default="")
    city_name: Mapped[str] = mapped_column(String(50), default="")
    district_code: Mapped[str] = mapped_column(String(12), default="")
    district_name: Mapped[str] = mapped_column(String(50), default="")
    street: Mapped[str] = mapped_column(String(200), default="")

    def region_text(self) -> str:
        # Municipalities repeat the province as the city (北京市 北京市): show it once.
        parts = [self.province_name, self.city_name, self.district_name]
        return " ".join(p for i, p in enumerate(parts) if p and p not in parts[:i])


class MemberAddress(_AddressFields, Base):
    """An entry in a member's address book; at most one is the default."""

    __tablename__ = "member_addresses"
    __table_args__ = (
        # One default per member, kept by the database (partial unique index).
        Index("uq_member_addresses_default", "member_id", unique=True,
              sqlite_where=text("is_default"), postgresql_where=text("is_default")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class OrderDelivery(_AddressFields, Base):
    """How an order reaches the shopper, copied at checkout: later edits of the address book
    or of the shop's pickup locations never change a placed order."""

    __tablename__ = "order_deliveries"

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True)
    method: Mapped[str] = mapped_column(String(12))
    pickup_code: Mapped[str] = mapped_column(String(32), default="")
    pickup_name: Mapped[str] = mapped_column(String(100), default="")
    pickup_address: Mapped[str] = mapped_column(String(200), default="")
    pickup_hours: Mapped[str] = mapped_column(String(100), default="")


class Shipment(Base):
    """One parcel (or one pickup hand-over) with the lines and quantities it carries."""

    __tablename__ = "shipments"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    #: A carrier code from the shop's carrier list (``sf``, ``zto``...), or ``pickup``.
    carrier_code: Mapped[str] = mapped_column(String(32))
    tracking_number: Mapped[str] = mapped_column(String(64), default="", index=True)
    shipped_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))

    lines: Mapped[list["ShipmentLine"]] = relationship(
        back_populates="shipment", order_by="ShipmentLine.id", cascade="all, delete-orphan"
    )


class ShipmentLine(Base):
    __tablename__ = "shipment_lines"
    __table_args__ = (
        UniqueConstraint("shipment_id", "order_line_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id", ondelete="CASCADE"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)

    shipment: Mapped[Shipment] = relationship(back_populates="lines")


class AfterSale(Base):
    """A shopper's after-sales request on one order line (售后): refund only, or return and
    refund. ``amount`` never exceeds what was paid for the line, less its other requests."""

    __tablename__ = "after_sales"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        Index("ix_after_sales_state_created", "state", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default=AfterSaleState.REQUESTED.value)
    #: A code from ``siyu.core.after_sales.REASONS``.
    reason: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(String(500), default="")
    #: Up to three media paths (``media/after_sales/<random>.<ext>``).
    photos: Mapped[list] = mapped_column(JSON, default=list)
    quantity: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(Integer)
    #: Refund only for units not yet shipped: they leave the to-ship count and their stock
    #: comes back when the request is approved.
    unshipped: Mapped[bool] = mapped_column(Boolean, default=False)
    return_carrier: Mapped[str] = mapped_column(String(32), default="")
    return_tracking_number: Mapped[str] = mapped_column(String(64), default="")
    #: The staff's reason when rejecting.
    decision_note: Mapped[str] = mapped_column(String(200), default="")
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    #: The refund's idempotency key (``after-sale:<id>``) and the refund once it exists.
    refund_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refunds.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_AFTER_SALE_STATES
