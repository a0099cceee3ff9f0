"""Back office: after-sales requests (售后) — the queue with state filters and each request's
page with its photos (agents and owners see); approve, reject with a reason, mark a return
received, refund (owners: decisions that move money or stock).

The refund goes through ``after_sales.refund`` with the request's own idempotency key:
double clicks, two owners at once, or "approve and refund" racing "refund" refund once.
Photos live outside the public media folder and are served here to staff only.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, send_from_directory, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from siyu.core import after_sales as svc
from siyu.core.carriers import carrier_label
from siyu.core.errors import InvalidTransition, SiyuError
from siyu.core.fulfilment_settings import fulfilment_settings
from siyu.core.models import AfterSale, AfterSaleKind, Member, Order
from siyu.core.models.fulfilment import OPEN_AFTER_SALE_STATES
from siyu.storefront.admin import current_staff, staff_required
from siyu.storefront.admin.common import get_or_404, paginate, require_csrf, show_error
from siyu.storefront.context import db, kernel
from siyu.storefront.media import private_root
from siyu.storefront.views.helpers import locale_code

bp = Blueprint("admin_after_sales", __name__, url_prefix="/admin/after-sales")
TITLE = _l("After-sales")
#: What each state waits for, as the queue's filter offers it.
STAFF_STATES = {
    "requested": _l("Awaiting a decision"), "approved": _l("Approved: to refund"),
    "awaiting_return": _l("Awaiting the goods back"), "returned": _l("Goods on their way back"),
    "received": _l("Goods received: to refund"), "refunded": _l("Refunded"), "rejected": _l("Rejected"),
    "withdrawn": _l("Withdrawn by the shopper"),
}


@bp.app_template_global()
def after_sale_state(state: str) -> str:
    """A request's state as staff read it."""
    return str(STAFF_STATES.get(state, state))


@bp.get("")
@staff_required("agent")
def index():
    state = request.args.get("state", "open")
    kind = request.args.get("kind", "")
    query = select(AfterSale)
    if state == "open":
        query = query.where(AfterSale.state.in_(OPEN_AFTER_SALE_STATES))
    elif state in STAFF_STATES:
        query = query.where(AfterSale.state == state)
    else:
        state = "all"
    if kind in svc.KINDS:
        query = query.where(AfterSale.kind == kind)
    q = (request.args.get("q") or "").strip()[:32]
    if q:
        query = query.where(AfterSale.order_id.in_(select(Order.id).where(Order.number == q.upper())))
    result = paginate(query.order_by(AfterSale.created_at.desc(), AfterSale.id.desc()))
    orders = {o.id: o for o in db().scalars(select(Order).where(Order.id.in_({r.order_id for r in result.items})))} \
        if result.items else {}
    return render_template("admin/after_sales/index.html", result=result, orders=orders, state=state, kind=kind, q=q,
                           states=STAFF_STATES, kinds=svc.KINDS, reasons=svc.REASONS)


@bp.get("/<int:after_sale_id>")
@staff_required("agent")
def detail(after_sale_id: int):
    request_ = get_or_404(AfterSale, after_sale_id)
    order = db().get(Order, request_.order_id)
    line = next((line for line in order.lines if line.id == request_.order_line_id), None)
    return render_template("admin/after_sales/detail.html", r=request_, order=order, line=line,
                           member=db().get(Member, request_.member_id), states=STAFF_STATES, kinds=svc.KINDS,
                           reasons=svc.REASONS, refundable=_ready_to_refund(request_),
                           return_carrier=carrier_label(fulfilment_settings(db()), request_.return_carrier,
                                                        locale_code()))


def _ready_to_refund(request_: AfterSale) -> bool:
    ready = "approved" if request_.kind == AfterSaleKind.REFUND_ONLY.value else "received"
    return request_.state == ready


@bp.get("/<int:after_sale_id>/photos/<int:n>")
@staff_required("agent")
def photo(after_sale_id: int, n: int):
    """The request's ``n``-th photo (from 1)."""
    request_ = get_or_404(AfterSale, after_sale_id)
    photos = request_.photos or []
    if not 1 <= n <= len(photos):
        abort(404)
    response = send_from_directory(private_root(), photos[n - 1], max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _act(after_sale_id: int, action, done_message):
    require_csrf()
    request_ = get_or_404(AfterSale, after_sale_id)
    try:
        action(request_)
    except SiyuError as exc:
        show_error(exc)
    else:
        flash(done_message(request_), "success")
    return redirect(url_for("admin_after_sales.detail", after_sale_id=request_.id))


@bp.post("/<int:after_sale_id>/approve")
@staff_required("owner")
def approve(after_sale_id: int):
    return _act(after_sale_id, lambda r: svc.approve(kernel(), db(), r, staff_id=current_staff().id),
                lambda r: _("Approved: the shopper was asked to send the goods back.")
                if r.state == "awaiting_return" else _("Approved: refund it when you are ready."))


@bp.post("/<int:after_sale_id>/reject")
@staff_required("owner")
def reject(after_sale_id: int):
    note = request.form.get("note", "")[:400]
    return _act(after_sale_id, lambda r: svc.reject(kernel(), db(), r, note, staff_id=current_staff().id),
                lambda r: _("Rejected; the shopper sees your reason."))


@bp.post("/<int:after_sale_id>/receive")
@staff_required("owner")
def receive(after_sale_id: int):
    return _act(after_sale_id, lambda r: svc.mark_received(kernel(), db(), r, staff_id=current_staff().id),
                lambda r: _("Marked as received; the goods are back in stock."))


def approve_and_refund(request_: AfterSale, staff_id: int) -> AfterSale:
    """Refund a request, approving a new refund-only request first (one click). A concurrent
    approval is not an error here: the refund that follows is the same one either way."""
    if request_.state == "requested" and request_.kind == AfterSaleKind.REFUND_ONLY.value:
        try:
            svc.approve(kernel(), db(), request_, staff_id=staff_id)
        except InvalidTransition:
            db().refresh(request_)
    return svc.refund(kernel(), db(), request_, staff_id=staff_id)


@bp.post("/<int:after_sale_id>/refund")
@staff_required("owner")
def refund(after_sale_id: int):
    from siyu.storefront.views.helpers import money

    def message(r):
        order = db().get(Order, r.order_id)
        return _("Refunded %(amount)s.", amount=money(r.amount, order.currency))
    return _act(after_sale_id, lambda r: approve_and_refund(r, current_staff().id), message)
