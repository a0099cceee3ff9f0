"""What crm_tags does after a state change commits: member statistics, levels and rule tags.

They are not money, so the order's transaction (the payment's, above all) only records them
with ``after_commit``, with the figures it saw; the outbox runs these tasks once the change
committed, once each, in order per order (a refund's after its payment's). Points stay in the
state change's transaction (``siyu_crm_tags.points``): they are spent like money.
"""
from __future__ import annotations

from datetime import datetime

from siyu.plugin import after_commit, utcnow

from siyu_crm_tags import config, rules
from siyu_crm_tags import stats as stats_mod

PAID, COMPLETED, REFUNDED, CREATED = ("crm_tags.order_paid", "crm_tags.order_completed", "crm_tags.order_refunded",
                                      "crm_tags.member_created")


def register(register_task) -> None:
    register_task(PAID, order_paid)
    register_task(COMPLETED, order_completed)
    register_task(REFUNDED, order_refunded)
    register_task(CREATED, member_created)


# ---------------------------------------------------------------- recorded in the transaction


def record_paid(kernel, session, order) -> None:
    paid_at = order.paid_at or utcnow()
    after_commit(kernel, session, PAID, key=f"order:{order.id}:paid", order_id=order.id, payload={
        "member_id": order.member_id, "spend": order.total - order.refunded_amount, "paid_at": paid_at.isoformat()})


def record_completed(kernel, session, order) -> None:
    after_commit(kernel, session, COMPLETED, key=f"order:{order.id}:completed", order_id=order.id, payload={
        "member_id": order.member_id, "spend": order.total - order.refunded_amount})


def record_refunded(kernel, session, order, refund) -> None:
    after_commit(kernel, session, REFUNDED, key=f"refund:{refund.id}", order_id=order.id, payload={
        "member_id": order.member_id, "amount": refund.amount, "total": order.total,
        "refunded": order.refunded_amount, "completed": order.completed_at is not None})


def record_member_created(kernel, session, member) -> None:
    after_commit(kernel, session, CREATED, key=f"member:{member.id}:created", payload={"member_id": member.id})


# ------------------------------------------------------------------- run after the commit


def order_paid(kernel, session, payload) -> None:
    # A paid order counts for the bands, segments and rule tags at once; toward levels only once
    # it is completed (order_completed), so nothing is counted twice.
    cfg, ordered_levels = config.load(session), stats_mod.levels(session)
    stats_mod.order_paid(session, cfg, payload["member_id"], int(payload["spend"]),
                         datetime.fromisoformat(payload["paid_at"]), ordered_levels)
    rules.apply(session, [payload["member_id"]], utcnow())


def order_completed(kernel, session, payload) -> None:
    cfg, ordered_levels = config.load(session), stats_mod.levels(session)
    stats_mod.order_completed(session, cfg, payload["member_id"], int(payload["spend"]), ordered_levels)


def order_refunded(kernel, session, payload) -> None:
    cfg, ordered_levels = config.load(session), stats_mod.levels(session)
    stats_mod.order_refunded(session, cfg, payload["member_id"], int(payload["amount"]), total=int(payload["total"]),
                             refunded=int(payload["refunded"]), completed=bool(payload["completed"]),
                             ordered_levels=ordered_levels)
    rules.apply(session, [payload["member_id"]], utcnow())


def member_created(kernel, session, payload) -> None:
    member_id = payload["member_id"]
    stats = stats_mod.lock(session, member_id)
    stats.channel = stats_mod.first_channel(session, member_id) or stats.channel
    rules.apply(session, [member_id], utcnow())
