"""What a member gets at checkout: the level's member price, exclusive items, points.

Prices are computed here for the pricing engine; the points are reserved when the order is
placed (``points.redeem``), inside the checkout transaction.

The member price is an exclusive adjustment of kind ``member_price``: another plugin's price
for the line (a group price, a flash sale) that is exclusive too competes with it and the
lower one applies, and one that ``excludes`` it replaces it. Points are of kind ``points``.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from siyu.plugin import (
    Adjustment, exponent, lazy_gettext as _l, Member, percent_of, PricedCart, ValidationError,
)

from siyu_crm_tags import points
from siyu_crm_tags.config import Config
from siyu_crm_tags.models import Level, MemberStats

SOURCE = "crm_tags"
INPUT = "crm_points"


def member_level(session: Session, member_id: int) -> Level | None:
    level_id = session.scalar(select(MemberStats.level_id).where(MemberStats.member_id == member_id))
    return session.get(Level, level_id) if level_id else None


def member_price(session: Session, cart: PricedCart, member: Member | None) -> list[Adjustment]:
    level = member_level(session, member.id) if member is not None else None
    if level is None or not 0 < level.price_percent < 100:
        return []
    found = []
    for line in cart.lines:
        discount = line.total - percent_of(line.total, level.price_percent * 100)
        if discount > 0:
            found.append(Adjustment(code="member_price", label=_l("Member price (%(level)s)", level=level.name),
                                    amount=-discount, source=SOURCE, sku=line.sku, kind="member_price",
                                    exclusive=True, data={"level_id": level.id, "percent": level.price_percent}))
    return found


def point_value(cfg: Config, n: int, currency: str) -> int:
    """Minor units ``n`` points are worth (rounded down)."""
    return n * 10 ** exponent(currency) // cfg.redeem_points_per_unit


def points_for_value(cfg: Config, value: int, currency: str) -> int:
    """The fewest points worth ``value`` minor units."""
    unit = 10 ** exponent(currency)
    return -(-value * cfg.redeem_points_per_unit // unit)


def redeemable(session: Session, cfg: Config, cart: PricedCart, member_id: int) -> tuple[int, int]:
    """(points, value): the most points this cart may take, within the balance and the cap."""
    cap = cart.total * cfg.redeem_max_percent // 100
    balance = points.available(session, member_id)
    value = min(cap, point_value(cfg, balance, cart.currency))
    if value <= 0:
        return 0, 0
    return points_for_value(cfg, value, cart.currency), value


def requested_points(raw: str | None) -> int | None:
    text = str(raw or "").strip()
    if not text:
        return None
    if text == "max":
        return -1
    if not text.isdigit() or len(text) > 9:
        raise ValidationError(_l("Enter the points to use as a whole number."),
                              fields={INPUT: _l("a whole number")})
    return int(text)


def redemption(session: Session, cfg: Config, cart: PricedCart, member: Member | None) -> list[Adjustment]:
    wanted = requested_points(cart.inputs.get(INPUT))
    if member is None or not wanted:
        return []
    most, most_value = redeemable(session, cfg, cart, member.id)
    if wanted == -1:
        wanted = most
    if wanted > most:
        raise ValidationError(_l("You can use at most %(n)d points on this order.", n=most),
                              fields={INPUT: _l("at most %(n)d", n=most)})
    value = min(most_value, point_value(cfg, wanted, cart.currency))
    if value <= 0:
        return []
    used = points_for_value(cfg, value, cart.currency)  # never pay points for a fraction of a fen
    return [Adjustment(code="points", label=_l("Points (%(n)d)", n=used), amount=-value, source=SOURCE,
                       kind="points", data={"points": used})]


def reserve_for_order(session: Session, cfg: Config, order, cart: PricedCart) -> None:
    """In the checkout transaction: check exclusive items, then reserve the points used."""
    check_exclusive(session, order.member_id, [line.sku for line in cart.lines])
    for adj in cart.adjustments:
        if adj.source == SOURCE and adj.code == "points":
            used = points_for_value(cfg, -adj.amount, cart.currency)  # after any clamping
            points.redeem(session, cfg, order, min(used, int(adj.data.get("points", used))))


def check_exclusive(session: Session, member_id: int, skus: list[str]) -> None:
    ordered = list(session.scalars(select(Level).order_by(Level.threshold)))
    if not any(level.exclusive_skus for level in ordered):
        return
    mine = member_level(session, member_id)
    allowed_rank = next((i for i, level in enumerate(ordered) if mine and level.id == mine.id), -1)
    for rank, level in enumerate(ordered):
        blocked = set(level.exclusive_skus or ()) & set(skus)
        if blocked and rank > allowed_rank:
            raise ValidationError(_l("%(sku)s is for %(level)s members and above.", sku=sorted(blocked)[0],
                                     level=level.name), fields={"cart": _l("members-only item")})


def exclusive_level(session: Session, sku: str) -> Level | None:
    for level in session.scalars(select(Level).order_by(Level.threshold)):
        if sku in (level.exclusive_skus or ()):
            return level
    return None
