"""Commission on the ledger: accrue when paid, release once the return window after the order's
completion has passed, reverse on refunds.

Each function runs inside the caller's transaction (the payment's, the refund's) or its
own (the release job), and costs a constant number of queries per tier: the upline was
frozen on the order when it was placed, so nothing walks the team tree here.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from siyu.plugin import (
    AfterSale, OPEN_AFTER_SALE_STATES, Order, OrderAdjustment, OrderLine, Refund, utcnow,
    write_transaction,
)

from siyu_distribution import config, ledger
from siyu_distribution.commission import Line, net_lines, reversal_target, tier_commissions
from siyu_distribution.models import (
    Bucket, Distributor, Kind, LedgerEntry, OrderAttribution, ProductRate, Status,
)


def earning_chain(chain: list[int | None], known: dict[int, Distributor], buyer_member_id: int,
                  self_purchase: bool) -> list[int | None]:
    """The distributor who earns at each tier of ``chain`` (``None``: that tier earns nothing).

    - Nobody earns twice on one order: a distributor met again higher up (a cycle in the
      recruiter tree, or a frozen upline that names someone twice) earns at the nearest tier only.
    - Self-purchase off: the buyer earns at no tier, wherever he sits in the chain (buying
      through a recruit's link is still his own purchase). Self-purchase on: he earns at the
      tier where he sits, once.
    - A tier that earns nothing is not passed on to anyone.
    """
    earning: list[int | None] = []
    for distributor_id in chain:
        distributor = known.get(distributor_id) if distributor_id is not None else None
        if distributor is None or distributor_id in earning or \
                (not self_purchase and distributor.member_id == buyer_member_id):
            earning.append(None)
        else:
            earning.append(distributor_id)
    return earning


def accrue(session: Session, order: Order, settings: config.Settings) -> list[LedgerEntry]:
    """Write the pending commission of a paid order, one entry per earning tier."""
    attribution = session.get(OrderAttribution, order.id)
    if attribution is None or (attribution.self_purchase and not settings.self_purchase):
        return []  # bought through his own link: nobody earns on it
    frozen = [attribution.distributor_id, attribution.tier2_id, attribution.tier3_id][:settings.depth]
    known = {d.id: d for d in session.scalars(
        select(Distributor).where(Distributor.id.in_([d for d in frozen if d is not None])))}
    chain = earning_chain(frozen, known, order.member_id, settings.self_purchase)
    lines = [Line(pid, total) for pid, total in session.execute(
        select(OrderLine.product_id, OrderLine.total).where(OrderLine.order_id == order.id)
        .order_by(OrderLine.id))]
    adjustments = list(session.execute(select(OrderAdjustment.stage, OrderAdjustment.amount)
                                       .where(OrderAdjustment.order_id == order.id)))
    product_ids = [line.product_id for line in lines if line.product_id is not None]
    overrides = {r.product_id: (r.tier1_bps, r.tier2_bps, r.tier3_bps) for r in session.scalars(
        select(ProductRate).where(ProductRate.product_id.in_(product_ids)))} if product_ids else {}
    nets = net_lines(lines, [tuple(a) for a in adjustments], order.total)
    # Rates follow the frozen chain, so a tier that earns nothing changes no other tier's share.
    levels = [known[d].level if d in known else 1 for d in frozen]
    earned = tier_commissions(nets, lines, [settings.rates_for_level(level) for level in levels], overrides)
    base, entries = sum(nets), []
    for tier, (distributor_id, amount) in enumerate(zip(chain, earned), start=1):
        distributor = known.get(distributor_id) if distributor_id is not None else None
        if amount <= 0 or distributor is None or distributor.status != Status.APPROVED.value:
            continue  # a suspended recruiter's share is not passed on to anyone
        entries.append(ledger.entry(
            session, key=f"accrual:o{order.id}:d{distributor_id}:t{tier}", distributor_id=distributor_id,
            kind=Kind.ACCRUAL.value, bucket=Bucket.PENDING.value, amount=amount, currency=order.currency,
            tier=tier, order_id=order.id, base=base, note=order.number))
    session.flush()
    return entries


def reverse(session: Session, order: Order, refund: Refund) -> list[LedgerEntry]:
    """Reverse the refunded share of each tier's commission (inside the refund's transaction).

    Still pending: the pending entry shrinks. Already released (payable or even paid out):
    the entry is a negative payable amount, netted against the next payout.
    """
    accrued = {(d, t): a for d, t, a in session.execute(
        select(LedgerEntry.distributor_id, LedgerEntry.tier, LedgerEntry.amount)
        .where(LedgerEntry.order_id == order.id, LedgerEntry.kind == Kind.ACCRUAL.value))}
    if not accrued:
        return []
    reversed_, released = defaultdict(int), set()
    for d, t, kind, total in session.execute(
            select(LedgerEntry.distributor_id, LedgerEntry.tier, LedgerEntry.kind, func.sum(LedgerEntry.amount))
            .where(LedgerEntry.order_id == order.id,
                   LedgerEntry.kind.in_((Kind.REVERSAL.value, Kind.RELEASE.value)))
            .group_by(LedgerEntry.distributor_id, LedgerEntry.tier, LedgerEntry.kind)):
        if kind == Kind.REVERSAL.value:
            reversed_[(d, t)] -= int(total)
        else:
            released.add((d, t))
    entries = []
    for (d, t), amount in sorted(accrued.items()):
        due = reversal_target(amount, order.refunded_amount, order.total) - reversed_[(d, t)]
        if due <= 0:
            continue
        bucket = Bucket.PAYABLE.value if (d, t) in released else Bucket.PENDING.value
        entries.append(ledger.entry(
            session, key=f"reversal:r{refund.id}:d{d}:t{t}", distributor_id=d, kind=Kind.REVERSAL.value,
            bucket=bucket, amount=-due, currency=order.currency, tier=t, order_id=order.id,
            refund_id=refund.id, note=order.number))
    session.flush()
    return entries


def _releasable(cutoff: datetime):
    """The order was completed (received, or completed automatically) at least the return
    window ago, and no after-sales request on it is still open: the goods may still come back."""
    open_request = exists().where(AfterSale.order_id == Order.id, AfterSale.state.in_(OPEN_AFTER_SALE_STATES))
    return and_(Order.completed_at.is_not(None), Order.completed_at <= cutoff, ~open_request)


def release_due(session: Session, settings: config.Settings, now: datetime | None = None,
                limit: int = 1000) -> int:
    """Move pending commission to payable once the return window, counted from the order's
    completion, has passed; returns entries moved. An order not completed yet (not shipped,
    not received) or with an after-sales request still open keeps its commission pending.

    The core stamps ``orders.completed_at`` in the transaction that runs
    ``on_order_completed``, so that is what is read: an order completed while the plugin
    was disabled counts the same. One short transaction per order, holding the order's row
    lock, so a refund or an after-sales request on the same order (which lock it too) sees
    either the pending or the released commission, never both.
    """
    now = now or utcnow()
    cutoff = now - settings.return_window
    due_orders = list(session.scalars(
        select(LedgerEntry.order_id).join(Order, Order.id == LedgerEntry.order_id)
        .where(LedgerEntry.bucket == Bucket.PENDING.value, _releasable(cutoff))
        .group_by(LedgerEntry.order_id)
        .having(func.sum(LedgerEntry.amount) > 0)
        .order_by(LedgerEntry.order_id).limit(limit)))
    session.rollback()
    moved = 0
    for order_id in due_orders:
        with write_transaction(session):
            order = session.scalar(select(Order).where(Order.id == order_id, _releasable(cutoff)).with_for_update())
            if order is None:
                continue  # a request was opened since the list was read
            for d, t, currency, pending in session.execute(
                    select(LedgerEntry.distributor_id, LedgerEntry.tier, LedgerEntry.currency,
                           func.sum(LedgerEntry.amount))
                    .where(LedgerEntry.order_id == order_id, LedgerEntry.bucket == Bucket.PENDING.value)
                    .group_by(LedgerEntry.distributor_id, LedgerEntry.tier, LedgerEntry.currency)):
                if int(pending) <= 0:
                    continue
                ledger.move(session, f"release:o{order_id}:d{d}:t{t}", Bucket.PENDING.value,
                            Bucket.PAYABLE.value, int(pending), distributor_id=d, kind=Kind.RELEASE.value,
                            currency=currency, tier=t, order_id=order_id, note=order.number if order else "",
                            at=now)
                moved += 1
    return moved
