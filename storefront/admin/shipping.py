"""Back office: the to-ship queue (filters, pages), shipping one order from its page (all of
it, or some lines in part), exports (CSV, XLSX) and print views (A4 packing slips, 100×150 mm
labels). Agents and owners ship: it moves goods, not money.

Dates are days of the shop's time zone, shown and filtered as the shop lives them.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select

from siyu.core import to_ship
from siyu.core.addresses import display_phone
from siyu.core.carriers import carrier_label
from siyu.core.errors import SiyuError
from siyu.core.fulfilment import PICKUP, progress, ship_order
from siyu.core.fulfilment_settings import fulfilment_settings, tracking_url
from siyu.core.models import TO_SHIP_STATES, AfterSale, Order, Shipment
from siyu.core.shipping_files import XLSX_MIME, write_csv, write_xlsx
from siyu.storefront.admin import current_staff, staff_required
from siyu.storefront.admin.common import get_or_404, paginate, show_error
from siyu.storefront.context import db, kernel
from siyu.storefront.i18n import select_timezone
from siyu.storefront.views.helpers import locale_code

bp = Blueprint("admin_shipping", __name__, url_prefix="/admin/shipping")
TITLE = _l("To ship")
MAX_EXPORT = 5000
MAX_PRINT = 200
METHOD_LABELS = {"express": _l("Express delivery"), "pickup": _l("Pickup at the shop")}


def shop_zone() -> ZoneInfo:
    try:
        return ZoneInfo(select_timezone())
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Asia/Shanghai")


def shop_day(text: str | None, end: bool = False) -> datetime | None:
    """The start (or, with ``end``, the next day's start) of a ``YYYY-MM-DD`` day in the
    shop's time zone, as UTC; None for anything else."""
    try:
        day = datetime.strptime((text or "")[:10], "%Y-%m-%d").date()
    except ValueError:
        return None
    moment = datetime.combine(day + timedelta(days=1) if end else day, time.min, tzinfo=shop_zone())
    return moment.astimezone(timezone.utc)


def filters_from_args() -> to_ship.Filters:
    method = request.args.get("method")
    return to_ship.Filters(method=method if method in to_ship.METHODS else None,
                           start=shop_day(request.args.get("from")), end=shop_day(request.args.get("to"), end=True),
                           q=(request.args.get("q") or "").strip()[:to_ship.MAX_SEARCH])


def filter_args() -> dict:
    return {k: request.args.get(k, "") for k in ("method", "from", "to", "q") if request.args.get(k)}


@bp.get("")
@staff_required("agent")
def index():
    filters = filters_from_args()
    result = paginate(to_ship.query(filters))
    return render_template("admin/shipping/index.html", result=result, parcels=to_ship.parcels(db(), result.items),
                           filters=filters, args=filter_args(), methods=METHOD_LABELS,
                           display_phone=display_phone)


def export_rows(parcels: list[to_ship.Parcel]) -> list[list]:
    loc = locale_code()
    rows = []
    for p in parcels:
        d = p.delivery
        rows.append([
            p.order.number, format_datetime(p.order.paid_at, "yyyy-MM-dd HH:mm") if p.order.paid_at else "",
            str(METHOD_LABELS.get(p.order.delivery_method, p.order.delivery_method)),
            d.recipient if d else "", display_phone(d.phone) if d and d.phone else "",
            d.province_name if d else "", d.city_name if d else "", d.district_name if d else "",
            (d.street if d and d.method == "express" else f"{d.pickup_name} {d.pickup_address}".strip()) if d else "",
            "; ".join(f"{line.title(loc)} ({line.sku}) ×{qty}" for line, qty in p.lines),
            "", "",  # carrier and tracking number: filled in, then imported back
        ])
    return rows


def export_headers() -> list[str]:
    return [_("Order number"), _("Paid at"), _("Delivery"), _("Recipient"), _("Phone"), _("Province"), _("City"),
            _("District"), _("Address"), _("Items to ship"), _("Carrier"), _("Tracking number")]


def _export_parcels() -> list[to_ship.Parcel]:
    orders = db().scalars(to_ship.query(filters_from_args()).limit(MAX_EXPORT)).all()
    return to_ship.parcels(db(), orders)


def _download(body: bytes, mimetype: str, ext: str) -> Response:
    stamp = datetime.now(shop_zone()).strftime("%Y%m%d-%H%M")
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="to-ship-{stamp}.{ext}"'
    return response


@bp.get("/export.csv")
@staff_required("agent")
def export_csv():
    return _download(write_csv(export_headers(), export_rows(_export_parcels())), "text/csv; charset=utf-8", "csv")


@bp.get("/export.xlsx")
@staff_required("agent")
def export_xlsx():
    body = write_xlsx(export_headers(), export_rows(_export_parcels()), title=_("To ship"))
    return _download(body, XLSX_MIME, "xlsx")


@bp.get("/print")
@staff_required("agent")
def print_view():
    """Packing slips (A4) or labels (100×150 mm) for the chosen orders (``ids``)."""
    layout = "label" if request.args.get("layout") == "label" else "a4"
    ids = [int(i) for i in request.args.getlist("ids") if i.isdigit() and len(i) < 11][:MAX_PRINT * 2]
    orders = to_ship.orders_by_ids(db(), ids, MAX_PRINT)
    if not orders:
        flash(_("Choose the orders to print."), "warning")
        return redirect(url_for("admin_shipping.index"))
    return render_template("admin/shipping/print.html", layout=layout, parcels=_print_parcels(orders),
                           display_phone=display_phone, methods=METHOD_LABELS)


def _print_parcels(orders) -> list[to_ship.Parcel]:
    """Slips list every shippable line (a reprint of a shipped order too), with what is left."""
    return to_ship.parcels(db(), orders, every_line=True)


@bp.app_template_global()
def shipping_panel(order: Order) -> dict:
    """What the order page shows and asks to ship this order (``admin/orders/_shipping.html``)."""
    values = fulfilment_settings(db())
    loc = locale_code()
    shipments = db().scalars(select(Shipment).where(Shipment.order_id == order.id).order_by(Shipment.id)).all() \
        if order.is_paid else []
    state = progress(db(), order) if order.is_paid else {}
    lines = [(line, state[line.id]) for line in order.lines if line.id in state]
    return {
        "delivery": order.delivery, "display_phone": display_phone,
        "parcels": [{"shipment": s, "carrier": carrier_label(values, s.carrier_code, loc),
                     "url": tracking_url(values, s.carrier_code, s.tracking_number)} for s in shipments],
        "lines": lines, "carriers": values.get("carriers") or [], "loc": loc, "pickup": order.delivery_method == PICKUP,
        "can_ship": order.status in TO_SHIP_STATES and any(p.remaining for _l_, p in lines),
        "form": FlaskForm(),
        "requests": db().scalars(select(AfterSale).where(AfterSale.order_id == order.id)
                                 .order_by(AfterSale.id)).all() if order.is_paid else [],
    }


@bp.post("/orders/<int:order_id>/ship")
@staff_required("agent")
def ship(order_id: int):
    """Ship the quantities typed per line (``qty-<line id>``) with one carrier and tracking number."""
    form = FlaskForm()
    order = get_or_404(Order, order_id)
    back = redirect(url_for("admin_orders.detail", order_id=order.id) + "#shipping")
    if not form.validate():
        flash(_("The form expired; please try again."), "error")
        return back
    lines = {key[4:]: (value.strip() or "0")[:6] for key, value in request.form.items()
             if key.startswith("qty-") and key[4:].isdigit()}
    try:
        shipment, created = ship_order(kernel(), db(), order, carrier_code=request.form.get("carrier_code", "")[:40],
                                       tracking_number=request.form.get("tracking_number", "")[:80],
                                       lines=lines or None, staff_id=current_staff().id)
    except SiyuError as exc:
        show_error(exc)
        for key, message in exc.fields.items():
            flash(f"{_line_name(order, key)}: {message}", "error")
        return back
    if created:
        flash(_("Shipped: %(n)d items in this parcel.", n=sum(sl.quantity for sl in shipment.lines)), "success")
    else:
        flash(_("This parcel was already recorded; nothing changed."), "warning")
    return back


def _line_name(order: Order, key: str) -> str:
    names = {"carrier_code": _("Carrier"), "tracking_number": _("Tracking number"), "lines": _("Items")}
    if key in names:
        return names[key]
    line = next((line for line in order.lines if str(line.id) == key), None)
    return line.title(locale_code()) if line else key
