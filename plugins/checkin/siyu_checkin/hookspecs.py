"""Hooks the check-in plugin offers other plugins (added with ``register_hookspecs``).

They exist only while checkin is enabled: call them with
``call_service(kernel, "checkin_perform", ...)`` (it answers ``NOT_AVAILABLE`` otherwise),
and mark implementations ``@hookimpl(optionalhook=True)``.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Mapping

from siyu.plugin import hookspec

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.orm import Session


@hookspec(firstresult=True)
def checkin_perform(kernel: Any, session: "Session", member_id: int, channel: str,
                    at: datetime | None) -> Mapping[str, Any] | None:
    """Check a member in from a channel adapter (a WeChat menu click, a mini-program...):
    ``call_service(kernel, "checkin_perform", session=s, member_id=7,
    channel="wechat", at=None)``.

    Records the check-in for the shop's current local day (once: a repeat answers
    ``status="already"``), gives the day's rewards and records a ``checkin`` interaction
    on ``channel`` so its contact window reopens. Returns ``{"status": "checked_in" |
    "already", "local_date": "2026-05-01", "streak": 3, "best": 9, "message": "..."}``.
    Part of the caller's unit of work when one is open (else its own); it raises
    ``ValidationError`` for an inactive member. Answered by checkin.
    """


@hookspec
def checkin_on_checked_in(kernel: Any, session: "Session", member_id: int, checkin: Any) -> None:
    """A member checked in (``checkin.kind`` is ``daily``) or made up a missed day
    (``makeup``); ``checkin.local_date`` and ``checkin.streak`` are set.

    In the check-in's transaction: raising aborts it and nothing is recorded.
    """


# Make-up check-ins spend points through ``crm_tags_spend_points``, offered by the points
# plugin (crm_tags); without it ``call_service`` answers NOT_AVAILABLE and make-ups are refused.
