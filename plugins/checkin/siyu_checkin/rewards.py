"""Rewards for a check-in: what the schedule gives, and delivery through other plugins' hooks.

Points go through ``crm_tags_award_points`` (crm_tags), coupons through ``coupons_issue``
(coupons); this plugin imports neither. Each reward is delivered inside a savepoint: a
missing or failing rewards plugin never stops the check-in itself, and the reward row
says what happened. Rewards never depend on sharing anything (platform rules).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from siyu.plugin import NOT_AVAILABLE, PluginError, call_service

from siyu_checkin.config import Config
from siyu_checkin.models import Checkin, CheckinReward

log = logging.getLogger("siyu.checkin")
NO_PLUGIN = "not delivered: no rewards plugin"


@dataclass(frozen=True)
class Planned:
    kind: str  # points | coupon
    reason: str  # daily | bonus
    points: int = 0
    coupon: str = ""


def reward_day(streak: int, cycle_days: int) -> int:
    """The day of the schedule a streak is on: the streak itself, or its place in the cycle."""
    if cycle_days and streak > cycle_days:
        return (streak - 1) % cycle_days + 1
    return streak


def planned(cfg: Config, streak: int) -> list[Planned]:
    day = reward_day(streak, cfg.cycle_days)
    found = []
    if cfg.daily_points:
        found.append(Planned("points", "daily", points=cfg.daily_points))
    if cfg.bonus_points.get(day):
        found.append(Planned("points", "bonus", points=int(cfg.bonus_points[day])))
    if cfg.bonus_coupons.get(day):
        found.append(Planned("coupon", "bonus", coupon=str(cfg.bonus_coupons[day])))
    return found


def _deliver(kernel, session: Session, reward: CheckinReward) -> tuple[str, str]:
    hook_name = "crm_tags_award_points" if reward.kind == "points" else "coupons_issue"
    reason = "check-in bonus" if reward.reason == "bonus" else "check-in"
    what = {"points": reward.points} if reward.kind == "points" else {"template_code": reward.coupon}
    try:
        with session.begin_nested():
            result = call_service(kernel, hook_name, session=session, member_id=reward.member_id, reason=reason,
                                  ref=reward.ref, **what)
    except Exception as exc:  # noqa: BLE001 - a rewards plugin must not undo the check-in
        cause = exc.__cause__ if isinstance(exc, PluginError) and exc.__cause__ is not None else exc
        log.warning("check-in reward %s failed in %s: %s", reward.ref, hook_name, exc)
        return "failed", f"{type(cause).__name__}: {getattr(cause, 'message', cause)}"[:200]
    if result is NOT_AVAILABLE:
        return "not_delivered", NO_PLUGIN
    if result is None or result == []:  # e.g. an unknown or sold-out coupon: nothing was given
        return "not_delivered", f"not delivered: {hook_name} gave nothing"
    return "delivered", ""


def grant(kernel, session: Session, cfg: Config, checkin: Checkin) -> list[CheckinReward]:
    """Write and deliver the rewards of one daily check-in (in its transaction)."""
    rows = []
    for n, plan in enumerate(planned(cfg, checkin.streak)):
        ref = f"checkin:{checkin.member_id}:{checkin.local_date.isoformat()}:{plan.reason}:{plan.kind}:{n}"
        reward = CheckinReward(checkin_id=checkin.id, member_id=checkin.member_id, kind=plan.kind,
                               points=plan.points, coupon=plan.coupon, reason=plan.reason, ref=ref,
                               status="pending")
        session.add(reward)
        session.flush()
        reward.status, reward.note = _deliver(kernel, session, reward)
        rows.append(reward)
    session.flush()
    return rows


def retry(kernel, session: Session, limit: int = 500) -> int:
    """Deliver again rewards that failed or found no plugin (the hooks are idempotent by
    ``ref``); returns how many are delivered now. Call inside a write transaction."""
    delivered = 0
    for reward in session.scalars(select(CheckinReward).where(CheckinReward.status.in_(("failed", "not_delivered")))
                                  .order_by(CheckinReward.id).limit(limit).with_for_update()):
        reward.status, reward.note = _deliver(kernel, session, reward)
        delivered += reward.status == "delivered"
    session.flush()
    return delivered
