"""Hooks the check-in plugin offers other plugins (added with ``register_hookspecs``).

They exist only while checkin is enabled: check ``hasattr(pm.hook, "checkin_perform")``
before calling, and mark implementations ``@hookimpl(optionalhook=True)``.
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
    ``kernel.hook.checkin_perform(kernel=kernel, session=s, member_id=7, channel="wechat", at=None)``.

    Records the check-in for the shop's current local day (once: a repeat answers
    ``status="already"``), gives the day's rewards and records a ``checkin`` interaction
    on ``channel`` so its contact window reopens. Returns ``{"status": "checked_in" |
    "already", "local_date": "2026-05-01", "streak": 3, "best": 9, "message": "..."}``.
    Runs in the caller's transaction; it raises ``ValidationError`` for an inactive member.
    Answered by checkin.
    """


@hookspec
def on_checkin(session: "Session", member_id: int, checkin: Any) -> None:
    """A member checked in (``checkin.kind`` is ``daily``) or made up a missed day
    (``makeup``); ``checkin.local_date`` and ``checkin.streak`` are set.

    In the check-in's transaction: raising aborts it and nothing is recorded.
    """


# Make-up check-ins spend points through ``crm_spend_points``, specified by the points
# plugin (crm_tags); without it the hook does not exist and make-ups are refused.


OWN = ("checkin_perform", "on_checkin")
SHARED: tuple[str, ...] = ()


class _Specs:
    """The subset of specs to add to one plugin manager."""


def add_to(pm) -> None:
    """Add this module's specs, skipping shared ones another plugin has specified already
    (pluggy refuses a second specification of a name)."""
    specs = type("CheckinSpecs", (_Specs,), {})
    for name in OWN + SHARED:
        caller = getattr(pm.hook, name, None)
        if caller is not None and caller.has_spec():
            continue
        setattr(specs, name, staticmethod(globals()[name]))
    pm.add_hookspecs(specs)
