"""Hooks the coupons plugin offers other plugins (added with ``register_hookspecs``).

Call them with ``call_service(kernel, "coupons_issue", ...)``: it answers ``NOT_AVAILABLE``
when the plugin is not enabled.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from siyu.plugin import hookspec

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.orm import Session


@hookspec(firstresult=True)
def coupons_issue(session: "Session", member_id: int, template_code: str, reason: str,
                  ref: str | None) -> list[int] | None:
    """Give a member a coupon, e.g. a check-in streak reward: returns the ids of the coupons
    issued (``[]`` when none was).

    ``template_code`` is the coupon's code in the back office; ``reason`` a short text shown
    to the owner ("7-day streak"); ``ref`` makes it idempotent: the same
    (coupon, member, ref) issues once and a repeat returns the first coupon's id. Quantity,
    per-member limit, the active flag and the end date are respected; a refusal (sold out,
    limit reached, unknown code) issues nothing and never raises, so the caller's action
    still succeeds. Runs inside the caller's transaction (a savepoint of its own).
    """
