"""Helpers shared by the storefront blueprints: money, slots, the cart cookie, form errors."""
from __future__ import annotations

from flask import Flask, flash, session
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup

from siyu.core.errors import NotFound, SiyuError
from siyu.core.models import Product
from siyu.core.pricing import MAX_QUANTITY
from siyu.core.reservations import release_overdue
from siyu.core.money import format_money
from siyu.core.plugins import call_isolated
from siyu.storefront.context import db, kernel, shop_settings

CART_KEY = "cart"
MAX_LINES = 50


def show_error(exc: SiyuError, form=None) -> None:
    """Flash a domain error and attach its field messages to the form's fields."""
    flash(str(exc.message), "error")
    if form is not None:
        for name, message in exc.fields.items():
            if name in form:
                form[name].errors = [str(message)]


def locale_code() -> str:
    return str(get_locale() or "zh_CN")


def money(amount: int, currency: str) -> str:
    return format_money(amount, currency, locale_code())


def slot(name: str, **context) -> Markup:
    """Render a storefront slot; a failing plugin is logged and skipped."""
    context.setdefault("locale", locale_code())
    parts = call_isolated(kernel().pm, "storefront_slot", slot=name, context=context)
    return Markup("").join(Markup(p) if isinstance(p, Markup) else Markup.escape(p) for p in parts)


def get_cart() -> dict[int, int]:
    raw = session.get(CART_KEY) or {}
    cart = {}
    for key, qty in raw.items():
        if str(key).isdigit() and isinstance(qty, int) and qty > 0:
            cart[int(key)] = qty
    return cart


def save_cart(cart: dict[int, int]) -> None:
    session[CART_KEY] = {str(k): int(v) for k, v in cart.items() if v > 0}


def add_to_cart(product_id: int, quantity: int) -> int:
    """Add ``quantity`` of an active product to the shopper's cart, within its stock and the
    cart's caps; return how many are in the cart now (0 when none is in stock)."""
    product = db().get(Product, product_id)
    if product is None or not product.active:
        raise NotFound(_("This product is not available."), fields={"product_id": "unknown"})
    cart = get_cart()
    if product.id not in cart and len(cart) >= MAX_LINES:
        raise SiyuError(_("Your cart is full."))
    wanted = min(cart.get(product.id, 0) + quantity, MAX_QUANTITY)
    if wanted > product.stock and release_overdue(kernel(), db(), product_ids=[product.id]):
        db().refresh(product)  # overdue unpaid orders gave their stock back
    wanted = max(min(wanted, product.stock), 0)
    if wanted:
        cart[product.id] = wanted
        save_cart(cart)
    return wanted


def cart_count() -> int:
    return sum(get_cart().values())


def status_label(status: str) -> str:
    labels = {
        "placed": _("Awaiting payment"),
        "paid": _("Paid"),
        "shipped": _("Shipped"),
        "completed": _("Completed"),
        "partially_refunded": _("Partially refunded"),
        "refunded": _("Refunded"),
        "cancelled": _("Cancelled"),
    }
    return labels.get(status, status)


def init_app(app: Flask) -> None:
    app.jinja_env.filters["money"] = money
    app.jinja_env.globals.update(slot=slot, cart_count=cart_count, shop=shop_settings,
                                 locale_code=locale_code, status_label=status_label)
