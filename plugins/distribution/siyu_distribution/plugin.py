"""The distribution plugin's hook implementations (entry point ``distribution``)."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext
from markupsafe import Markup

from siyu.plugin import hookimpl, lazy_gettext as _l

from siyu_distribution import accrual, config, distributors, hookspecs, models  # noqa: F401
from siyu_distribution import attribution as referrals
from siyu_distribution import ledger  # noqa: F401  (installs the append-only guards)

HERE = Path(__file__).resolve().parent


@hookimpl
def register_hookspecs(pm):
    pm.add_hookspecs(hookspecs)


@hookimpl
def register_blueprints(register):
    from siyu_distribution.views import admin_money, admin_people, admin_training, center, referral  # noqa: F401
    from siyu_distribution.views.blueprints import admin_bp, bp

    register(bp)
    register(admin_bp, url_prefix="/admin/distribution")


@hookimpl
def register_migrations(register):
    register("distribution", str(HERE / "migrations" / "versions"))


@hookimpl
def register_translations(register):
    register(str(HERE / "translations"))


@hookimpl
def register_settings_schemas(register):
    register(config.NAME, config.SettingsSchema)


@hookimpl
def register_commands(cli):
    @cli.group("distribution")
    def group():
        """Distribution: commission jobs."""

    @group.command("release")
    @with_appcontext
    @click.option("--limit", default=1000, show_default=True, help="orders per run")
    def release(limit):
        """Make commission payable once the return window has passed (the worker does it daily)."""
        from siyu.plugin.web import db

        moved = accrual.release_due(db(), config.load(db()), limit=limit)
        click.echo(f"released {moved} commission entries")


def release_job(kernel) -> int:
    """The worker's daily run of ``flask siyu distribution release``: every due entry, in rounds."""
    session = kernel.db.Session()
    try:
        total = 0
        for _ in range(1000):  # bounded: each round moves what became due, the last moves none
            moved = accrual.release_due(session, config.load(session))
            total += moved
            if not moved:
                break
        return total
    finally:
        session.close()


@hookimpl
def register_jobs(register):
    # Commission waits days (the return window): one run a day, at night in the shop's time.
    register("distribution.release", release_job, retries=3, retry_delay=300, daily_at="03:30",
             label=_l("Release commission past the return window"))


@hookimpl
def on_demo_seeded(kernel, session):
    from siyu_distribution import demo

    demo.seed(kernel, session)


@hookimpl
def attribution_from_request(args, session):
    code = args.get("ref")
    if code and distributors.approved_link(session, code) is not None:
        return [(referrals.TOUCH_SOURCE, code)]
    return None


@hookimpl
def request_attribution(session):
    """The verified referral cookie of this request, for the sign-up and checkout hooks below."""
    from siyu_distribution.views import referral

    ref = referral.current_ref(config.load(session))
    return {"distribution": ref} if ref is not None else None


@hookimpl
def on_member_created(session, member, attribution):
    referrals.bind(session, member.id, config.load(session), cookie=attribution.get("distribution"))


@hookimpl
def on_order_placed(session, order, attribution):
    referrals.attribute_order(session, order, config.load(session), cookie=attribution.get("distribution"))


@hookimpl
def on_order_paid(session, order):
    accrual.accrue(session, order, config.load(session))


@hookimpl
def on_order_refunded(session, order, refund):
    accrual.reverse(session, order, refund)


@hookimpl
def register_admin_menu(register):
    register("distribution_admin.distributors", _l("Distribution"), role="owner", order=60)


@hookimpl
def register_dashboard_widgets(register):
    from siyu_distribution.views.admin_people import dashboard_widget

    register("distribution", _l("Distribution"), dashboard_widget, role="owner", order=60)


@hookimpl
def admin_member_panel(member, session, staff):
    from siyu_distribution.views.admin_people import member_panel

    return member_panel(member, session, staff)


@hookimpl
def admin_order_panel(order, session, staff):
    from siyu_distribution.views.admin_order import order_panel

    return order_panel(order, session, staff)


@hookimpl
def register_nav_links(register):
    register("distribution.center", _l("Distributor center"))


@hookimpl
def storefront_slot(slot, context):
    if slot != "account_panel":
        return None
    from flask import url_for
    from flask_babel import gettext as _
    from flask_login import current_user

    if not current_user.is_authenticated:
        return None
    return Markup('<a href="{}">{}</a>').format(url_for("distribution.center"), _("Distributor center"))
