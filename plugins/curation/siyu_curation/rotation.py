"""Rotation advice: which listed items earn their seat, and which unlisted ones deserve one.

- *Sales velocity*: units sold per day over the last ``velocity_days`` days, from the lines
  of paid (or partly refunded) orders. Unlisted products still sell through product links
  shared in chats and by distributors, which is how an outsider can outsell a listed item.
- *Repurchase*: of the members who bought the item in the last year, the share who bought it
  in two or more orders — the number a private-domain shop lives on.
- *Score* = velocity × (1 + repurchase): an item people come back for is worth more than
  its raw units. An inactive product in a catalog scores below everything.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from siyu.plugin import Order, OrderLine, OrderStatus, Product
from siyu_curation import settings as plugin_settings
from siyu_curation.models import CurationCatalog, CurationItem

SOLD = (OrderStatus.PAID.value, OrderStatus.PARTIALLY_REFUNDED.value, OrderStatus.SHIPPED.value,
        OrderStatus.COMPLETED.value)
REPURCHASE_DAYS = 365
#: Candidates considered for a seat; the rest of a long tail never outsells a listed item.
CANDIDATES = 50


@dataclass
class Stat:
    units: int = 0
    velocity: float = 0.0
    buyers: int = 0
    repeat_buyers: int = 0

    @property
    def repurchase(self) -> float | None:
        return self.repeat_buyers / self.buyers if self.buyers else None

    @property
    def score(self) -> float:
        return self.velocity * (1 + (self.repurchase or 0.0))


@dataclass
class Row:
    product: Product
    stat: Stat

    @property
    def score(self) -> float:
        return self.stat.score if self.product.active else -1.0


@dataclass
class Advice:
    catalog: CurationCatalog
    cap: int
    days: int
    listed: list[Row]          # best first
    adds: list[Row]            # unlisted outsellers for free seats
    swaps: list[tuple[Row, Row]]  # (listed to take out, unlisted to put in)


def product_stats(session: Session, days: int, product_ids=None, now: datetime | None = None) -> dict[int, Stat]:
    """Velocity and repurchase per product, computed in SQL."""
    now = now or datetime.now(timezone.utc)
    since = now - timedelta(days=days)
    sold = (select(OrderLine.product_id, func.sum(OrderLine.quantity))
            .join(Order, Order.id == OrderLine.order_id)
            .where(Order.status.in_(SOLD), Order.paid_at >= since, OrderLine.product_id.is_not(None)))
    per_buyer = (select(OrderLine.product_id.label("pid"), func.count(func.distinct(Order.id)).label("n"))
                 .join(Order, Order.id == OrderLine.order_id)
                 .where(Order.status.in_(SOLD), Order.paid_at >= now - timedelta(days=REPURCHASE_DAYS),
                        OrderLine.product_id.is_not(None)))
    if product_ids is not None:
        sold = sold.where(OrderLine.product_id.in_(product_ids))
        per_buyer = per_buyer.where(OrderLine.product_id.in_(product_ids))
    stats: dict[int, Stat] = {}
    for pid, units in session.execute(sold.group_by(OrderLine.product_id)):
        stats[pid] = Stat(units=int(units or 0), velocity=int(units or 0) / days)
    per_buyer = per_buyer.group_by(OrderLine.product_id, Order.member_id).subquery()
    repeat = func.sum(case((per_buyer.c.n >= 2, 1), else_=0))
    rows = session.execute(select(per_buyer.c.pid, func.count(), func.coalesce(repeat, 0)).group_by(per_buyer.c.pid))
    for pid, buyers, repeaters in rows:
        stat = stats.setdefault(pid, Stat())
        stat.buyers, stat.repeat_buyers = int(buyers), int(repeaters)
    return stats


def _listed_products(session: Session, catalog: CurationCatalog) -> list[Product]:
    return list(session.scalars(select(Product).join(CurationItem, CurationItem.product_id == Product.id)
                                .where(CurationItem.catalog_id == catalog.id)
                                .order_by(CurationItem.position, CurationItem.id)))


def _ranked_listed(session: Session, catalog: CurationCatalog, days: int) -> list[Row]:
    products = _listed_products(session, catalog)
    stats = product_stats(session, days, [p.id for p in products]) if products else {}
    return sorted((Row(p, stats.get(p.id, Stat())) for p in products), key=lambda r: -r.score)


def _ranked_unlisted(session: Session, catalog: CurationCatalog, days: int) -> list[Row]:
    """Active unlisted products that sold in the window, best first."""
    listed = select(CurationItem.product_id).where(CurationItem.catalog_id == catalog.id)
    stats = product_stats(session, days)
    ids = [pid for pid, s in sorted(stats.items(), key=lambda kv: -kv[1].score) if s.units > 0]
    if not ids:
        return []
    products = session.scalars(select(Product).where(Product.id.in_(ids[:CANDIDATES * 4]),
                                                     Product.active.is_(True), Product.id.not_in(listed)))
    return sorted((Row(p, stats[p.id]) for p in products), key=lambda r: -r.score)[:CANDIDATES]


def weakest_listed(session: Session, catalog: CurationCatalog, n: int) -> list[Product]:
    """The ``n`` listed products with the lowest score: what to take out first."""
    if n <= 0:
        return []
    days = int(plugin_settings.load(session)["velocity_days"])
    return [row.product for row in reversed(_ranked_listed(session, catalog, days))][:n]


def best_unlisted(session: Session, catalog: CurationCatalog, n: int) -> list[Product]:
    """Up to ``n`` unlisted active products: best sellers first, then the shop's own order."""
    if n <= 0:
        return []
    days = int(plugin_settings.load(session)["velocity_days"])
    chosen = [row.product for row in _ranked_unlisted(session, catalog, days)][:n]
    if len(chosen) < n:
        listed = select(CurationItem.product_id).where(CurationItem.catalog_id == catalog.id)
        taken = [p.id for p in chosen]
        chosen += session.scalars(select(Product).where(
            Product.active.is_(True), Product.id.not_in(listed), Product.id.not_in(taken))
            .order_by(Product.position, Product.id).limit(n - len(chosen)))
    return chosen


def advise(session: Session, catalog: CurationCatalog) -> Advice:
    from siyu_curation.service import effective_cap

    values = plugin_settings.load(session)
    days, wanted = int(values["velocity_days"]), int(values["suggestions"])
    cap = effective_cap(session, catalog)
    listed = _ranked_listed(session, catalog, days)
    outsiders = _ranked_unlisted(session, catalog, days)
    free = max(0, cap - len(listed))
    adds, outsiders = outsiders[:min(free, wanted)], outsiders[min(free, wanted):]
    swaps = []
    for weak, strong in zip(reversed(listed), outsiders):
        if len(adds) + len(swaps) >= wanted or strong.score <= weak.score:
            break
        swaps.append((weak, strong))
    return Advice(catalog, cap, days, listed, adds, swaps)
