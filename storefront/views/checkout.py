"""Checkout, the card payment page and the live order status."""
from __future__ import annotations

import logging
import secrets

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from wtforms import HiddenField, RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from siyu.core.db import write_transaction
from siyu.core.errors import InvalidTransition, PaymentError, SiyuError, ValidationError
from siyu.core.models import OrderStatus, Payment, PaymentStatus
from siyu.core.orders import cancel_order, order_for_member, place_order, settle_free_order
from siyu.core.payments.gateway import ClientEnvironment
from siyu.core.payments.reconcile import reconcile_payment
from siyu.core.payments.steps import confirm_payment
from siyu.storefront.context import db, kernel, shop_settings
from siyu.storefront.extensions import configured_limit, limiter, member_or_address
from siyu.storefront.views.cart import browser_state, priced_cart
from siyu.storefront.views.delivery_form import delivery_context, delivery_inputs
from siyu.storefront.views.helpers import get_cart, locale_code, save_cart
from siyu.storefront.visitor import request_attribution, visitor_id

bp = Blueprint("checkout", __name__)


class CheckoutForm(FlaskForm):
    payment_method = RadioField(validators=[InputRequired()])
    checkout_token = HiddenField(validators=[InputRequired()])


def client_environment() -> ClientEnvironment:
    """Where the shopper pays from (desktop, a phone's browser, WeChat's browser)."""
    return ClientEnvironment.from_user_agent(request.headers.get("User-Agent"))


def _form() -> CheckoutForm:
    """The gateways that take the shop's currency from this shopper's browser or app."""
    form = CheckoutForm()
    gateways = kernel().available_providers(shop_settings()["currency"], client_environment())
    form.payment_method.choices = [SelectChoice(p.name, str(p.label)) for p in gateways]
    if not form.payment_method.data and form.payment_method.choices:
        form.payment_method.data = form.payment_method.choices[0].value
    if not form.checkout_token.data:
        form.checkout_token.data = secrets.token_urlsafe(24)
    return form


def _plugin_inputs() -> dict[str, str]:
    """Fields that plugins added to the checkout form through the ``checkout_form`` slot,
    and the delivery choice (always made: see ``delivery_form.delivery_inputs``)."""
    inputs = {k: v for k, v in request.form.items()
              if k not in ("csrf_token", "payment_method", "checkout_token")}
    return {**inputs, **delivery_inputs(request.form, get_cart())}


@bp.route("/checkout", methods=["GET", "POST"])
@limiter.limit(configured_limit("CHECKOUT_RATE_LIMIT"), methods=["POST"], key_func=member_or_address)
@login_required
def checkout():
    if not get_cart():
        flash(_("Your cart is empty."), "warning")
        return redirect(url_for("cart.show"))
    form = _form()
    if request.method == "POST":
        if not form.validate():
            raise ValidationError(_("Please choose a payment method."),
                                  fields={k: "; ".join(v) for k, v in form.errors.items()})
        order = place_order(
            kernel(), db(), member=current_user, items=get_cart(),
            payment_method=form.payment_method.data, checkout_token=form.checkout_token.data,
            inputs=_plugin_inputs(), locale=locale_code(), visitor_id=visitor_id(), browser=browser_state(),
            attribution=request_attribution(),
        )
        if order.total == 0 and order.status == OrderStatus.PLACED.value:
            settle_free_order(kernel(), db(), order)
            save_cart({})
            return redirect(url_for("account.order", number=order.number))
        _start_payment(order)
        if kernel().payment_providers[order.payment_method].supports.pays_later:
            save_cart({})
            return redirect(url_for("account.order", number=order.number))
        return redirect(url_for("checkout.pay", number=order.number))
    inputs = delivery_inputs(request.args, get_cart())  # a changed choice is shown with its fee
    cart = priced_cart(inputs, where="checkout")
    if not form.payment_method.choices:
        flash(_("This shop cannot take payments right now."), "warning")
    return render_template("checkout/checkout.html", cart=cart, form=form, delivery=delivery_context(cart, inputs))


