"""The shopper's side of fulfilment on the order page: confirm receipt, after-sales
requests per line (with photos), the return's tracking number, withdrawing a request.

Orders due for automatic completion are completed when their owner looks at them (a sweep
on read), besides the worker's scheduled ``complete_due_orders`` job.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_from_directory, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from siyu.core import after_sales as svc
from siyu.core.addresses import display_phone
from siyu.core.errors import ValidationError
from siyu.core.fulfilment import complete_due, confirm_receipt, progress
from siyu.core.fulfilment_settings import carrier, fulfilment_settings, tracking_url
from siyu.core.media import MAX_IMAGE_BYTES
from siyu.core.models import AfterSale, Shipment
from siyu.core.orders import order_for_member
from siyu.storefront.context import db, kernel
from siyu.storefront.errors import problem_response
from siyu.storefront.media import private_root
from siyu.storefront.views.helpers import locale_code

bp = Blueprint("after_sales", __name__)

# Three photos of up to 5 MB each, and the form around them: more than the shop's usual
# request limit (MAX_CONTENT_LENGTH, 8 MB), which stays in force everywhere else.
PHOTOS_REQUEST_BYTES = svc.MAX_PHOTOS * MAX_IMAGE_BYTES + 1024 * 1024


@bp.url_value_preprocessor
def _room_for_photos(endpoint, values):
    # Runs before any before_request function reads the body (CSRF, input checks), so the
    # larger limit applies from the first byte parsed.
    if endpoint == "after_sales.new" and request.method == "POST":
        request.max_content_length = max(PHOTOS_REQUEST_BYTES, current_app.config.get("MAX_CONTENT_LENGTH") or 0)


@bp.errorhandler(RequestEntityTooLarge)
def _photos_too_large(exc):
    if request.endpoint != "after_sales.new":
        return problem_response(413, _("The upload is too large."))
    return problem_response(413, _("Photos may be at most 5 MB each, and at most 3 of them. "
                                   "Choose smaller photos and send your request again."))


@bp.before_app_request
def _complete_due_on_read():
    if request.endpoint in ("account.order", "account.orders") and current_user.is_authenticated:
        complete_due(kernel(), db(), member_id=current_user.id)


def _check_csrf() -> None:
    if not FlaskForm().validate():
        abort(400)


@bp.app_template_global()
def order_fulfilment(order) -> dict:
    """What the order page shows about delivery, parcels and after-sales."""
    session = db()
    values = fulfilment_settings(session)
    shipments = session.scalars(select(Shipment).where(Shipment.order_id == order.id).order_by(Shipment.id)).all()
    requests = session.scalars(select(AfterSale).where(AfterSale.order_id == order.id)
                               .order_by(AfterSale.id.desc())).all()
    zh = locale_code().startswith("zh")

    def carrier_name(code):
        found = carrier(values, code)
        return (found.get("name_zh") if zh else found.get("name_en")) if found else code

    open_lines = {r.order_line_id for r in requests if r.is_open}
    return {
        "delivery": order.delivery, "display_phone": display_phone,
        "parcels": [{"shipment": s, "carrier": carrier_name(s.carrier_code),
                     "url": tracking_url(values, s.carrier_code, s.tracking_number)} for s in shipments],
        "requests": requests, "progress": progress(session, order) if order.is_paid else {},
        "requestable": order.status in svc.REQUESTABLE and svc.within_window(session, order),
        "open_lines": open_lines, "reasons": svc.REASONS, "kinds": svc.KINDS, "states": svc.STATES, "carriers": values["carriers"],
        "carrier_name": carrier_name,
    }


@bp.post("/orders/<number>/receipt")
@login_required
def receipt(number: str):
    _check_csrf()
    order = order_for_member(db(), number, current_user)
    confirm_receipt(kernel(), db(), order, current_user)
    flash(_("Thank you! Your order is complete."), "success")
    return redirect(url_for("account.order", number=order.number))


@bp.route("/orders/<number>/after-sales/new", methods=["GET", "POST"])
@login_required
def new(number: str):
    order = order_for_member(db(), number, current_user)
    line_id = request.values.get("line", type=int)
    line = next((item for item in order.lines if item.id == line_id), None)
    if line is None:
        abort(404)
    max_amount, max_quantity = svc.claimable(db(), order, line)
    values, errors, status = {"kind": "refund_only", "quantity": max_quantity}, {}, 200
    if request.method == "POST":
        _check_csrf()
        values = {k: request.form.get(k, "")[:600] for k in ("kind", "reason", "note", "quantity", "amount")}
        uploads = [f for f in request.files.getlist("photos") if f and f.filename]
        try:
            photos = [f.read(MAX_IMAGE_BYTES + 1) for f in uploads]
            amount = _minor(values.get("amount"), order.currency)
            svc.request_after_sale(kernel(), db(), order, current_user, line_id=line.id, kind=values["kind"],
                                   reason=values["reason"], note=values["note"], quantity=values["quantity"] or None,
                                   amount=amount, photos=photos, media_root=private_root())
        except ValidationError as exc:
            flash(str(exc.message), "error")
            errors, status = {k: str(v) for k, v in exc.fields.items()}, 422
        else:
            flash(_("Your request was sent. We will reply soon."), "success")
            return redirect(url_for("account.order", number=order.number))
    return render_template("account/after_sale_form.html", order=order, line=line, values=values, errors=errors,
                           max_amount=max_amount, max_quantity=max_quantity, reasons=svc.REASONS,
                           form=FlaskForm()), status


def _minor(raw, currency: str):
    """The amount typed in major units (``12.50``), or None for "all that may be claimed"."""
    from siyu.core.money import parse_major

    text = str(raw or "").strip()
    if not text:
        return None
    try:
        return parse_major(text, currency)
    except Exception:
        raise ValidationError(_("Please correct the highlighted fields."),
                              fields={"amount": _("Enter an amount such as 12.50.")}) from None


def _own_request(number: str, after_sale_id: int):
    order = order_for_member(db(), number, current_user)
    request_ = svc.get_after_sale(db(), after_sale_id, current_user)
    if request_.order_id != order.id:
        abort(404)
    return order, request_


@bp.post("/orders/<number>/after-sales/<int:after_sale_id>/return")
@login_required
def return_shipment(number: str, after_sale_id: int):
    _check_csrf()
    order, request_ = _own_request(number, after_sale_id)
    svc.record_return_shipment(kernel(), db(), request_, current_user, request.form.get("return_carrier", ""),
                               request.form.get("return_tracking_number", ""))
    flash(_("Return tracking number saved."), "success")
    return redirect(url_for("account.order", number=order.number))


@bp.post("/orders/<number>/after-sales/<int:after_sale_id>/withdraw")
@login_required
def withdraw(number: str, after_sale_id: int):
    _check_csrf()
    order, request_ = _own_request(number, after_sale_id)
    svc.withdraw(kernel(), db(), request_, current_user)
    flash(_("Your request was withdrawn."), "success")
    return redirect(url_for("account.order", number=order.number))


@bp.get("/orders/<number>/after-sales/<int:after_sale_id>/photos/<int:n>")
@login_required
def photo(number: str, after_sale_id: int, n: int):
    """Photo ``n`` (from 1) of the member's own request."""
    _order, request_ = _own_request(number, after_sale_id)
    if not 1 <= n <= len(request_.photos or []):
        abort(404)
    response = send_from_directory(private_root(), request_.photos[n - 1], max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response
