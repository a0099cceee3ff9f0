"""Back office: orders — list and detail (agents); mark paid, cancel, refund (owners).

The refund form carries an idempotency key generated when the form is rendered: a double
submit, or a retry after a timeout, reuses it, so the customer is refunded once.
"""
from __future__ import annotations

import secrets
from datetime import datetime, time, timedelta, timezone
from decimal import InvalidOperation

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import select
from wtforms import HiddenField, StringField
from wtforms.validators import InputRequired, Length

from siyu.core.errors import PaymentError, SiyuError
from siyu.core.models import Member, Order, OrderStatus, Payment, Refund
from siyu.core.money import parse_major
from siyu.core.orders import cancel_order, confirm_manual_payment
from siyu.core.plugins import call_isolated
from siyu.core.refunds import refund_order
from siyu.storefront.admin import current_staff, staff_required
from siyu.storefront.admin.common import get_or_404, paginate, require_csrf, show_error
from siyu.storefront.context import db, kernel

bp = Blueprint("admin_orders", __name__, url_prefix="/admin/orders")
TITLE = _l("Orders")
STATUSES = tuple(s.value for s in OrderStatus)


class RefundForm(FlaskForm):
    amount = StringField(_l("Amount to refund"), validators=[InputRequired(), Length(max=20)])
    reason = StringField(_l("Reason (optional)"), validators=[Length(max=200)])
    idempotency_key = HiddenField(validators=[InputRequired(), Length(min=8, max=128)])


def _day(text: str | None, end: bool = False) -> datetime | None:
    try:
        day = datetime.strptime(text or "", "%Y-%m-%d").date()
    except ValueError:
        return None
    moment = datetime.combine(day, time.min, tzinfo=timezone.utc)
    return moment + timedelta(days=1) if end else moment


@bp.get("")
@staff_required("agent")
def index():
    query = select(Order)
    status = request.args.get("status")
    if status in STATUSES:
        query = query.where(Order.status == status)
    q = (request.args.get("q") or "").strip()[:254]
    if q:
        members = select(Member.id).where(Member.email.ilike(f"%{q}%"))
        query = query.where((Order.number == q.upper()) | Order.member_id.in_(members))
    start, end = _day(request.args.get("from")), _day(request.args.get("to"), end=True)
    if start:
        query = query.where(Order.placed_at >= start)
    if end:
        query = query.where(Order.placed_at < end)
    result = paginate(query.order_by(Order.placed_at.desc(), Order.id.desc()))
    emails = dict(db().execute(select(Member.id, Member.email).where(
        Member.id.in_({o.member_id for o in result.items}))).all()) if result.items else {}
    return render_template("admin/orders/index.html", result=result, statuses=STATUSES, status=status,
                           q=q, emails=emails, date_from=request.args.get("from", ""),
                           date_to=request.args.get("to", ""))


def _render_detail(order: Order, form: RefundForm | None = None, status: int = 200):
    if form is None:
        form = RefundForm(formdata=None, idempotency_key=f"admin-{secrets.token_urlsafe(18)}")
    payments = db().scalars(select(Payment).where(Payment.order_id == order.id).order_by(Payment.id)).all()
    refunds = db().scalars(select(Refund).where(Refund.order_id == order.id).order_by(Refund.id)).all()
    manual_pending = order.status == OrderStatus.PLACED.value and any(
        p.provider == "manual" and p.status == "pending" for p in payments)
    # Plugins say where the order came from (channel, distributor) and what it earned.
    panels = call_isolated(kernel().pm, "admin_order_panel", order=order, session=db(), staff=current_staff())
    panels = [p if isinstance(p, Markup) else Markup.escape(p) for p in panels]
    return render_template("admin/orders/detail.html", order=order, member=db().get(Member, order.member_id),
                           payments=payments, refunds=refunds, refund_form=form, panels=panels,
                           manual_pending=manual_pending, action_form=FlaskForm()), status


@bp.get("/<int:order_id>")
@staff_required("agent")
def detail(order_id: int):
    return _render_detail(get_or_404(Order, order_id))


@bp.post("/<int:order_id>/mark-paid")
@staff_required("owner")
def mark_paid(order_id: int):
    require_csrf()
    order = get_or_404(Order, order_id)
    try:
        confirm_manual_payment(kernel(), db(), order)
    except SiyuError as exc:
        show_error(exc)
    else:
        flash(_("Payment confirmed; the order is paid."), "success")
    return redirect(url_for("admin_orders.detail", order_id=order.id))


@bp.post("/<int:order_id>/cancel")
@staff_required("owner")
def cancel(order_id: int):
    require_csrf()
    order = get_or_404(Order, order_id)
    try:
        cancel_order(kernel(), db(), order, "staff")
    except SiyuError as exc:
        show_error(exc)
    else:
        flash(_("Order cancelled; its stock is back on sale."), "success")
    return redirect(url_for("admin_orders.detail", order_id=order.id))


@bp.post("/<int:order_id>/refund")
@staff_required("owner")
def refund(order_id: int):
    order = get_or_404(Order, order_id)
    form = RefundForm()
    if not form.validate():
        flash(_("Please correct the highlighted fields."), "error")
        return _render_detail(order, form, 422)
    try:
        amount = parse_major(form.amount.data, order.currency)
    except (InvalidOperation, ValueError):
        form.amount.errors = [_("Enter an amount such as 12.50.")]
        return _render_detail(order, form, 422)
    try:
        done = refund_order(kernel(), db(), order, amount, form.idempotency_key.data,
                            reason=form.reason.data or "", staff_id=current_staff().id)
    except PaymentError as exc:
        # Keep the same key in the form: retrying continues this refund, never a second one.
        show_error(exc, form)
        return _render_detail(order, form, 502)
    except SiyuError as exc:
        show_error(exc, form)
        return _render_detail(order, form, exc.status)
    flash(_("Refunded %(amount)s.", amount=_money(done.amount, done.currency)), "success")
    return redirect(url_for("admin_orders.detail", order_id=order.id))


def _money(amount: int, currency: str) -> str:
    from siyu.storefront.views.helpers import money

    return money(amount, currency)
