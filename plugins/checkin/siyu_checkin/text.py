"""What a member is told after a check-in, in the page, the chat or a channel adapter."""
from __future__ import annotations

from siyu.plugin import gettext
from siyu_checkin.service import ALREADY, Outcome


def outcome_message(outcome: Outcome) -> str:
    if outcome.status == ALREADY:
        return gettext("You have already checked in today. Streak: %(n)d days.", n=outcome.streak)
    parts = [gettext("Checked in! Streak: %(n)d days.", n=outcome.streak)]
    points = outcome.points
    if points:
        parts.append(gettext("+%(n)d points.", n=points))
    coupons = [r.coupon for r in outcome.rewards if r.kind == "coupon" and r.status == "delivered"]
    if coupons:
        parts.append(gettext("A coupon is waiting for you."))
    return " ".join(parts)


def outcome_dict(outcome: Outcome) -> dict:
    return {"status": outcome.status, "local_date": outcome.local_date.isoformat(), "streak": outcome.streak,
            "best": outcome.best, "points": outcome.points, "message": outcome_message(outcome),
            "rewards": [{"kind": r.kind, "reason": r.reason, "points": r.points, "coupon": r.coupon,
                         "status": r.status} for r in outcome.rewards]}
