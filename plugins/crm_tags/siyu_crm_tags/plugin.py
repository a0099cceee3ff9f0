"""crm_tags hook implementations: wiring only; the work lives in the modules they call."""
from __future__ import annotations

from pathlib import Path

from siyu.plugin import hookimpl, lazy_gettext as _l, utcnow

from siyu_crm_tags import after, benefits, config, hookspecs, points, rights, rules
from siyu_crm_tags import models  # noqa: F401 - the tables join the shared metadata
from siyu_crm_tags import stats as stats_mod

HERE = Path(__file__).resolve().parent


@hookimpl
def register_hookspecs(pm):
    pm.add_hookspecs(hookspecs)


@hookimpl
def register_migrations(register):
    register("crm_tags", str(HERE / "migrations" / "versions"))


@hookimpl
def register_translations(register):
    register(str(HERE / "translations"))


@hookimpl
def register_settings_schemas(register):
    register(config.NAME, config.CrmSettings)


@hookimpl
def register_blueprints(register):
    from siyu_crm_tags.web import admin, storefront

    register(admin.bp, url_prefix="/admin/crm")
    register(storefront.bp)


@hookimpl
def register_commands(cli):
    from siyu_crm_tags.web.commands import crm_group

    cli.add_command(crm_group)


def nightly_recompute(kernel):
    """Levels, rule tags and dormancy change with time alone: recompute every member nightly,
    unless a recompute is already queued or running (it covers the night)."""
    from siyu_crm_tags import recompute

    session = kernel.db.Session()
    try:
        if recompute.pending(session) is None:
            recompute.run(kernel, session)
    finally:
        session.close()


def expire_points(kernel) -> int:
    """Write off lots past their date in the ledger (balances already ignore them)."""
    session = kernel.db.Session()
    try:
        return points.expire_due(kernel, session)
    finally:
        session.close()


@hookimpl
def register_jobs(register):
    from siyu_crm_tags import recompute

    register("crm_tags.recompute", recompute.job, retries=3)
    register("crm_tags.nightly_recompute", nightly_recompute, retries=3, retry_delay=300, daily_at="04:00",
             label=_l("Recompute levels and rule tags"))
    register("crm_tags.expire_points", expire_points, retries=3, retry_delay=300, daily_at="00:15",
             label=_l("Expire points past their date"))


@hookimpl
def register_admin_menu(register):
    from siyu_crm_tags.web.admin import MENU

    for endpoint, label, role, order in MENU:
        register(endpoint, label, role=role, order=order)


@hookimpl
def register_dashboard_widgets(register):
    from siyu_crm_tags.web import widgets

    widgets.register_all(register)


@hookimpl
def admin_member_panel(member, session, staff):
    from siyu_crm_tags.web import panels

    return panels.member_panel(member, session, staff)


@hookimpl
def storefront_slot(slot, context):
    from siyu_crm_tags.web import panels

    return panels.storefront_slot(slot, context)


# ------------------------------------------------------------------ pricing and orders


@hookimpl
def cart_adjustments(cart, stage, session, member):
    if stage == "item":
        return benefits.member_price(session, cart, member)
    if stage == "redemption":
        return benefits.redemption(session, config.load(session), cart, member)
    return None


@hookimpl
def on_order_placed(session, order, cart):
    benefits.reserve_for_order(session, config.load(session), order, cart)


# Points are spent like money: earned, reversed and released in the state change's transaction.
# Statistics, levels and rule tags are not: recorded here, counted after the commit (after.py).


@hookimpl
def register_outbox_tasks(register):
    after.register(register)


@hookimpl
def on_order_paid(kernel, session, order):
    after.record_paid(kernel, session, order)


@hookimpl
def on_order_completed(kernel, session, order):
    points.earn_for_order(session, config.load(session), order)
    after.record_completed(kernel, session, order)


@hookimpl
def on_order_refunded(kernel, session, order, refund):
    points.refund(session, config.load(session), order, refund.id, refund.amount)
    after.record_refunded(kernel, session, order, refund)


@hookimpl
def on_order_cancelled(session, order):
    points.release(session, config.load(session), order)


# ------------------------------------------------------------------------- members


@hookimpl
def on_member_created(kernel, session, member):
    after.record_member_created(kernel, session, member)


@hookimpl(optionalhook=True)
def qr_channels_on_attributed(session, member, channel, model):
    if model == "first" and member is not None:
        crm_tags_record_facts(session, member.id, {"channel": str(channel.id)})


@hookimpl
def crm_tags_award_points(session, member_id, points, reason, ref):
    from siyu_crm_tags import points as points_mod

    return points_mod.credit(session, config.load(session), member_id, points, "award", reason,
                             f"award:{ref}").id


@hookimpl
def crm_tags_spend_points(session, member_id, points, reason, ref):
    from siyu_crm_tags import points as points_mod

    return points_mod.spend(session, member_id, points, reason, f"spend:{ref}").id


@hookimpl
def crm_tags_record_facts(session, member_id, facts):
    stats = stats_mod.lock(session, member_id)
    if stats_mod.apply_facts(stats, dict(facts or {})):
        session.flush()
        rules.apply(session, [member_id], utcnow())


@hookimpl
def broadcast_audiences(session):
    return rights.segment_audiences(session)


@hookimpl
def member_data_export(session, member):
    return rights.export_section(session, member.id)


@hookimpl
def on_member_anonymised(session, member):
    rights.anonymise(session, member.id)
