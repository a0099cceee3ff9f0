"""Gift message: hook implementations (entry point ``siyu: gift_message``).

Each function implements a hook of ``siyu.core.hookspecs`` (reference: ``docs/hooks.md``)
and may take any subset of the hook's arguments. Each hook imports what it needs, so the core's
services and jobs load the plugin without a web app, and every step of the tutorial runs.
"""
from __future__ import annotations

from pathlib import Path

from siyu.plugin import hookimpl
from siyu_gift_message.models import GiftMessage  # the plugin's tables, known once it is loaded
from siyu_gift_message.settings import NAME, GiftMessageSettings

HERE = Path(__file__).resolve().parent


@hookimpl
def register_migrations(register):
    register(NAME, str(HERE / "migrations" / "versions"))


@hookimpl
def register_translations(register):
    register(str(HERE / "translations"))


@hookimpl
def register_settings_schemas(register):
    register(NAME, GiftMessageSettings)


# ---------------------------------------------------------------------------- orders


@hookimpl
def on_order_placed(session, order, cart):
    from siyu_gift_message import messages

    messages.save_for_order(session, order, cart.inputs.get("gift_message", ""))


# ------------------------------------------------------------------------ storefront


@hookimpl
def storefront_slot(slot, context):
    from flask import render_template
    from markupsafe import Markup

    from siyu.plugin.web import db
    from siyu_gift_message import messages
    from siyu_gift_message.settings import load

    if slot == "checkout_form":
        # Inputs rendered here are posted back with the checkout form as ``cart.inputs``.
        return Markup(render_template("gift_message/checkout_field.html", limit=load(db())["max_length"]))
    if slot == "order_after_lines":
        gift = messages.for_order(db(), context["order"].id)
        if gift is not None:
            return Markup(render_template("gift_message/order_message.html", gift=gift))
    return None


# ----------------------------------------------------------------------- back office


@hookimpl
def register_blueprints(register):
    from siyu_gift_message import views

    register(views.admin_bp)


@hookimpl
def register_admin_menu(register):
    from siyu.plugin import lazy_gettext as _l

    register("gift_message_admin.index", _l("Gift messages"), role="agent", order=60)


@hookimpl
def admin_member_panel(member, session):
    from flask import render_template
    from markupsafe import Markup

    from siyu_gift_message import messages

    gifts = messages.for_member(session, member.id)
    if gifts:
        return Markup(render_template("gift_message/member_panel.html", gifts=gifts))
    return None


# ---------------------------------------------------------------- members' data rights


@hookimpl
def member_data_export(session, member):
    from siyu_gift_message import messages

    gifts = messages.for_member(session, member.id, limit=None)
    return {NAME: [{"order_id": g.order_id, "message": g.message, "created_at": g.created_at.isoformat()}
                   for g in gifts]}


@hookimpl
def on_member_anonymised(session, member):
    from sqlalchemy import update

    # The message is free text about people: erase it, keep the row the order refers to.
    session.execute(update(GiftMessage).where(GiftMessage.member_id == member.id).values(message=""))
