"""Distribution tables (prefix ``distribution_``).

The ledger is append-only: balances are sums of entries, and no entry is ever updated or
deleted (a trigger on PostgreSQL, ORM events everywhere, see ``ledger.py``).
"""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text,
)
from sqlalchemy.orm import Mapped, mapped_column

from siyu.plugin import Base, UTCDateTime, utcnow

#: China treats more than three tiers as pyramid selling: never configurable above this.
MAX_TIERS = 3


class Status(str, enum.Enum):
    APPLIED = "applied"
    APPROVED = "approved"
    SUSPENDED = "suspended"
    REJECTED = "rejected"


class Distributor(Base):
    """A member who sells through referral links; ``recruiter_id`` builds the team tree."""

    __tablename__ = "distribution_distributors"
    __table_args__ = (CheckConstraint("recruiter_id IS NULL OR recruiter_id <> id", name="not_own_recruiter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), unique=True)
    recruiter_id: Mapped[int | None] = mapped_column(
        ForeignKey("distribution_distributors.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=Status.APPLIED.value, index=True)
    #: Optional rate level (see the ``level_rates`` setting); 1 is the default level.
    level: Mapped[int] = mapped_column(Integer, default=1)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    #: What the applicant wrote when applying.
    motivation: Mapped[str] = mapped_column(String(1000), default="")
    #: Why the owner rejected or suspended, shown to the distributor.
    reason: Mapped[str] = mapped_column(String(500), default="")
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Link(Base):
    """A referral link ``/r/<code>``; the code is random and unique."""

    __tablename__ = "distribution_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    distributor_id: Mapped[int] = mapped_column(
        ForeignKey("distribution_distributors.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    #: A storefront path the link lands on (``/`` or ``/p/12``).
    target: Mapped[str] = mapped_column(String(200), default="/")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Click(Base):
    """One visitor's visit through a link, counted once per visitor per day."""

    __tablename__ = "distribution_clicks"
    __table_args__ = (UniqueConstraint("link_id", "visitor_id", "day"),
                      Index("ix_distribution_clicks_distributor_day", "distributor_id", "day"))

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("distribution_links.id", ondelete="CASCADE"))
    distributor_id: Mapped[int] = mapped_column(ForeignKey("distribution_distributors.id", ondelete="CASCADE"))
    visitor_id: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Binding(Base):
    """锁客: the distributor a member is bound to, with first and last touch kept apart."""

    __tablename__ = "distribution_bindings"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    distributor_id: Mapped[int] = mapped_column(
        ForeignKey("distribution_distributors.id", ondelete="CASCADE"), index=True)
    bound_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: ``None``: bound for good (the default binding period).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_distributor_id: Mapped[int] = mapped_column(
        ForeignKey("distribution_distributors.id", ondelete="CASCADE"))
    first_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_distributor_id: Mapped[int] = mapped_column(
        ForeignKey("distribution_distributors.id", ondelete="CASCADE"))
    last_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OrderAttribution(Base):
    """The distributor an order is attributed to, and the upline frozen when it was placed."""

    __tablename__ = "distribution_orders"

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True)
    distributor_id: Mapped[int] = mapped_column(
        ForeignKey("distribution_distributors.id", ondelete="CASCADE"), index=True)
    tier2_id: Mapped[int | None] = mapped_column(ForeignKey("distribution_distributors.id", ondelete="SET NULL"))
    tier3_id: Mapped[int | None] = mapped_column(ForeignKey("distribution_distributors.id", ondelete="SET NULL"))
    #: ``binding`` or ``cookie``: how the order was attributed.
    source: Mapped[str] = mapped_column(String(16), default="binding")
    #: The buyer is the distributor: no commission unless the owner allows self-purchase.
    self_purchase: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class ProductRate(Base):
    """Per-product commission rates in basis points, replacing the default tier rates."""

    __tablename__ = "distribution_product_rates"
    __table_args__ = (CheckConstraint("tier1_bps + tier2_bps + tier3_bps <= 10000", name="at_most_everything"),
                      CheckConstraint("tier1_bps >= 0 AND tier2_bps >= 0 AND tier3_bps >= 0", name="not_negative"))

    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), primary_key=True)
    tier1_bps: Mapped[int] = mapped_column(Integer, default=0)
    tier2_bps: Mapped[int] = mapped_column(Integer, default=0)
    tier3_bps: Mapped[int] = mapped_column(Integer, default=0)


class Bucket(str, enum.Enum):
    PENDING = "pending"    # accrued, inside the return window
    PAYABLE = "payable"    # released: may be withdrawn
    HELD = "held"          # requested in a payout not yet paid
    PAID = "paid"          # transferred to the distributor


class Kind(str, enum.Enum):
    ACCRUAL = "accrual"
    RELEASE = "release"
    REVERSAL = "reversal"
    PAYOUT = "payout"


class LedgerEntry(Base):
    """One movement of commission money into or out of a bucket; never changed afterwards.

    A movement between buckets is two entries with the same ``kind``; every entry has a
    unique ``key`` so a retried job or a replayed event cannot write it twice.
    """

    __tablename__ = "distribution_ledger"
    __table_args__ = (
        Index("uq_distribution_ledger_accrual", "order_id", "distributor_id", "tier", unique=True,
              sqlite_where=text("kind = 'accrual'"), postgresql_where=text("kind = 'accrual'")),
        Index("ix_distribution_ledger_distributor_bucket", "distributor_id", "bucket"),
        CheckConstraint("tier BETWEEN 0 AND 3", name="tier_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    distributor_id: Mapped[int] = mapped_column(ForeignKey("distribution_distributors.id"))
    kind: Mapped[str] = mapped_column(String(16))
    bucket: Mapped[str] = mapped_column(String(16))
    #: Signed minor units.
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    #: 1..3 for order commission, 0 for payouts.
    tier: Mapped[int] = mapped_column(Integer, default=0)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refunds.id"))
    payout_id: Mapped[int | None] = mapped_column(ForeignKey("distribution_payouts.id"), index=True)
    #: The net the commission was computed on and the rate, for the statement.
    base: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class PayoutStatus(str, enum.Enum):
    REQUESTED = "requested"
    APPROVED = "approved"
    PAID = "paid"
    REJECTED = "rejected"


class Payout(Base):
    __tablename__ = "distribution_payouts"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    distributor_id: Mapped[int] = mapped_column(
        ForeignKey("distribution_distributors.id", ondelete="CASCADE"), index=True)
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default=PayoutStatus.REQUESTED.value, index=True)
    provider: Mapped[str] = mapped_column(String(32), default="manual")
    #: The bank transfer's or the provider's reference.
    reference: Mapped[str] = mapped_column(String(128), default="")
    reason: Mapped[str] = mapped_column(String(500), default="")
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Lesson(Base):
    """A training-center lesson in Markdown, written by the owner."""

    __tablename__ = "distribution_lessons"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    #: Counted when the owner requires training before approval.
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    published: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class LessonCompletion(Base):
    __tablename__ = "distribution_lesson_completions"
    __table_args__ = (UniqueConstraint("distributor_id", "lesson_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    distributor_id: Mapped[int] = mapped_column(
        ForeignKey("distribution_distributors.id", ondelete="CASCADE"), index=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("distribution_lessons.id", ondelete="CASCADE"))
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
