"""Back office: orders — list and detail (agents); mark paid, cancel, refund (owners).

The refund form carries an idempotency key generated when the form is rendered: a double
submit, or a retry after a timeout, reuses it, so the customer is refunded once.

Payment alarms (money taken for a cancelled order, an intent the webhook could not read) are
flagged on the order's row and page, and listed open on top of the orders page with the
automatic refund's outcome; an owner retries a failed automatic refund and closes an alarm.
"""
from __future__ import annotations

import secrets
from datetime import datetime, time, timedelta, timezone
from decimal import InvalidOperation

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import select
from wtforms import HiddenField, StringField
from wtforms.validators import InputRequired, Length

from siyu.core.cancel_reasons import cancel_reason_label
from siyu.core.errors import PaymentError, SiyuError
from siyu.core.models import Member, Order, OrderStatus, Payment, PaymentAlarm, Refund
from siyu.core.money import parse_major
from siyu.core.orders import cancel_order, confirm_manual_payment, staff_confirmed
from siyu.core.payments import alarms
from siyu.core.plugins import call_isolated
from siyu.core.refunds import refund_order, send_auto_refund
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
    if request.args.get("alarm") == "open":
        query = query.where(Order.id.in_(select(PaymentAlarm.order_id).where(PaymentAlarm.resolved_at.is_(None))))
    result = paginate(query.order_by(Order.placed_at.desc(), Order.id.desc()))
    emails = dict(db().execute(select(Member.id, Member.email).where(
        Member.id.in_({o.member_id for o in result.items}))).all()) if result.items else {}
    return render_template("admin/orders/index.html", result=result, statuses=STATUSES, status=status,
                           q=q, emails=emails, date_from=request.args.get("from", ""),
                           date_to=request.args.get("to", ""), open_alarms=alarm_rows(alarms.open_alarms(db())),
                           flagged=alarms.orders_with_open_alarms(db(), (o.id for o in result.items)),
                           alarm_filter=request.args.get("alarm") == "open")


ALARM_LABELS = {
    "paid_after_cancel": _l("Paid after the order was cancelled"),
    "intent_unreadable": _l("Could not read the payment at the provider"),
}


@bp.app_template_global()
def alarm_label(kind: str) -> str:
    return str(ALARM_LABELS.get(kind, kind))


# Why an order was cancelled: the core's reasons and the labels plugins registered for theirs.
bp.add_app_template_global(cancel_reason_label)


@bp.app_template_global()
def refund_outcome(refund: Refund | None) -> str:
    """What became of the refund that returns an alarm's money, in one line."""
    if refund is None:
        return _("no refund")
    amount = _money(refund.amount, refund.currency)
    if refund.status == "succeeded":
        return _("refunded %(amount)s", amount=amount) + (f" ({refund.provider_reference})"
                                                         if refund.provider_reference else "")
    if refund.status == "pending" and refund.last_error:
        return _("refund of %(amount)s not completed yet: %(error)s", amount=amount, error=refund.last_error[:160])
    if refund.status == "pending":
        return _("refund of %(amount)s pending", amount=amount)
    return _("refund of %(amount)s failed", amount=amount)


def alarm_rows(rows: list[PaymentAlarm]) -> list[dict]:
    """Each alarm with its order and the refund that returns the money (its outcome)."""
    orders = {o.id: o for o in db().scalars(select(Order).where(Order.id.in_({a.order_id for a in rows})))} \
        if rows else {}
    refund_ids = {a.refund_id for a in rows if a.refund_id}
    refunds = {r.id: r for r in db().scalars(select(Refund).where(Refund.id.in_(refund_ids)))} if refund_ids else {}
    return [{"alarm": a, "order": orders.get(a.order_id), "refund": refunds.get(a.refund_id)} for a in rows]


def _render_detail(order: Order, form: RefundForm | None = None, status: int = 200):
    if form is None:
        form = RefundForm(formdata=None, idempotency_key=f"admin-{secrets.token_urlsafe(18)}")
    payments = db().scalars(select(Payment).where(Payment.order_id == order.id).order_by(Payment.id)).all()
    refunds = db().scalars(select(Refund).where(Refund.order_id == order.id).order_by(Refund.id)).all()
    manual_pending = order.status == OrderStatus.PLACED.value and any(
        p.provider in staff_confirmed(kernel()) and p.status == "pending" for p in payments)
    # Plugins say where the order came from (channel, distributor) and what it earned.
    panels = call_isolated(kernel().pm, "admin_order_panel", order=order, session=db(), staff=current_staff())
    panels = [p if isinstance(p, Markup) else Markup.escape(p) for p in panels]
    order_alarms = alarm_rows(list(db().scalars(select(PaymentAlarm).where(PaymentAlarm.order_id == order.id)
                                                 .order_by(PaymentAlarm.id))))
    return render_template("admin/orders/detail.html", order=order, member=db().get(Member, order.member_id),
                           payments=payments, refunds=refunds, refund_form=form, panels=panels,
                           manual_pending=manual_pending, action_form=FlaskForm(),
                           alarms=order_alarms), status


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


def _order_alarm(order_id: int, alarm_id: int) -> PaymentAlarm:
    alarm = get_or_404(PaymentAlarm, alarm_id)
    if alarm.order_id != order_id:
        abort(404)
    return alarm


@bp.post("/<int:order_id>/alarms/<int:alarm_id>/retry-refund")
@staff_required("owner")
def retry_alarm_refund(order_id: int, alarm_id: int):
    """Ask the provider again for the automatic refund of a payment taken after cancel."""
    require_csrf()
    alarm = _order_alarm(order_id, alarm_id)
    refund = db().get(Refund, alarm.refund_id) if alarm.refund_id else None
    if refund is None or refund.status != "pending":
        flash(_("There is no pending refund to retry."), "warning")
    else:
        try:
            send_auto_refund(kernel(), db(), refund)
        except SiyuError as exc:
            show_error(exc)
        else:
            flash(_("Refunded %(amount)s.", amount=_money(refund.amount, refund.currency)), "success")
    return redirect(url_for("admin_orders.detail", order_id=order_id))


@bp.post("/<int:order_id>/alarms/<int:alarm_id>/close")
@staff_required("owner")
def close_alarm(order_id: int, alarm_id: int):
    require_csrf()
    alarm = _order_alarm(order_id, alarm_id)
    try:
        alarms.close_alarm(db(), alarm, current_staff().id, f"closed by {current_staff().email}")
    except SiyuError as exc:
        show_error(exc)
    else:
        flash(_("Alarm closed."), "success")
    return redirect(url_for("admin_orders.detail", order_id=order_id))


def _money(amount: int, currency: str) -> str:
    from siyu.storefront.views.helpers import money

    return money(amount, currency)
