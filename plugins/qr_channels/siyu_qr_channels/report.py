"""The channel funnel: scans → unique visitors → new members → first orders → repeat orders.

Computed in SQL from the daily rollup and the attribution rows (never the raw scan log),
per channel, for shop-local dates ``start``..``end`` inclusive:

- scans, unique visitors: people's scans and visitor-days (a visitor counts once per
  channel per day; bots count in neither) from ``qr_channels_daily_stats``;
- new members: members who signed up in the range, by their first-touch (or last-touch)
  channel at sign-up;
- first / repeat orders and revenue: orders paid in the range that were the member's first
  paid order / a later one; revenue is paid total minus refunds;
- repurchase rate: of the members with a paid order in the range attributed to the channel,
  the share with two or more (the dashboard's definition, per channel).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from siyu_qr_channels.models import Channel, DailyStats, MemberAttribution, OrderAttribution
from siyu_qr_channels.scans import shop_zone

MODELS = ("first", "last")
FIGURES = ("scans", "uniques", "new_members", "first_orders", "repeat_orders", "revenue",
           "buyers", "repeat_buyers")


@dataclass
class ChannelFigures:
    channel_id: int | None
    name: str = ""
    kind: str = ""
    scene: str = ""
    active: bool = True
    scans: int = 0
    bot_scans: int = 0
    uniques: int = 0
    new_members: int = 0
    first_orders: int = 0
    repeat_orders: int = 0
    revenue: int = 0
    buyers: int = 0
    repeat_buyers: int = 0

    @property
    def repurchase_rate(self) -> float | None:
        """Percent of buyers who ordered twice or more, ``None`` without buyers."""
        return self.repeat_buyers * 100 / self.buyers if self.buyers else None


def utc_bounds(start: date, end: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[local midnight of ``start``, local midnight after ``end``) as aware UTC instants."""
    lower = datetime.combine(start, time(), zone).astimezone(timezone.utc)
    upper = datetime.combine(end + timedelta(days=1), time(), zone).astimezone(timezone.utc)
    return lower, upper


def funnel(session: Session, start: date, end: date, model: str = "first",
           direct: bool = False) -> list[ChannelFigures]:
    """Figures per channel (every channel, zeros included); with ``direct`` also a row
    (``channel_id`` ``None``) for members and orders no channel brought."""
    if model not in MODELS:
        raise ValueError(model)
    lower, upper = utc_bounds(start, end, shop_zone(session))
    rows: dict[int | None, ChannelFigures] = {
        c.id: ChannelFigures(c.id, c.name, c.kind, c.scene, c.active)
        for c in session.scalars(select(Channel).order_by(Channel.id))}
    if direct:
        rows[None] = ChannelFigures(None)

    def put(key, **values):
        if key in rows:
            for name, value in values.items():
                setattr(rows[key], name, int(value or 0))

    for cid, scans, bots, uniques in session.execute(
            select(DailyStats.channel_id, func.sum(DailyStats.scans), func.sum(DailyStats.bot_scans),
                   func.sum(DailyStats.uniques))
            .where(DailyStats.day >= start, DailyStats.day <= end).group_by(DailyStats.channel_id)):
        put(cid, scans=scans, bot_scans=bots, uniques=uniques)

    member_channel = (MemberAttribution.first_channel_id if model == "first"
                      else MemberAttribution.last_channel_id)
    for cid, count in session.execute(
            select(member_channel, func.count())
            .where(MemberAttribution.signed_up_at >= lower, MemberAttribution.signed_up_at < upper)
            .group_by(member_channel)):
        put(cid, new_members=count)

    order_channel = (OrderAttribution.first_channel_id if model == "first"
                     else OrderAttribution.last_channel_id).label("cid")
    in_range = (OrderAttribution.paid_at >= lower, OrderAttribution.paid_at < upper)
    for cid, first, repeat, revenue in session.execute(
            select(order_channel, func.sum(case((OrderAttribution.paid_seq == 1, 1), else_=0)),
                   func.sum(case((OrderAttribution.paid_seq > 1, 1), else_=0)),
                   func.sum(OrderAttribution.revenue))
            .where(*in_range).group_by(order_channel)):
        put(cid, first_orders=first, repeat_orders=repeat, revenue=revenue)

    per_member = (select(order_channel, func.count().label("n")).where(*in_range)
                  .group_by(order_channel, OrderAttribution.member_id).subquery())
    for cid, buyers, repeat in session.execute(
            select(per_member.c.cid, func.count(), func.sum(case((per_member.c.n >= 2, 1), else_=0)))
            .group_by(per_member.c.cid)):
        put(cid, buyers=buyers, repeat_buyers=repeat)

    ordered = sorted((r for k, r in rows.items() if k is not None),
                     key=lambda r: (-r.new_members, -r.revenue, -r.scans, r.name))
    return ordered + ([rows[None]] if direct else [])


def totals(rows: list[ChannelFigures], model: str) -> ChannelFigures:
    """Sums over the channels (not the direct row). Buyers add up only under first touch,
    where each member belongs to one channel; under last touch the rate is left out."""
    total = ChannelFigures(None)
    for row in rows:
        if row.channel_id is None:
            continue
        for name in FIGURES + ("bot_scans",):
            setattr(total, name, getattr(total, name) + getattr(row, name))
    if model != "first":
        total.buyers = total.repeat_buyers = 0
    return total


def top_channels(session: Session, today: date, days: int = 30, limit: int = 5) -> list[ChannelFigures]:
    """The channels that brought the most members (then revenue) in the last ``days`` days."""
    rows = funnel(session, today - timedelta(days=days - 1), today)
    return [r for r in rows if r.scans or r.new_members or r.revenue][:limit]
