"""Tables of the qr_channels plugin (prefix ``qr_channels_``).

Raw scans are a log; the report reads the per-day rollup and the attribution rows, so a
90-day funnel never scans millions of rows.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from siyu.plugin import Base, UTCDateTime, utcnow

KINDS = ("store", "event", "poster", "partner", "staff")
TARGETS = ("home", "product", "coupon", "signup")
DEVICES = ("mobile", "tablet", "desktop", "bot")


class Channel(Base):
    """A place that hands out one parametric QR code: a counter, an event, a poster..."""

    __tablename__ = "qr_channels_channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16), default="store")
    #: Where a scan lands: ``home``, ``product`` (id in ``target_value``), ``coupon`` (code), ``signup``.
    target: Mapped[str] = mapped_column(String(16), default="home")
    target_value: Mapped[str] = mapped_column(String(64), default="")
    notes: Mapped[str] = mapped_column(String(1000), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: The scene value in the short URL and in WeChat: a permanent scene id ("1".."100000")
    #: or a scene string of at most 64 URL-safe characters. Never changes once printed.
    scene: Mapped[str] = mapped_column(String(64), unique=True)
    #: The scene as a number when it is a permanent scene id (unique, to hand out the next).
    scene_id: Mapped[int | None] = mapped_column(Integer, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Scan(Base):
    """One scan of a channel's code (every one, bots included; the rollup separates them)."""

    __tablename__ = "qr_channels_scans"
    __table_args__ = (Index("ix_qr_channels_scans_channel_time", "channel_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("qr_channels_channels.id", ondelete="CASCADE"))
    visitor_id: Mapped[str] = mapped_column(String(64))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    device: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DailyVisitor(Base):
    """A visitor seen on a channel on a shop-local day: the primary key makes it count once."""

    __tablename__ = "qr_channels_daily_visitors"

    channel_id: Mapped[int] = mapped_column(
        ForeignKey("qr_channels_channels.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    visitor_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class DailyStats(Base):
    """Per channel and shop-local day: scans by people, scans by bots, unique visitors."""

    __tablename__ = "qr_channels_daily_stats"

    channel_id: Mapped[int] = mapped_column(
        ForeignKey("qr_channels_channels.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    scans: Mapped[int] = mapped_column(Integer, default=0)
    bot_scans: Mapped[int] = mapped_column(Integer, default=0)
    uniques: Mapped[int] = mapped_column(Integer, default=0)


class MemberAttribution(Base):
    """First- and last-touch channel of a member, fixed at sign-up."""

    __tablename__ = "qr_channels_member_attribution"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    first_channel_id: Mapped[int | None] = mapped_column(ForeignKey("qr_channels_channels.id"), index=True)
    last_channel_id: Mapped[int | None] = mapped_column(ForeignKey("qr_channels_channels.id"), index=True)
    #: When the member signed up (copied so the report needs no join).
    signed_up_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class OrderAttribution(Base):
    """First- and last-touch channel of an order, and its place in the member's orders."""

    __tablename__ = "qr_channels_order_attribution"
    __table_args__ = (Index("ix_qr_channels_order_attribution_paid", "paid_at"),)

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    first_channel_id: Mapped[int | None] = mapped_column(ForeignKey("qr_channels_channels.id"))
    last_channel_id: Mapped[int | None] = mapped_column(ForeignKey("qr_channels_channels.id"))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: 1 for the member's first paid order, 2 for the second...; set when paid.
    paid_seq: Mapped[int | None] = mapped_column(Integer)
    #: Paid total minus refunds, in minor units; follows refunds.
    revenue: Mapped[int] = mapped_column(Integer, default=0)
