"""Which of a member's coupons fit a cart, what each saves, and why the others do not.

The order stage of the pricing engine applies one coupon per order: the one the checkout
form names in ``cart.inputs["coupon_id"]`` (``""`` for none), or, when the form did not say
(the cart page, the first view of checkout), the best one. A coupon the member chose that
does not apply stops the checkout with its reason.

A coupon is an adjustment of kind ``coupon``: it leaves out the lines whose price excludes
coupons (a group price that does not stack, ``PricedLine.accepts``), and a plugin's
exclusive order-stage offer can exclude it in turn.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from siyu.plugin import (
    Adjustment, format_money, lazy_gettext as _l, PricedCart, settings as core_settings, utcnow,
    ValidationError,
)
from siyu_coupons.models import Coupon, CouponTemplate, TemplateProduct
from siyu_coupons.rules import Rule, discount, shortfall

SOURCE = "coupons"
KIND = "coupon"
INPUT = "coupon_id"
NONE_VALUES = ("", "none", "0")


@dataclass
class Fit:
    """A coupon measured against a cart: ``saving`` when it applies, else ``reason``."""

    coupon: Coupon
    template: CouponTemplate
    saving: int = 0
    reason: str = ""
    eligible: int = 0

    @property
    def applies(self) -> bool:
        return not self.reason and self.saving > 0


def wallet(session: Session, member_id: int, statuses=("available",)) -> list[tuple[Coupon, CouponTemplate]]:
    rows = session.execute(
        select(Coupon, CouponTemplate).join(CouponTemplate, CouponTemplate.id == Coupon.template_id)
        .where(Coupon.member_id == member_id, Coupon.status.in_(statuses))
        .order_by(Coupon.valid_until.is_(None), Coupon.valid_until, Coupon.id)
        # Fresh rows even in a long-lived session: statuses change by conditional UPDATEs.
        .execution_options(populate_existing=True))
    return [(coupon, template) for coupon, template in rows]


def scopes(session: Session, template_ids: list[int]) -> dict[int, set[int]]:
    found: dict[int, set[int]] = {}
    if template_ids:
        rows = session.execute(select(TemplateProduct.template_id, TemplateProduct.product_id)
                               .where(TemplateProduct.template_id.in_(template_ids)))
        for template_id, product_id in rows:
            found.setdefault(template_id, set()).add(product_id)
    return found


def shop_zone(session: Session) -> ZoneInfo:
    try:
        return ZoneInfo(str(core_settings.get_all(session, "core").get("timezone") or "Asia/Shanghai"))
    except (ValueError, KeyError):
        return ZoneInfo("Asia/Shanghai")


def local_time(value: datetime, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def measure(coupon: Coupon, template: CouponTemplate, cart: PricedCart, scope: set[int],
            now: datetime, locale: str = "zh_CN", zone: ZoneInfo = ZoneInfo("UTC")) -> Fit:
    """How ``coupon`` fits ``cart`` (lines after member prices): saving or a clear reason."""
    fit = Fit(coupon, template)
    if coupon.status == "used":
        fit.reason = str(_l("Already used."))
    elif coupon.status == "reserved":
        fit.reason = str(_l("Held by an order awaiting payment."))
    elif coupon.valid_until is not None and coupon.valid_until <= now:
        fit.reason = str(_l("Expired on %(date)s.", date=local_time(coupon.valid_until, zone)))
    elif coupon.valid_from is not None and coupon.valid_from > now:
        fit.reason = str(_l("Valid from %(date)s.", date=local_time(coupon.valid_from, zone)))
    elif template.currency != cart.currency:
        fit.reason = str(_l("Not for prices in %(currency)s.", currency=cart.currency))
    if fit.reason:
        return fit
    lines = [ln for ln in cart.lines if template.scope == "all" or ln.product.id in scope]
    if not lines:
        fit.reason = str(_l("Does not apply to the products in your cart."))
        return fit
    lines = [ln for ln in lines if ln.accepts(KIND)]
    if not lines:
        fit.reason = str(_l("Cannot be combined with the special prices in your cart."))
        return fit
    if not template.with_member_price:
        lines = [ln for ln in lines if ln.total == ln.subtotal]
        if not lines:
            fit.reason = str(_l("Cannot be combined with member prices."))
            return fit
    fit.eligible = sum(ln.total for ln in lines)
    rule = Rule.of(template)
    missing = shortfall(rule, fit.eligible)
    if missing:
        fit.reason = str(_l("Spend %(amount)s more on eligible items to use it.",
                            amount=format_money(missing, cart.currency, locale)))
        return fit
    fit.saving = discount(rule, fit.eligible)
    if fit.saving <= 0:
        fit.reason = str(_l("Nothing in your cart to discount."))
    return fit


def fits(session: Session, member_id: int, cart: PricedCart, now: datetime | None = None,
         locale: str = "zh_CN") -> list[Fit]:
    """Every available coupon of the member measured against ``cart``, best first."""
    now = now or utcnow()
    held = wallet(session, member_id)
    scope = scopes(session, sorted({t.id for _c, t in held if t.scope == "products"}))
    zone = shop_zone(session)
    measured = [measure(c, t, cart, scope.get(t.id, set()), now, locale, zone) for c, t in held]
    return sorted(measured, key=lambda f: (not f.applies, -f.saving, _expiry_key(f.coupon), f.coupon.id))


def _expiry_key(coupon: Coupon) -> float:
    # Of two equal savings, suggest the one that expires first.
    return coupon.valid_until.timestamp() if coupon.valid_until else float("inf")


def best(found: list[Fit]) -> Fit | None:
    return found[0] if found and found[0].applies else None


def chosen_fit(session: Session, member_id: int, cart: PricedCart, raw: str, now: datetime) -> Fit:
    """The coupon the member picked, measured; refuses one that is not theirs or does not apply."""
    text = str(raw).strip()
    coupon = session.get(Coupon, int(text), populate_existing=True) if text.isdigit() and len(text) < 12 else None
    if coupon is None or coupon.member_id != member_id:
        raise ValidationError(_l("We could not find that coupon in your wallet."),
                              fields={INPUT: _l("Unknown coupon.")})
    template = session.get(CouponTemplate, coupon.template_id)
    scope = scopes(session, [template.id]).get(template.id, set())
    fit = measure(coupon, template, cart, scope, now, zone=shop_zone(session))
    if not fit.applies:
        raise ValidationError(_l("This coupon cannot be used: %(reason)s", reason=fit.reason),
                              fields={INPUT: fit.reason})
    return fit


def adjustments(session: Session, cart: PricedCart, member) -> list[Adjustment]:
    """The order stage: at most one coupon."""
    if member is None or cart.is_empty:
        return []
    raw = cart.inputs.get(INPUT)
    now = utcnow()
    if raw is None:
        fit = best(fits(session, member.id, cart, now))
    elif str(raw).strip().lower() in NONE_VALUES:
        fit = None
    else:
        fit = chosen_fit(session, member.id, cart, raw, now)
    if fit is None:
        return []
    return [Adjustment(code="coupon", label=fit.template.name, amount=-fit.saving, source=SOURCE, kind=KIND,
                       data={"coupon_id": fit.coupon.id, "template_id": fit.template.id})]
