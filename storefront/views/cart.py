"""The cart: held in the signed session cookie as ids and quantities, priced on the server."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange

from siyu.core.errors import NotFound, SiyuError
from siyu.core.orders import quote
from siyu.core.pricing import MAX_QUANTITY
from siyu.core.validation import MAX_ID
from siyu.storefront.context import db, kernel
from siyu.storefront.views.helpers import add_to_cart, get_cart, save_cart

bp = Blueprint("cart", __name__, url_prefix="/cart")


class AddForm(FlaskForm):
    product_id = IntegerField(validators=[InputRequired(), NumberRange(1, MAX_ID)])
    quantity = IntegerField(default=1, validators=[InputRequired(), NumberRange(1, MAX_QUANTITY)])


def current_member():
    return current_user if current_user.is_authenticated else None


def browser_state() -> dict:
    """What the shopper's browser session holds, for plugins' ``pricing_inputs`` (say, the
    group buy they joined): the core stays web-free and is handed plain values. The sign-in's
    and the CSRF token's own keys are left out: no plugin prices with them."""
    return {key: value for key, value in session.items() if not key.startswith("_") and key != "csrf_token"}


def priced_cart(inputs=None, where="cart"):
    """The session cart priced now, as the order will be (``where``: ``cart`` or ``checkout``);
    lines whose product went away are dropped with a note."""
    cart = get_cart()
    try:
        return quote(kernel(), db(), current_member(), cart, inputs, where=where, browser=browser_state())
    except NotFound as exc:
        for key in exc.fields:
            cart.pop(int(key), None)
        save_cart(cart)
        flash(_("Some products are no longer available and were removed from your cart."), "warning")
        return quote(kernel(), db(), current_member(), cart, inputs, where=where, browser=browser_state())


@bp.get("/")
def show():
    return render_template("cart/cart.html", cart=priced_cart(), form=FlaskForm())


@bp.post("/add")
def add():
    form = AddForm()
    if not form.validate():
        raise SiyuError(_("Choose a quantity between 1 and %(max)d.", max=MAX_QUANTITY),
                        fields={k: "; ".join(v) for k, v in form.errors.items()})
    wanted = min(get_cart().get(form.product_id.data, 0) + form.quantity.data, MAX_QUANTITY)
    quantity = add_to_cart(form.product_id.data, form.quantity.data)
    if quantity < wanted:
        flash(_("Only %(n)d left in stock.", n=quantity), "warning")
    if quantity <= 0:
        return redirect(url_for("catalog.product", product_id=form.product_id.data))
    flash(_("Added to your cart."), "success")
    return redirect(url_for("cart.show"))


@bp.post("/update")
def update():
    form = FlaskForm()
    if not form.validate():
        raise SiyuError(_("This form has expired. Please try again."))
    cart = get_cart()
    errors = {}
    for key in list(cart):
        raw = request.form.get(f"qty-{key}")
        if raw is None:
            continue
        try:
            qty = int(raw)
        except ValueError:
            errors[f"qty-{key}"] = _("Enter a whole number.")
            continue
        if not 0 <= qty <= MAX_QUANTITY:
            errors[f"qty-{key}"] = _("Choose a quantity between 0 and %(max)d.", max=MAX_QUANTITY)
            continue
        if qty == 0:
            cart.pop(key)
        else:
            cart[key] = qty
    if errors:
        raise SiyuError(_("Some quantities are not valid."), fields=errors)
    save_cart(cart)
    flash(_("Your cart was updated."), "success")
    return redirect(url_for("cart.show"))
