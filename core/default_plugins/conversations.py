"""The core's conversation pieces as a plugin: the web channel, the "all members"
audience, the broadcast job, and payments recorded as member interactions."""
from __future__ import annotations

from sqlalchemy import select

from siyu.core import hookimpl
from siyu.core.broadcasts import Audience, run_broadcast
from siyu.core.channels import WEB, Channel
from siyu.core.conversations import record_interaction
from siyu.core.i18n import lazy_gettext as _l
from siyu.core.models import Member


@hookimpl(trylast=True)
def register_channels(register):
    register(Channel(name=WEB, label=_l("Web chat"), policy=None))


@hookimpl(trylast=True)
def broadcast_audiences(session):
    return [Audience("all", _l("All active members"),
                     lambda s: s.scalars(select(Member.id).where(Member.active.is_(True))))]


@hookimpl(trylast=True)
def register_jobs(register):
    register("broadcast", run_broadcast)


@hookimpl
def on_order_paid(kernel, session, order, payment):
    # A payment is an interaction: on a messaging channel it reopens the contact window.
    member = session.get(Member, order.member_id)
    if member is not None:
        record_interaction(kernel, session, member, "payment", WEB)
