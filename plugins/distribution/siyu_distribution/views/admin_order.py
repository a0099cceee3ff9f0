"""The distribution panel on the back-office order page: the distributor the order is
credited to (and the upline frozen at checkout) with each one's commission by bucket."""
from __future__ import annotations

from collections import defaultdict

from flask import render_template
from markupsafe import Markup
from sqlalchemy import func, select

from siyu_distribution.models import Distributor, LedgerEntry, OrderAttribution


def order_panel(order, session, staff) -> Markup | None:
    credited = session.get(OrderAttribution, order.id)
    if credited is None:
        return None
    # Releases and reversals are further entries on the same order: a sum per bucket is
    # where the commission stands now.
    sums = session.execute(
        select(LedgerEntry.distributor_id, LedgerEntry.tier, LedgerEntry.bucket, func.sum(LedgerEntry.amount))
        .where(LedgerEntry.order_id == order.id, LedgerEntry.tier > 0)
        .group_by(LedgerEntry.distributor_id, LedgerEntry.tier, LedgerEntry.bucket)).all()
    money: dict[tuple[int, int], list[tuple[str, int]]] = defaultdict(list)
    for distributor_id, tier, bucket, amount in sums:
        if amount:
            money[(distributor_id, tier)].append((bucket, int(amount)))
    tiers = [(tier, distributor_id) for tier, distributor_id in
             ((1, credited.distributor_id), (2, credited.tier2_id), (3, credited.tier3_id)) if distributor_id]
    people = {d.id: d for d in session.scalars(select(Distributor).where(
        Distributor.id.in_([d for _t, d in tiers])))}
    rows = [(tier, people.get(distributor_id), money.get((distributor_id, tier), [])) for tier, distributor_id in tiers]
    return Markup(render_template("distribution/admin/order_panel.html", credited=credited, rows=rows,
                                  currency=order.currency))
