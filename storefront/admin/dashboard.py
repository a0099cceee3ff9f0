"""The owner's dashboard: sales, orders, new members, repurchase rate, plugin widgets."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import render_template
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from siyu.core import metrics
from siyu.core.payments import alarms
from siyu.core.isolation import run_isolated
from siyu.core.staff import may
from siyu.storefront.admin import current_staff, dashboard_widgets, staff_required
from siyu.storefront.admin.auth import bp
from siyu.storefront.admin.charts import bar_chart
from siyu.storefront.context import db

TITLE = _l("Dashboard")


def _widgets(staff):
    rendered = []
    for widget in dashboard_widgets():
        if not may(staff, widget.role):
            continue
        body = run_isolated(widget.plugin, f"dashboard widget {widget.name}", widget.render, db(), staff)
        if body is not None:
            rendered.append((widget, body if isinstance(body, Markup) else Markup.escape(body)))
    return rendered


@bp.get("/")
@staff_required("agent")
def dashboard():
    staff = current_staff()
    now = datetime.now(timezone.utc)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    figures = None
    chart = None
    if may(staff, "owner"):
        repeat, buyers = metrics.repurchase_rate(db())
        figures = {
            "today": metrics.sales_between(db(), today, now + timedelta(seconds=1)),
            "month": metrics.sales_between(db(), now - timedelta(days=30), now + timedelta(seconds=1)),
            "repeat": repeat,
            "buyers": buyers,
            "rate": (repeat * 100 / buyers) if buyers else None,
        }
        series = metrics.daily_revenue(db(), 30, now)
        chart = bar_chart([(d.strftime("%m-%d"), v) for d, v in series], height=140)
    from siyu.storefront.admin.orders import alarm_rows

    return render_template("admin/dashboard.html", figures=figures, chart=chart,
                           widgets=_widgets(staff), currency="CNY",
                           open_alarms=alarm_rows(alarms.open_alarms(db(), limit=10)))
