"""Check-in tables. One row per member per local day (the unique key is the guarantee);
the local date is stored as it was when the member checked in, so a later change of the
shop's time zone never re-buckets history."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from siyu.plugin import Base, UTCDateTime, utcnow

DAILY = "daily"
MAKEUP = "makeup"


class Checkin(Base):
    __tablename__ = "checkin_checkins"
    __table_args__ = (
        UniqueConstraint("member_id", "local_date"),
        Index("ix_checkin_checkins_local_date", "local_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    #: The shop's calendar day the check-in counts for.
    local_date: Mapped[date] = mapped_column(Date)
    #: When it was recorded (for a make-up: when the member paid for it).
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The shop's time zone at that moment (IANA name).
    timezone: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(32), default="web")
    #: ``daily`` or ``makeup`` (补签).
    kind: Mapped[str] = mapped_column(String(8), default=DAILY)
    #: Length of the run of consecutive days ending with this one.
    streak: Mapped[int] = mapped_column(Integer, default=1)
    #: The run continued across a date gap that a time zone change created (not a miss).
    bridged: Mapped[bool] = mapped_column(Boolean, default=False)
    points_cost: Mapped[int] = mapped_column(Integer, default=0)


class CheckinMember(Base):
    """A member's running totals; its row is also the per-member lock for check-ins."""

    __tablename__ = "checkin_members"
    __table_args__ = (Index("ix_checkin_members_last_date", "last_date"),)

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    current_streak: Mapped[int] = mapped_column(Integer, default=0)
    best_streak: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    last_date: Mapped[date | None] = mapped_column(Date)
    #: The instant of the last daily check-in, to judge continuity across a time zone change.
    last_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CheckinReward(Base):
    """A reward earned by a check-in and what became of it."""

    __tablename__ = "checkin_rewards"
    __table_args__ = (Index("ix_checkin_rewards_member_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    checkin_id: Mapped[int] = mapped_column(ForeignKey("checkin_checkins.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    #: ``points`` or ``coupon``.
    kind: Mapped[str] = mapped_column(String(8))
    points: Mapped[int] = mapped_column(Integer, default=0)
    coupon: Mapped[str] = mapped_column(String(64), default="")
    #: ``daily`` or ``bonus``.
    reason: Mapped[str] = mapped_column(String(16))
    #: Idempotency key handed to the rewarding plugin.
    ref: Mapped[str] = mapped_column(String(120), unique=True)
    #: ``delivered``, ``not_delivered`` (no plugin to deliver it) or ``failed``.
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CheckinReminder(Base):
    """One streak reminder per member, channel and contact window."""

    __tablename__ = "checkin_reminders"
    __table_args__ = (UniqueConstraint("member_id", "channel", "window_until"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(32))
    window_until: Mapped[datetime] = mapped_column(UTCDateTime)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