def _start_payment(order) -> Payment | None:
    """Create the provider's payment once; a failure leaves the order placed, retry on pay."""
    session = db()
    payment = session.scalar(select(Payment).where(Payment.order_id == order.id,
                                                   Payment.status == PaymentStatus.PENDING.value))
    if payment is not None or order.status != OrderStatus.PLACED.value:
        return payment
    provider = kernel().provider(order.payment_method)
    try:
        with write_transaction(session):
            payment = provider.start(kernel(), session, order, client_environment())
    except (SiyuError, OperationalError):
        raise  # a database error is answered as one (503), not blamed on the provider
    except Exception as exc:  # provider unreachable: the order keeps its reservation
        logging.getLogger("siyu.payments").exception(
            "starting the payment of order %s failed", order.number,
            extra={"order_number": order.number, "payment_reference": "-", "payment_alarm": "-"})
        raise PaymentError(_("The payment service did not answer. Please try again.")) from exc
    return payment


def _gateway_to_pay(order):
    """The order's gateway when the shopper pays it online now, else ``None``."""
    gateway = kernel().provider(order.payment_method)
    if order.status != OrderStatus.PLACED.value or gateway is None or gateway.supports.pays_later:
        return None
    return gateway


@bp.get("/orders/<number>/pay")
@login_required
def pay(number: str):
    """The pay page: the gateway says how (a card widget, a QR code, an in-app bridge, a redirect)."""
    order = order_for_member(db(), number, current_user)
    gateway = _gateway_to_pay(order)
    if gateway is None:
        return redirect(url_for("account.order", number=order.number))
    payment = _start_payment(order)
    action = gateway.pay_action(kernel(), payment, client_environment()) if payment is not None else None
    if action is not None and action.kind == "redirect" and action.url:
        return redirect(action.url)
    return render_template("checkout/pay.html", order=order, payment=payment, action=action, form=FlaskForm())


@bp.post("/orders/<number>/pay")
@login_required
def confirm(number: str):
    """The pay page's script posts what the gateway's widget collected here (JSON, CSRF header)."""
    order = order_for_member(db(), number, current_user)
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationError(_("The payment details could not be read. Please try again."),
                              fields={"payment": "invalid"})
    if _gateway_to_pay(order) is None:
        raise InvalidTransition(_("This order cannot be paid any more."), fields={"order": order.status})
    _start_payment(order)
    # Under the order's payment step: a concurrent cancel runs before or after, never across.
    result = dict(confirm_payment(kernel(), db(), order, data))
    result["return_url"] = url_for("checkout.payment_return", number=order.number)
    return jsonify(result), (402 if result.get("status") == "failed" else 200)


@bp.get("/orders/<number>/return")
@login_required
def payment_return(number: str):
    order = order_for_member(db(), number, current_user)
    if order.status == OrderStatus.PLACED.value:
        # Back from the provider before its notification: ask it once where the payment stands.
        payment = db().scalar(select(Payment).where(Payment.order_id == order.id,
                                                    Payment.status == PaymentStatus.PENDING.value)
                              .order_by(Payment.id.desc()))
        if payment is not None and reconcile_payment(kernel(), db(), payment) is not None:
            db().refresh(order)
    if order.is_paid:
        save_cart({})
    return render_template("checkout/return.html", order=order)


@bp.get("/orders/<number>/status.json")
@login_required
def status(number: str):
    order = order_for_member(db(), number, current_user)
    if order.is_paid:
        save_cart({})
    payment = db().scalar(select(Payment).where(Payment.order_id == order.id)
                          .order_by(Payment.id.desc()))
    return jsonify(number=order.number, status=order.status, paid=order.is_paid,
                   payment_error=payment.last_error if payment else None)


@bp.post("/orders/<number>/cancel")
@login_required
def cancel(number: str):
    if not FlaskForm().validate():
        raise SiyuError(_("This form has expired. Please try again."))
    order = order_for_member(db(), number, current_user)
    cancel_order(kernel(), db(), order, "customer")
    flash(_("Your order was cancelled."), "success")
    return redirect(url_for("account.order", number=order.number))
