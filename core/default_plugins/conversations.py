"""The core's conversation pieces as a plugin: the web channel, the "all members"
audience, the broadcast job, payments recorded as member interactions (after the payment
commits: a contact window is not money) and the delivery of notices to external channels."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from siyu.core import hookimpl
from siyu.core.broadcasts import Audience, run_broadcast
from siyu.core.channels import WEB, Channel, aware_now
from siyu.core.conversations import record_interaction
from siyu.core.i18n import lazy_gettext as _l
from siyu.core.models import Member
from siyu.core.outbox import after_commit

PAYMENT_INTERACTION = "siyu.payment_interaction"


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


@hookimpl(trylast=True)
def register_outbox_tasks(register):
    from siyu.core.notices import DELIVER, deliver

    register(PAYMENT_INTERACTION, payment_interaction)
    register(DELIVER, deliver)


@hookimpl
def on_order_paid(kernel, session, order, payment):
    # A payment is an interaction: on a messaging channel it reopens the contact window. Not
    # money: recorded after the payment commits, at the time the order was paid.
    at = order.paid_at or aware_now(None)
    after_commit(kernel, session, PAYMENT_INTERACTION, key=f"order:{order.id}:paid",
                 payload={"member_id": order.member_id, "at": at.isoformat()}, order_id=order.id)


def payment_interaction(kernel, session, payload):
    member = session.get(Member, payload["member_id"])
    if member is not None:
        record_interaction(kernel, session, member, "payment", WEB, datetime.fromisoformat(payload["at"]))
