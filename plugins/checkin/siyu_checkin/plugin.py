"""Entry point of the checkin plugin (group ``siyu``, name ``checkin``): wiring only."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from siyu.plugin import post_outbound, Conversation, hookimpl, lazy_gettext as _l, Member, NotFound
from siyu_checkin import config, hookspecs, service
from siyu_checkin import models  # noqa: F401 - the tables join the shared metadata

HERE = Path(__file__).resolve().parent


@hookimpl
def register_hookspecs(pm):
    pm.add_hookspecs(hookspecs)


@hookimpl
def register_migrations(register):
    register(config.NAME, str(HERE / "migrations" / "versions"))


@hookimpl
def register_translations(register):
    register(str(HERE / "translations"))


@hookimpl
def register_settings_schemas(register):
    register(config.NAME, config.CheckinSettings)


@hookimpl
def register_blueprints(register):
    from siyu_checkin.web import admin, storefront

    register(storefront.bp)
    register(admin.bp)


@hookimpl
def register_commands(cli):
    from siyu_checkin.web.commands import checkin_group

    cli.add_command(checkin_group)


@hookimpl
def register_jobs(register):
    from siyu_checkin.web.commands import remind_job

    # Every 5 minutes: the shortest lead time a shop may set (reminder_minutes ≥ 5) still gets one run.
    register("checkin.remind", remind_job, retries=1, every_minutes=5,
             label=_l("Check-in reminders before contact windows close"))


@hookimpl
def register_admin_menu(register):
    register("checkin_admin.index", _l("Check-in"), role="agent", order=70)


@hookimpl
def register_dashboard_widgets(register):
    from siyu_checkin.web.widgets import checkin_widget

    register("checkin", _l("Daily check-in"), checkin_widget, role="owner", order=45)


@hookimpl
def register_stylesheets(register):
    register("checkin.static", "checkin.css")


@hookimpl
def register_nav_links(register):
    register("checkin.calendar", _l("Check in"), css_class="checkin-link")


@hookimpl
def storefront_slot(slot, context):
    from siyu_checkin.web import storefront

    return storefront.slot(slot, context)


# ------------------------------------------------------------------- conversations


@hookimpl
def on_message_received(kernel, session, message, member):
    """A chat message that is exactly a keyword (签到, checkin…) checks the member in."""
    text = (message.body or "").strip().lower()
    if not text or len(text) > 40 or text not in config.load(session).keywords:
        return
    from siyu_checkin.text import outcome_message

    conversation = session.get(Conversation, message.conversation_id)
    outcome = service.check_in(kernel, session, member, conversation.channel, message.created_at)
    post_outbound(kernel, session, conversation, body=outcome_message(outcome), now=message.created_at)


@hookimpl
def checkin_perform(kernel, session, member_id, channel, at):
    from siyu_checkin.text import outcome_dict

    member = session.get(Member, member_id)
    if member is None:
        raise NotFound(_l("We could not find that member."))
    return outcome_dict(service.check_in(kernel, session, member, channel, at))


# ------------------------------------------------------------------- member rights


@hookimpl
def member_data_export(session, member):
    from siyu_checkin.models import Checkin, CheckinMember, CheckinReward

    stats = session.get(CheckinMember, member.id)
    days = session.scalars(select(Checkin).where(Checkin.member_id == member.id).order_by(Checkin.local_date))
    rewards = session.scalars(select(CheckinReward).where(CheckinReward.member_id == member.id)
                              .order_by(CheckinReward.id))
    return {"checkin": {
        "current_streak": stats.current_streak if stats else 0, "best_streak": stats.best_streak if stats else 0,
        "days": [{"date": c.local_date.isoformat(), "kind": c.kind, "channel": c.channel} for c in days],
        "rewards": [{"kind": r.kind, "points": r.points, "coupon": r.coupon, "status": r.status,
                     "at": r.created_at.isoformat()} for r in rewards],
    }}
