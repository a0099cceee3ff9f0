"""Entry point of the qr_channels plugin (group ``siyu``, name ``qr_channels``).

The transactional hooks receive the shop's ``kernel``, whose plugin manager announces
``qr_channels_on_attributed`` to other plugins.
"""
from __future__ import annotations

from pathlib import Path

from marshmallow import Schema, fields, validate

from siyu.plugin import hookimpl, lazy_gettext as _l
from siyu_qr_channels import attribution, hookspecs
from siyu_qr_channels.models import Channel  # noqa: F401  (tables join the metadata)

HERE = Path(__file__).resolve().parent
NAME = "qr_channels"


class Settings(Schema):
    base_url = fields.String(load_default="", validate=validate.Length(max=200), metadata={
        "label": _l("Public address of the shop"), "help": _l("e.g. https://shop.example; used in printed codes")})
    last_touch_days = fields.Integer(load_default=attribution.DEFAULT_WINDOW_DAYS,
                                     validate=validate.Range(1, 365), metadata={
        "label": _l("Last-touch window (days)"),
        "help": _l("An order is credited to the last channel scanned at most this many days before.")})


@hookimpl
def register_hookspecs(pm):
    pm.add_hookspecs(hookspecs)


@hookimpl
def on_member_created(kernel, session, member, visitor_id):
    attribution.on_member_created(kernel, session, member, visitor_id)


@hookimpl
def on_order_placed(kernel, session, order):
    attribution.on_order_placed(kernel, session, order)


@hookimpl
def register_outbox_tasks(register):
    register(attribution.PAID, attribution.paid_task)
    register(attribution.REFUNDED, attribution.refunded_task)


# Roll-ups of channel attribution are not money: recorded here, booked after the commit.


@hookimpl
def on_order_paid(kernel, session, order):
    attribution.record_paid(kernel, session, order)


@hookimpl
def on_order_refunded(kernel, session, order, refund):
    attribution.record_refunded(kernel, session, order, refund)


@hookimpl
def qr_channels_from_wechat_event(session, event, event_key):
    from siyu_qr_channels.channels import channel_for_wechat_event

    return channel_for_wechat_event(session, event, event_key)


@hookimpl
def register_migrations(register):
    register(NAME, str(HERE / "migrations" / "versions"))


@hookimpl
def register_translations(register):
    register(str(HERE / "translations"))


@hookimpl
def register_settings_schemas(register):
    register(NAME, Settings)


@hookimpl
def register_blueprints(register):
    from siyu_qr_channels import admin, report_views, views  # noqa: F401  (routes join the blueprint)

    register(views.bp)


@hookimpl
def attribution_from_request(args, session):
    from siyu_qr_channels.views import attribution_from_request as from_request

    return from_request(args, session)


@hookimpl
def register_admin_menu(register):
    register("qr_channels.channels", _l("Channels"), role="agent", order=60)
    register("qr_channels.funnel_report", _l("Channel funnel"), role="owner", order=61)


@hookimpl
def register_dashboard_widgets(register):
    from siyu_qr_channels.report_views import top_channels_widget

    register("qr_channels_top", _l("Top channels, last 30 days"), top_channels_widget, role="owner", order=40)


@hookimpl
def admin_order_panel(order, session, staff):
    from siyu_qr_channels.order_panel import order_panel

    return order_panel(order, session, staff)
