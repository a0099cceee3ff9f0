"""Tables of the coupons plugin (prefix ``coupons_``).

A template is what the owner defines (the offer, its validity, how many exist); a coupon is one
member's copy of it, in their wallet. The database itself refuses what the services promise:
``issued <= quantity`` (a check), one copy per (template, member, seq) so the per-member limit
holds, one coupon per order.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from siyu.plugin import Base, UTCDateTime, utcnow

KINDS = ("fixed", "percent", "threshold")
SCOPES = ("all", "products")
#: A coupon's stored states; "expired" is derived from ``valid_until`` so it never needs a job.
STATUSES = ("available", "reserved", "used")
WALLET_TABS = ("available", "reserved", "used", "expired")


class CouponTemplate(Base):
    """An offer the owner defines: fixed amount, percentage with a cap, or spend X save Y."""

    __tablename__ = "coupons_templates"
    __table_args__ = (
        CheckConstraint("issued >= 0", name="issued_not_negative"),
        CheckConstraint("quantity IS NULL OR issued <= quantity", name="issued_within_quantity"),
        CheckConstraint("per_member_limit >= 1", name="limit_positive"),
        CheckConstraint("amount >= 0 AND min_spend >= 0", name="amounts_not_negative"),
        CheckConstraint("percent_bp >= 0 AND percent_bp <= 10000", name="percent_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Short public code: the claim page ``/c/<code>`` and the key other plugins issue by.
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(500), default="")
    kind: Mapped[str] = mapped_column(String(16), default="fixed")
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    #: ``fixed``: amount off; ``threshold``: the Y saved when spending ``min_spend``.
    amount: Mapped[int] = mapped_column(Integer, default=0)
    #: ``percent``: basis points off (1500 = 15 %).
    percent_bp: Mapped[int] = mapped_column(Integer, default=0)
    #: The most one coupon takes off (a cap for percentages and repeated thresholds).
    max_discount: Mapped[int | None] = mapped_column(Integer)
    #: Eligible spend needed; for ``threshold`` the X of "spend X, save Y".
    min_spend: Mapped[int] = mapped_column(Integer, default=0)
    #: ``threshold`` only: save Y for every X spent (每满X减Y) instead of once.
    repeat: Mapped[bool] = mapped_column(Boolean, default=False)
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Valid for N days after the claim (still never past ``valid_until``).
    valid_days: Mapped[int | None] = mapped_column(Integer)
    #: How many may ever be issued; ``None`` for no limit.
    quantity: Mapped[int | None] = mapped_column(Integer)
    #: How many were issued: raised only by a conditional UPDATE (``issued < quantity``).
    issued: Mapped[int] = mapped_column(Integer, default=0)
    per_member_limit: Mapped[int] = mapped_column(Integer, default=1)
    scope: Mapped[str] = mapped_column(String(16), default="all")
    #: Combinable with member prices; when not, lines with a member price are not eligible.
    with_member_price: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Inactive templates cannot be claimed or issued; coupons already held stay usable.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TemplateProduct(Base):
    """A product a ``products``-scoped template applies to."""

    __tablename__ = "coupons_template_products"

    template_id: Mapped[int] = mapped_column(
        ForeignKey("coupons_templates.id", ondelete="CASCADE"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), primary_key=True)


class Coupon(Base):
    """One member's coupon: available → reserved (by an order) → used; released back to
    available when the order is cancelled, restored after a full refund (setting)."""

    __tablename__ = "coupons_coupons"
    __table_args__ = (
        # The per-member limit: seq runs 1..limit, so a second copy beyond it cannot exist.
        UniqueConstraint("template_id", "member_id", "seq"),
        # Issuing by another plugin is idempotent per reference (NULLs never collide).
        UniqueConstraint("template_id", "member_id", "ref"),
        CheckConstraint("status IN ('available', 'reserved', 'used')", name="status_known"),
        CheckConstraint("seq >= 1", name="seq_positive"),
        Index("ix_coupons_coupons_member_status", "member_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("coupons_templates.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default="available")
    #: How it reached the wallet: ``chat``, ``page``, ``welcome``, ``hook``, ``staff``.
    source: Mapped[str] = mapped_column(String(16), default="page")
    reason: Mapped[str] = mapped_column(String(100), default="")
    ref: Mapped[str | None] = mapped_column(String(100))
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The order holding or having used it; unique: one coupon per order.
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"), unique=True)
    reserved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    discount: Mapped[int] = mapped_column(Integer, default=0)

    def is_expired(self, now: datetime) -> bool:
        return self.status == "available" and self.valid_until is not None and self.valid_until <= now

    def tab(self, now: datetime) -> str:
        return "expired" if self.is_expired(now) else self.status


class Redemption(Base):
    """The history of a coupon on an order (kept after a release), for the owner's figures:
    ``reserved`` → ``used`` | ``released``; ``used`` → ``restored`` after a full refund."""

    __tablename__ = "coupons_redemptions"
    __table_args__ = (UniqueConstraint("coupon_id", "order_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    coupon_id: Mapped[int] = mapped_column(ForeignKey("coupons_coupons.id", ondelete="CASCADE"))
    template_id: Mapped[int] = mapped_column(ForeignKey("coupons_templates.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    discount: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="reserved")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
