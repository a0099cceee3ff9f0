"""Entry point of the coupons plugin (group ``siyu``, name ``coupons``).

Pricing applies at most one coupon in the ``order`` stage; the order hooks move it through
reserved → used / released / restored inside the order's own transaction.
"""
from __future__ import annotations

from pathlib import Path

from siyu.plugin import hookimpl, lazy_gettext as _l
from siyu_coupons import hookspecs
from siyu_coupons.models import Coupon  # noqa: F401  (tables join the metadata)

HERE = Path(__file__).resolve().parent
NAME = "coupons"


@hookimpl
def register_hookspecs(pm):
    pm.add_hookspecs(hookspecs)


@hookimpl
def register_migrations(register):
    register(NAME, str(HERE / "migrations" / "versions"))


@hookimpl
def register_translations(register):
    register(str(HERE / "translations"))


@hookimpl
def register_settings_schemas(register):
    from siyu_coupons.settings import CouponSettings

    register(NAME, CouponSettings)


@hookimpl
def register_blueprints(register):
    from siyu_coupons import admin, views  # noqa: F401  (admin routes join the blueprint)

    register(views.bp)


@hookimpl
def register_card_types(register):
    from siyu_coupons.chat_card import card_type

    register(card_type())


# ------------------------------------------------------------------ pricing and orders


@hookimpl
def cart_adjustments(cart, stage, session, member):
    if stage != "order":
        return None
    from siyu_coupons.pricing import adjustments

    return adjustments(session, cart, member)


@hookimpl
def on_order_placed(session, order, cart):
    from siyu_coupons.redemption import reserve

    reserve(session, order, cart)


@hookimpl
def on_order_paid(session, order):
    from siyu_coupons.redemption import redeem

    redeem(session, order)


@hookimpl
def on_order_cancelled(session, order):
    from siyu_coupons.redemption import release

    release(session, order)


@hookimpl
def on_order_refunded(session, order):
    from siyu_coupons.redemption import restore_after_refund
    from siyu_coupons.settings import load

    restore_after_refund(session, order, bool(load(session)["restore_on_refund"]))


# ------------------------------------------------------------------ issuing and members


@hookimpl
def coupons_issue(session, member_id, template_code, reason, ref):
    from siyu_coupons.claims import issue

    return issue(session, member_id, template_code, reason, ref)


@hookimpl
def on_member_created(session, member):
    from siyu_coupons.claims import issue
    from siyu_coupons.settings import load

    code = str(load(session)["welcome_template"] or "").strip()
    if code:
        issue(session, member.id, code, "welcome", "welcome", source="welcome")


@hookimpl
def member_data_export(session, member):
    from siyu_coupons.wallet import export_member

    return export_member(session, member)


# ------------------------------------------------------------------------- web pieces


@hookimpl
def register_stylesheets(register):
    register("coupons.static", "coupons.css")


@hookimpl
def storefront_slot(slot, context):
    from siyu_coupons.slots import render_slot

    return render_slot(slot, context)


@hookimpl(optionalhook=True)
def qr_channels_target_url(target, value):
    """A channel QR code whose target is a coupon lands on its claim page."""
    from siyu_coupons.definitions import CODE

    if target == "coupon" and CODE.fullmatch(value or ""):
        return f"/coupon/{value}"
    return None


@hookimpl
def register_admin_menu(register):
    register("coupons.admin_list", _l("Coupons"), role="agent", order=55)


@hookimpl
def register_dashboard_widgets(register):
    from siyu_coupons.admin import dashboard_widget

    register("coupons", _l("Coupons, last 30 days"), dashboard_widget, role="owner", order=45)
