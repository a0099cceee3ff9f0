"""Storefront slots: the coupon choice at checkout, the wallet link."""
from __future__ import annotations

from flask import render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from siyu.plugin.web import db
from siyu_coupons import pricing, wallet


def render_slot(slot: str, context) -> Markup | None:
    if not current_user.is_authenticated:
        return None
    if slot == "checkout_form":
        return checkout_choice(context.get("cart"), current_user, context.get("locale") or "zh_CN")
    if slot == "account_panel":
        available = wallet.counts(db(), current_user.id)["available"]
        return Markup('<p class="coupons-link"><a href="{}">{}</a></p>').format(
            url_for("coupons.wallet_page"), _("My coupons (%(n)d available)", n=available))
    return None


def checkout_choice(cart, member, locale: str) -> Markup | None:
    """A select of the coupons that apply, the best first and chosen unless the cart says
    otherwise, and why the others do not apply."""
    if cart is None or cart.is_empty:
        return None
    found = pricing.fits(db(), member.id, cart, locale=locale)
    if not found:
        return None
    applied = next((a for a in cart.adjustments if a.source == pricing.SOURCE), None)
    selected = int(applied.data["coupon_id"]) if applied is not None else None
    usable = [f for f in found if f.applies]
    return Markup(render_template("coupons/checkout_choice.html", usable=usable,
                                  unusable=[f for f in found if not f.applies], selected=selected,
                                  field=pricing.INPUT, currency=cart.currency))
