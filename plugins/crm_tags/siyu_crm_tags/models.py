"""The CRM's tables (prefix ``crm_``): tags, member stats, the points ledger, levels, segments."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from siyu.plugin import Base, UTCDateTime, utcnow

# Declared for the core's separation test: this plugin's tables start "crm_", not "crm_tags_".
TABLE_PREFIX = "crm_"


class TagGroup(Base):
    """A family of tags such as a life stage (备孕 / 孕期 / 宝妈)."""

    __tablename__ = "crm_tag_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Tag(Base):
    """A tag; with a ``rule`` it is kept up to date automatically, else agents set it."""

    __tablename__ = "crm_tags"
    __table_args__ = (UniqueConstraint("group_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("crm_tag_groups.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(60))
    #: ``{"kind": "spend_at_least", "amount": 50000}``; see ``rules.KINDS``.
    rule: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def is_rule(self) -> bool:
        return bool(self.rule)


class MemberTag(Base):
    __tablename__ = "crm_member_tags"
    # (tag_id, member_id) serves segment conditions; the primary key serves a member's tags.
    __table_args__ = (Index("ix_crm_member_tags_tag_member", "tag_id", "member_id"),)

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("crm_tags.id", ondelete="CASCADE"), primary_key=True)
    #: ``manual`` (an agent) or ``rule``.
    source: Mapped[str] = mapped_column(String(8), default="manual")
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MemberStats(Base):
    """One row per member: figures kept current on events so segments filter on columns.

    The row is also the member's points account and the lock every points change takes
    first, so concurrent redemptions serialise per member.
    """

    __tablename__ = "crm_member_stats"
    __table_args__ = (
        Index("ix_crm_member_stats_last_order", "last_order_at"),
        Index("ix_crm_member_stats_fm", "f_band", "m_band"),
    )

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    #: Paid orders that are not fully refunded.
    orders_count: Mapped[int] = mapped_column(Integer, default=0)
    #: Paid minus refunded, minor units.
    spend: Mapped[int] = mapped_column(Integer, default=0)
    #: Completed orders only (received, or completed automatically), less their refunds: what
    #: levels count when they are reached by spend. Counted by ``on_order_completed``.
    completed_spend: Mapped[int] = mapped_column(Integer, default=0)
    first_order_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_order_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    f_band: Mapped[int] = mapped_column(Integer, default=0)
    m_band: Mapped[int] = mapped_column(Integer, default=0)
    #: Spendable points. A redemption never takes it below zero (conditional UPDATE); only a
    #: refund taking back points already spent can, and later earnings pay that debt first.
    points: Mapped[int] = mapped_column(Integer, default=0)
    #: Lifetime points earned net of reversals (a level basis).
    points_earned: Mapped[int] = mapped_column(Integer, default=0)
    level_id: Mapped[int | None] = mapped_column(ForeignKey("crm_levels.id", ondelete="SET NULL"), index=True)
    #: First-touch channel (the core touch value) and distributor reported by plugins.
    channel: Mapped[str | None] = mapped_column(String(128), index=True)
    distributor: Mapped[str | None] = mapped_column(String(64), index=True)
    checkin_streak: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PointEntry(Base):
    """The append-only points ledger: rows are inserted, never updated or deleted."""

    __tablename__ = "crm_point_entries"
    __table_args__ = (
        # Earning for an order, reversing a refund, awarding a check-in: each once.
        UniqueConstraint("member_id", "kind", "ref"),
        Index("ix_crm_point_entries_member_id_id", "member_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    #: earn, earn_reversal, award, redeem, redeem_release, redeem_return, expire, adjust.
    kind: Mapped[str] = mapped_column(String(16))
    delta: Mapped[int] = mapped_column(Integer)
    balance_after: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200), default="")
    #: What it is about (``order:12``, ``refund:3``, a plugin's key); unique per kind.
    ref: Mapped[str | None] = mapped_column(String(128))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PointLot(Base):
    """Points earned together and expiring together; spent first-to-expire first."""

    __tablename__ = "crm_point_lots"
    __table_args__ = (
        CheckConstraint("remaining >= 0 AND remaining <= points", name="remaining_in_range"),
        Index("ix_crm_point_lots_member_expiry", "member_id", "expires_at"),
        Index("ix_crm_point_lots_expiry_open", "expires_at", "remaining"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("crm_point_entries.id", ondelete="CASCADE"))
    points: Mapped[int] = mapped_column(Integer)
    remaining: Mapped[int] = mapped_column(Integer)
    #: ``None``: never expires.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PointSpend(Base):
    """Which lots a redemption drew from, so a cancel or refund gives back the same lots."""

    __tablename__ = "crm_point_spends"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("crm_point_entries.id", ondelete="CASCADE"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("crm_point_lots.id", ondelete="CASCADE"), index=True)
    points: Mapped[int] = mapped_column(Integer)
    returned: Mapped[int] = mapped_column(Integer, default=0)


class Level(Base):
    """A membership tier reached at ``threshold`` (points or spend, per the shop setting)."""

    __tablename__ = "crm_levels"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    threshold: Mapped[int] = mapped_column(Integer, unique=True)
    #: Member price as a percentage of the list price (100 = no discount, 95 = 5 % off).
    price_percent: Mapped[int] = mapped_column(Integer, default=100)
    #: SKUs only members of this level or above may buy.
    exclusive_skus: Mapped[list] = mapped_column(JSON, default=list)
    benefits: Mapped[str] = mapped_column(String(500), default="")


class Segment(Base):
    """A saved filter over members; ``definition`` is validated by ``segments.clean``."""

    __tablename__ = "crm_segments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    definition: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RecomputeJob(Base):
    """A full recompute of stats, levels and rule tags, resumable from ``cursor``."""

    __tablename__ = "crm_recompute_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ``queued`` → ``running`` → ``done`` / ``failed``.
    status: Mapped[str] = mapped_column(String(12), default="queued", index=True)
    total: Mapped[int] = mapped_column(Integer, default=0)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    #: The last member id done: a rerun continues after it.
    cursor: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def progress(self) -> int:
        if self.status == "done":
            return 100
        return min(99, int(self.processed * 100 / self.total)) if self.total else 0
