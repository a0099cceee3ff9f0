"""Points: an append-only ledger with expiring lots.

Every change locks the member's stats row first (``stats.lock``), so changes for one member
serialise across workers. Invariants: ``stats.points`` is the sum of the ledger's deltas,
and the remaining points of the member's lots equal ``max(stats.points, 0)``. A refund may
take back points already spent, leaving a debt (``points < 0``) that later credits pay first.
Lots that passed their expiry are expired before any change, so expiry is exact whenever a
job happens to run.
"""
from __future__ import annotations

import calendar
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from siyu.plugin import exponent, lazy_gettext as _l, Order, utcnow, ValidationError

from siyu_crm_tags import stats as stats_mod
from siyu_crm_tags.config import Config
from siyu_crm_tags.models import Level, MemberStats, PointEntry, PointLot, PointSpend

EARNING_KINDS = ("earn", "award")
MAX_POINTS = 100_000_000


def add_months(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` later; the month's last day when it is shorter."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _entry(session, stats: MemberStats, kind: str, delta: int, reason: str, ref: str | None,
           order_id: int | None = None, now: datetime | None = None) -> PointEntry:
    stats.points += delta
    entry = PointEntry(member_id=stats.member_id, kind=kind, delta=delta, balance_after=stats.points,
                       reason=str(reason)[:200], ref=ref, order_id=order_id, created_at=now or utcnow())
    session.add(entry)
    session.flush()
    return entry


def _existing(session, member_id: int, kind: str, ref: str) -> PointEntry | None:
    return session.scalar(select(PointEntry).where(
        PointEntry.member_id == member_id, PointEntry.kind == kind, PointEntry.ref == ref))


def expire_member(session: Session, stats: MemberStats, now: datetime) -> int:
    """Expire the locked member's lots that are due; returns the points expired."""
    due = list(session.scalars(select(PointLot).where(
        PointLot.member_id == stats.member_id, PointLot.remaining > 0,
        PointLot.expires_at.is_not(None), PointLot.expires_at <= now).order_by(PointLot.id)))
    total = sum(lot.remaining for lot in due)
    if not total:
        return 0
    for lot in due:
        lot.remaining = 0
    _entry(session, stats, "expire", -total, "expired: lots " + ",".join(str(lot.id) for lot in due)[:180],
           None, now=now)
    return total


def available(session: Session, member_id: int, now: datetime | None = None) -> int:
    """Spendable points now, counting lots past expiry as gone even before the job ran."""
    now = now or utcnow()
    balance = session.scalar(select(MemberStats.points).where(MemberStats.member_id == member_id)) or 0
    overdue = session.scalar(select(func.coalesce(func.sum(PointLot.remaining), 0)).where(
        PointLot.member_id == member_id, PointLot.expires_at.is_not(None), PointLot.expires_at <= now)) or 0
    return max(0, balance - int(overdue))


def _locked(session: Session, member_id: int, stats: MemberStats | None) -> MemberStats:
    """``stats`` when the caller already holds the member's locked row, else lock it now."""
    if stats is None:
        return stats_mod.lock(session, member_id)
    if stats.member_id != member_id:
        raise ValueError("stats row of another member")
    return stats


def credit(session: Session, cfg: Config, member_id: int, points: int, kind: str, reason: str,
           ref: str, order_id: int | None = None, now: datetime | None = None,
           stats: MemberStats | None = None, ordered_levels: list[Level] | None = None) -> PointEntry:
    """Earn or award ``points`` once per (member, kind, ref), as a new lot.

    ``stats``: the member's row when the caller locked it in this transaction (it is locked
    here otherwise); ``ordered_levels``: ``stats.levels()`` when the caller read them already.
    """
    if not isinstance(points, int) or isinstance(points, bool) or not 0 < points <= MAX_POINTS:
        raise ValidationError(_l("Points must be a whole number above zero."), fields={"points": _l("invalid")})
    now = now or utcnow()
    stats = _locked(session, member_id, stats)
    found = _existing(session, member_id, kind, ref)
    if found is not None:
        return found
    expire_member(session, stats, now)
    usable = points + min(0, stats.points)  # a refund debt is paid first
    entry = _entry(session, stats, kind, points, reason, ref, order_id, now)
    expires = add_months(now, cfg.expiry_months) if cfg.expiry_months else None
    session.add(PointLot(member_id=member_id, entry_id=entry.id, points=points,
                         remaining=max(0, min(points, usable)), expires_at=expires))
    if kind in EARNING_KINDS:
        stats.points_earned += points
        stats_mod.refresh_derived(stats, cfg, _levels(session, ordered_levels))
    session.flush()
    return entry


def _levels(session: Session, ordered_levels: list[Level] | None) -> list[Level]:
    return stats_mod.levels(session) if ordered_levels is None else ordered_levels


def points_for_amount(cfg: Config, amount: int, currency: str) -> int:
    return max(0, amount) * cfg.earn_points_per_unit // 10 ** exponent(currency)


def earn_for_order(session: Session, cfg: Config, order: Order, stats: MemberStats | None = None,
                   ordered_levels: list[Level] | None = None, now: datetime | None = None) -> PointEntry | None:
    """Earn the order's points when it is completed, once per order (``order:<id>``; an
    order that earned when it was paid, before points waited for completion, earns nothing
    more). What was refunded before completion is reversed at once, as a refund would have,
    so later refunds reverse their own share exactly."""
    points = points_for_amount(cfg, order.total, order.currency)
    if points <= 0:
        return None
    now = now or order.completed_at or utcnow()
    entry = credit(session, cfg, order.member_id, points, "earn", f"order {order.number}",
                   f"order:{order.id}", order.id, now, stats, ordered_levels)
    if order.refunded_amount > 0:
        _reverse(session, cfg, order, entry, f"completion:{order.id}", now, stats, ordered_levels)
    return entry


def _take(session: Session, stats: MemberStats, points: int, first_lot_id: int | None = None) -> list[tuple[PointLot, int]]:
    """Draw ``points`` from the locked member's lots, first-to-expire first."""
    lots = list(session.scalars(select(PointLot).where(
        PointLot.member_id == stats.member_id, PointLot.remaining > 0).order_by(
        PointLot.expires_at.is_(None), PointLot.expires_at, PointLot.id)))
    lots.sort(key=lambda lot: lot.id != first_lot_id)  # stable: the preferred lot first
    taken, left = [], points
    for lot in lots:
        if left == 0:
            break
        n = min(lot.remaining, left)
        lot.remaining -= n
        left -= n
        taken.append((lot, n))
    return taken


def order_redemption(session: Session, order_id: int) -> PointEntry | None:
    return session.scalar(select(PointEntry).where(PointEntry.order_id == order_id, PointEntry.kind == "redeem"))


def redeem(session: Session, cfg: Config, order: Order, points: int, now: datetime | None = None) -> PointEntry:
    """Reserve ``points`` for a placed order; refuses rather than overdraw."""
    now = now or utcnow()
    stats = stats_mod.lock(session, order.member_id)
    expire_member(session, stats, now)
    if points <= 0 or stats.points < points:
        raise ValidationError(_l("You do not have enough points for this order any more."),
                              fields={"crm_points": _l("not enough points")})
    taken = _take(session, stats, points)
    entry = _entry(session, stats, "redeem", -points, f"order {order.number}", f"order:{order.id}", order.id, now)
    session.add_all(PointSpend(entry_id=entry.id, lot_id=lot.id, points=n) for lot, n in taken)
    session.flush()
    return entry


def spend(session: Session, member_id: int, points: int, reason: str, ref: str,
          now: datetime | None = None) -> PointEntry:
    """Take ``points`` for something bought in another plugin, once per (member, ref)."""
    if not isinstance(points, int) or isinstance(points, bool) or not 0 < points <= MAX_POINTS:
        raise ValidationError(_l("Points must be a whole number above zero."), fields={"points": _l("invalid")})
    now = now or utcnow()
    stats = stats_mod.lock(session, member_id)
    found = _existing(session, member_id, "spend", ref)
    if found is not None:
        return found
    expire_member(session, stats, now)
    if stats.points < points:
        raise ValidationError(_l("You do not have enough points."), fields={"points": _l("not enough points")})
    taken = _take(session, stats, points)
    entry = _entry(session, stats, "spend", -points, reason, ref, None, now)
    session.add_all(PointSpend(entry_id=entry.id, lot_id=lot.id, points=n) for lot, n in taken)
    session.flush()
    return entry


def _give_back(session: Session, cfg: Config, redemption: PointEntry, points: int, kind: str, ref: str,
               now: datetime, stats: MemberStats | None = None) -> PointEntry | None:
    stats = _locked(session, redemption.member_id, stats)
    if _existing(session, redemption.member_id, kind, ref) is not None or points <= 0:
        return None
    usable = points + min(0, stats.points)
    spends = list(session.scalars(select(PointSpend).where(PointSpend.entry_id == redemption.id)
                                  .order_by(PointSpend.id)))
    for spend in spends:  # back into the same lots, so their expiry still applies
        n = min(spend.points - spend.returned, max(0, usable))
        if n <= 0:
            continue
        spend.returned += n
        session.get(PointLot, spend.lot_id).remaining += n
        usable -= n
    entry = _entry(session, stats, kind, points, f"order {redemption.ref}", ref, redemption.order_id, now)
    expire_member(session, stats, now)
    return entry


def release(session: Session, cfg: Config, order: Order, now: datetime | None = None) -> PointEntry | None:
    """An unpaid order was cancelled: its reserved points come back."""
    redemption = order_redemption(session, order.id)
    if redemption is None:
        return None
    return _give_back(session, cfg, redemption, -redemption.delta, "redeem_release", f"order:{order.id}",
                      now or utcnow())


def refund(session: Session, cfg: Config, order: Order, refund_id: int, amount: int,
           now: datetime | None = None, stats: MemberStats | None = None,
           ordered_levels: list[Level] | None = None) -> None:
    """Reverse earned points and return redeemed points in proportion to the refund.

    ``stats``/``ordered_levels`` as for ``credit``: the member's row already locked by the caller.
    """
    now = now or utcnow()
    if order.total <= 0:
        return
    ref = f"refund:{refund_id}"
    earned = _existing(session, order.member_id, "earn", f"order:{order.id}")
    if earned is not None:
        stats = _reverse(session, cfg, order, earned, ref, now, stats, ordered_levels)
    redemption = order_redemption(session, order.id)
    if redemption is not None:
        due = -redemption.delta * order.refunded_amount // order.total
        done = _sum(session, order.id, "redeem_return")
        _give_back(session, cfg, redemption, due - done, "redeem_return", ref, now, stats)


def _sum(session, order_id: int, kind: str) -> int:
    return int(session.scalar(select(func.coalesce(func.sum(PointEntry.delta), 0)).where(
        PointEntry.order_id == order_id, PointEntry.kind == kind)) or 0)


def _reverse(session, cfg: Config, order: Order, earned: PointEntry, ref: str, now: datetime,
             stats: MemberStats | None = None, ordered_levels: list[Level] | None = None) -> MemberStats:
    """Returns the member's locked row, for the rest of the refund."""
    stats = _locked(session, order.member_id, stats)
    if _existing(session, order.member_id, "earn_reversal", ref) is not None:
        return stats
    expire_member(session, stats, now)
    due = earned.delta * order.refunded_amount // order.total + _sum(session, order.id, "earn_reversal")
    if due <= 0:
        return stats
    lot_id = session.scalar(select(PointLot.id).where(PointLot.entry_id == earned.id))
    _take(session, stats, min(due, max(stats.points, 0)), first_lot_id=lot_id)
    _entry(session, stats, "earn_reversal", -due, f"refund of order {order.number}", ref, order.id, now)
    stats.points_earned -= due
    stats_mod.refresh_derived(stats, cfg, _levels(session, ordered_levels))
    return stats


def expire_due(kernel, session: Session, now: datetime | None = None) -> int:
    """Expire every member's due lots, one short transaction per member; returns points."""
    from siyu.plugin import write_transaction

    now = now or utcnow()
    member_ids = list(session.scalars(select(PointLot.member_id).where(
        PointLot.remaining > 0, PointLot.expires_at.is_not(None), PointLot.expires_at <= now).distinct()))
    session.rollback()
    total = 0
    for member_id in member_ids:
        with write_transaction(session):
            total += expire_member(session, stats_mod.lock(session, member_id), now)
    return total
