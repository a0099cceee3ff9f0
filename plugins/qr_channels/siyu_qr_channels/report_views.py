"""Back office: the channel funnel report, its CSV export and the dashboard widget."""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from flask import Response, render_template, request
from flask_babel import gettext as _
from markupsafe import Markup

from siyu.plugin import utcnow, ValidationError
from siyu.plugin.web import db, staff_required
from siyu_qr_channels import report
from siyu_qr_channels.charts import funnel_chart
from siyu_qr_channels.scans import local_day, shop_zone
from siyu_qr_channels.views import bp

MAX_DAYS = 366
DEFAULT_DAYS = 30


def _date(name: str, default: date) -> date:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationError(_("Enter dates as YYYY-MM-DD."), fields={name: _("not a date")}) from None


def _params() -> tuple[date, date, str]:
    today = local_day(utcnow(), shop_zone(db()))
    end = _date("end", today)
    start = _date("start", end - timedelta(days=DEFAULT_DAYS - 1))
    if start > end:
        raise ValidationError(_("The start date is after the end date."), fields={"start": _("after end")})
    if (end - start).days >= MAX_DAYS:
        raise ValidationError(_("Choose at most %(n)d days.", n=MAX_DAYS), fields={"start": _("range too long")})
    model = request.args.get("model") or "first"
    if model not in report.MODELS:
        raise ValidationError(_("Choose first or last touch."), fields={"model": _("unknown")})
    return start, end, model


def _steps(row: report.ChannelFigures) -> list[tuple[str, int]]:
    return [(_("Scans"), row.scans), (_("Unique visitors"), row.uniques),
            (_("New members"), row.new_members), (_("First orders"), row.first_orders),
            (_("Repeat orders"), row.repeat_orders)]


@bp.get("/admin/channels/report")
@staff_required("owner")
def funnel_report():
    start, end, model = _params()
    rows = report.funnel(db(), start, end, model, direct=True)
    total = report.totals(rows, model)
    focus = request.args.get("channel", type=int)
    chosen = next((r for r in rows if focus is not None and r.channel_id == focus), None)
    chart = funnel_chart(_steps(chosen or total))
    return render_template("qr_channels/admin/report.html", rows=rows, total=total, chart=chart,
                           chosen=chosen, start=start, end=end, model=model, days=(end - start).days + 1)


def _safe(value) -> str:
    # A cell starting with = + - @ would run as a formula in a spreadsheet.
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.get("/admin/channels/report.csv")
@staff_required("owner")
def funnel_csv():
    start, end, model = _params()
    rows = report.funnel(db(), start, end, model, direct=True)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["channel_id", "name", "kind", "scene", "scans", "bot_scans", "unique_visitors",
                     "new_members", "first_orders", "repeat_orders", "revenue_minor_units",
                     "buyers", "repeat_buyers", "repurchase_rate_percent"])
    for r in rows:
        rate = "" if r.repurchase_rate is None else f"{r.repurchase_rate:.1f}"
        writer.writerow([r.channel_id or "", _safe(r.name if r.channel_id else _("No channel")), r.kind,
                         _safe(r.scene), r.scans, r.bot_scans, r.uniques, r.new_members, r.first_orders,
                         r.repeat_orders, r.revenue, r.buyers, r.repeat_buyers, rate])
    response = Response("\ufeff" + out.getvalue(), mimetype="text/csv")  # BOM: Excel reads UTF-8
    response.headers["Content-Disposition"] = (
        f'attachment; filename="channels-{model}-{start.isoformat()}-{end.isoformat()}.csv"')
    return response


def top_channels_widget(session, staff) -> Markup:
    """Dashboard: the channels that brought the most members in the last 30 days."""
    today = local_day(utcnow(), shop_zone(session))
    rows = report.top_channels(session, today, days=DEFAULT_DAYS, limit=5)
    return Markup(render_template("qr_channels/admin/widget.html", rows=rows))
